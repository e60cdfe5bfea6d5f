package httpsig

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// A small, strict reader for the RFC 8941 Structured Field dictionaries
// RFC 9421 and RFC 9530 use: Signature-Input (inner lists of component
// names with parameters), Signature and Content-Digest (byte sequences).
// Duplicate dictionary keys are refused rather than "last wins", and
// component identifiers with parameters (;sf, ;key, ;bs, ;req, ;name) are
// refused as unsupported.

var errSF = errors.New("malformed structured field")

type param struct {
	name  string
	str   string // sf-string or token value
	num   int64
	isNum bool
	isStr bool // sf-string (quoted), as opposed to a token
}

type member struct {
	name   string
	inner  bool
	items  []string // inner list: the component identifiers
	bytes  []byte   // byte-sequence item
	params []param
}

func parseDict(s string) ([]member, error) {
	var out []member
	i := skipSP(s, 0)
	if i == len(s) {
		return nil, errSF
	}
	for {
		name, j, err := parseKey(s, i)
		if err != nil {
			return nil, err
		}
		for _, m := range out {
			if m.name == name {
				return nil, errSF
			}
		}
		m := member{name: name}
		if j >= len(s) || s[j] != '=' {
			return nil, errSF // boolean true members are not used here
		}
		j++
		if j < len(s) && s[j] == '(' {
			m.inner = true
			if m.items, j, err = parseInner(s, j); err != nil {
				return nil, err
			}
		} else if j < len(s) && s[j] == ':' {
			if m.bytes, j, err = parseBytes(s, j); err != nil {
				return nil, err
			}
		} else {
			return nil, errSF
		}
		if m.params, j, err = parseParams(s, j); err != nil {
			return nil, err
		}
		out = append(out, m)
		j = skipOWS(s, j)
		if j == len(s) {
			return out, nil
		}
		if s[j] != ',' {
			return nil, errSF
		}
		j = skipOWS(s, j+1)
		if j == len(s) {
			return nil, errSF // trailing comma
		}
		i = j
	}
}

func skipSP(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

func parseKey(s string, i int) (string, int, error) {
	if i >= len(s) || !(isLCAlpha(s[i]) || s[i] == '*') {
		return "", i, errSF
	}
	j := i + 1
	for j < len(s) && (isLCAlpha(s[j]) || isDigit(s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.' || s[j] == '*') {
		j++
	}
	return s[i:j], j, nil
}

func parseInner(s string, i int) ([]string, int, error) {
	i++ // (
	var items []string
	for {
		i = skipSP(s, i)
		if i >= len(s) {
			return nil, i, errSF
		}
		if s[i] == ')' {
			return items, i + 1, nil
		}
		if len(items) > 0 && s[i-1] != ' ' {
			return nil, i, errSF // items are separated by at least one space
		}
		if s[i] != '"' {
			return nil, i, errSF
		}
		v, j, err := parseString(s, i)
		if err != nil {
			return nil, j, err
		}
		if j < len(s) && s[j] == ';' {
			return nil, j, errUnsupportedComponent
		}
		items = append(items, v)
		i = j
		if len(items) > 64 {
			return nil, i, errSF
		}
	}
}

func parseString(s string, i int) (string, int, error) {
	i++ // opening quote
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", i, errSF
			}
			b.WriteByte(s[i+1])
			i += 2
		case c == '"':
			return b.String(), i + 1, nil
		case c < 0x20 || c > 0x7e:
			return "", i, errSF
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", i, errSF
}

func parseBytes(s string, i int) ([]byte, int, error) {
	end := strings.IndexByte(s[i+1:], ':')
	if end < 0 {
		return nil, i, errSF
	}
	raw := s[i+1 : i+1+end]
	b, err := base64.StdEncoding.Strict().DecodeString(raw)
	if err != nil || strings.ContainsAny(raw, "\r\n") {
		return nil, i, errSF
	}
	return b, i + end + 2, nil
}

func parseParams(s string, i int) ([]param, int, error) {
	var out []param
	for i < len(s) && s[i] == ';' {
		i = skipSP(s, i+1)
		name, j, err := parseKey(s, i)
		if err != nil {
			return nil, j, err
		}
		for _, p := range out {
			if p.name == name {
				return nil, j, errSF
			}
		}
		p := param{name: name}
		if j >= len(s) || s[j] != '=' {
			return nil, j, errSF // boolean params are not used by RFC 9421
		}
		j++
		switch {
		case j < len(s) && s[j] == '"':
			if p.str, j, err = parseString(s, j); err != nil {
				return nil, j, err
			}
			p.isStr = true
		case j < len(s) && (isDigit(s[j]) || s[j] == '-'):
			k := j
			if s[k] == '-' {
				k++
			}
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k < len(s) && s[k] == '.' {
				return nil, k, errSF // decimals are not used by RFC 9421
			}
			if k-j > 15 || k == j || (s[j] == '-' && k == j+1) {
				return nil, k, errSF
			}
			n, err := strconv.ParseInt(s[j:k], 10, 64)
			if err != nil {
				return nil, k, errSF
			}
			p.num, p.isNum, j = n, true, k
		case j < len(s) && (s[j] >= 'A' && s[j] <= 'Z' || isLCAlpha(s[j]) || s[j] == '*'):
			k := j + 1
			for k < len(s) && isTokenChar(s[k]) {
				k++
			}
			p.str, j = s[j:k], k
		default:
			return nil, j, errSF
		}
		out = append(out, p)
		i = j
	}
	return out, i, nil
}

// serialize writes the inner list and parameters canonically: the
// "@signature-params" value of the signature base.
func (m *member) serialize() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range m.items {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeString(&b, it)
	}
	b.WriteByte(')')
	for _, p := range m.params {
		b.WriteByte(';')
		b.WriteString(p.name)
		b.WriteByte('=')
		switch {
		case p.isNum:
			b.WriteString(strconv.FormatInt(p.num, 10))
		case p.isStr:
			writeString(&b, p.str)
		default:
			b.WriteString(p.str)
		}
	}
	return b.String()
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// isTokenChar: RFC 8941 token characters after the first (tchar, ":", "/").
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}
