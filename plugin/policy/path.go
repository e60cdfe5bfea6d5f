package policy

import (
	"unicode/utf8"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Refusals of NormalisePath. All map to 400 bad_request.
var (
	errPathNotAbsolute  = provider.NewError(provider.ReasonBadRequest, "path is not absolute")
	errPathFragment     = provider.NewError(provider.ReasonBadRequest, "fragment in path")
	errPathEscape       = provider.NewError(provider.ReasonBadRequest, "invalid percent-encoding in path")
	errPathEncodedSlash = provider.NewError(provider.ReasonBadRequest, "encoded slash or backslash in path")
	errPathEncodedDelim = provider.NewError(provider.ReasonBadRequest, "encoded ? or # in path")
	errPathBackslash    = provider.NewError(provider.ReasonBadRequest, "backslash in path")
	errPathControl      = provider.NewError(provider.ReasonBadRequest, "NUL or control character in path")
	errPathDoubleEnc    = provider.NewError(provider.ReasonBadRequest, "double percent-encoding in path")
	errPathUTF8         = provider.NewError(provider.ReasonBadRequest, "invalid UTF-8 in path")
	errPathAboveRoot    = provider.NewError(provider.ReasonBadRequest, "path climbs above the root")
	errPathTooLong      = provider.NewError(provider.ReasonBadRequest, "path too long")
)

// MaxPathLength bounds the :path the policy will look at (bytes).
const MaxPathLength = 8192

// SplitPath splits a :path into the part before the first '?' and the
// query after it (without the '?').
func SplitPath(raw string) (path, query string) {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '?' {
			return raw[:i], raw[i+1:]
		}
	}
	return raw, ""
}

// NormalisePath turns the path part of :path (no query) into the form rules
// are matched on, or refuses it with a bad_request *provider.Error.
//
// What it does, in order:
//
//  1. refuses anything that does not start with '/', contains '#', a raw
//     backslash, or a raw NUL/control byte;
//  2. percent-decodes every %XX once; refuses malformed escapes, an encoded
//     '/' or '\' (%2F, %5C: upstreams disagree on them), a decoded NUL or
//     control byte, and double encoding (%25 followed by two hex digits);
//  3. refuses bytes that are not valid UTF-8;
//  4. cuts path parameters: everything from ';' to the end of a segment
//     ("/admin;jsessionid=x" is "/admin", "/..;/admin" is "/../admin");
//  5. drops empty segments ("//") and "." segments, resolves ".."
//     (refusing to climb above the root);
//  6. removes the trailing slash ("/a/" matches like "/a"; "/" stays "/");
//  7. lower-cases the result when foldCase is set (for case-insensitive
//     upstreams).
//
// Upstream servers that decode differently can still see a different path
// than the one matched; the remedy is the default-deny rule list plus
// Envoy's own normalize_path / merge_slashes options.
func NormalisePath(p string, foldCase bool) (string, error) {
	if len(p) > MaxPathLength {
		return "", errPathTooLong
	}
	if p == "" || p[0] != '/' {
		return "", errPathNotAbsolute
	}
	// Pass 1: decode into buf, validating raw and decoded bytes.
	buf := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '#':
			return "", errPathFragment
		case c == '\\':
			return "", errPathBackslash
		case c < 0x20 || c == 0x7f:
			return "", errPathControl
		case c == '%':
			if i+2 >= len(p) {
				return "", errPathEscape
			}
			hi, ok1 := unhex(p[i+1])
			lo, ok2 := unhex(p[i+2])
			if !ok1 || !ok2 {
				return "", errPathEscape
			}
			d := hi<<4 | lo
			switch {
			case d == '/' || d == '\\':
				return "", errPathEncodedSlash
			case d == '?' || d == '#':
				// Decoded, they would end the path for any upstream that
				// re-parses it (/admin%3F matched as "/admin?" but served
				// as /admin), and the normal form would not be stable.
				return "", errPathEncodedDelim
			case d < 0x20 || d == 0x7f:
				return "", errPathControl
			case d == '%' && i+4 < len(p) && isHex(p[i+3]) && isHex(p[i+4]):
				return "", errPathDoubleEnc
			}
			buf = append(buf, d)
			i += 2
		default:
			buf = append(buf, c)
		}
	}
	if !utf8.Valid(buf) {
		return "", errPathUTF8
	}
	// Pass 2: segments, in place. out grows behind the read position.
	out := buf[:0]
	out = append(out, '/')
	var segStarts [64]int // stack of segment starts in out (bounded; deeper paths fall back to a slice)
	stack := segStarts[:0]
	for i := 1; i <= len(buf); {
		j := i
		for j < len(buf) && buf[j] != '/' {
			j++
		}
		seg := buf[i:j]
		for k, c := range seg {
			if c == ';' {
				seg = seg[:k]
				break
			}
		}
		i = j + 1
		switch {
		case len(seg) == 0, len(seg) == 1 && seg[0] == '.':
			// "//", "/./" and "/;x/" contribute nothing.
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			if len(stack) == 0 {
				return "", errPathAboveRoot
			}
			out = out[:stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, len(out))
			if len(out) > 1 {
				out = append(out, '/')
			}
			// seg lies at or after the write position, so copy is safe.
			out = append(out, seg...)
		}
	}
	if foldCase {
		for k, c := range out {
			if 'A' <= c && c <= 'Z' {
				out[k] = c + ('a' - 'A')
			}
		}
	}
	if string(out) == p {
		return p, nil // already normal, the common case: no new string
	}
	return string(out), nil
}

func isHex(c byte) bool { _, ok := unhex(c); return ok }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
