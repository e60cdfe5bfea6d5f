package jwt

import (
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/keys"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
)

// Refusals of the token format, declared once so the hot path does not
// allocate. Details never contain the token.
var (
	errOversize    = provider.NewError(provider.ReasonOversize, "token longer than max_token_bytes")
	errShape       = provider.NewError(provider.ReasonMalformed, "token is not three base64url segments")
	errBase64      = provider.NewError(provider.ReasonMalformed, "token segment is not unpadded canonical base64url")
	errHeaderJSON  = provider.NewError(provider.ReasonMalformed, "token header is not a strict JSON object")
	errPayloadJSON = provider.NewError(provider.ReasonMalformed, "token payload is not a strict JSON object")
	errNoAlg       = provider.NewError(provider.ReasonMalformed, "token header has no string alg")
	errKidType     = provider.NewError(provider.ReasonMalformed, "token header kid is not a string")
	errCrit        = provider.NewError(provider.ReasonMalformed, "token header uses crit, b64 or zip, which are not supported")
)

// scratch is a provider's working memory for one verification, reused by
// the next: a VM is single-threaded (see Provider). Everything parsed
// from a token points into it, so nothing that outlives Verify may keep a
// slice of it: the Identity holds copies.
type scratch struct {
	buf  []byte         // signing input, then the decoded segments
	text []byte         // unescaped claim and kid values
	obj  jsonobj.Object // the JSON object being read
	flat jsonobj.Flattener
	key  []byte // the replay key
}

// parsed is a compact JWS split and decoded, not yet verified. Its slices
// point into the provider's scratch.
type parsed struct {
	alg          keys.Alg
	hasKid       bool
	kid          []byte
	signingInput []byte // header.payload, exactly as sent
	payload      []byte
	sig          []byte
}

// parseCompact splits and decodes a compact JWS strictly: exactly three
// segments of the base64url alphabet without padding (and with zero
// trailing bits, so one token has one encoding), a header that is a strict
// JSON object with unique members. The payload is only decoded here; the
// claims pass (readClaims) reads it strictly.
func parseCompact(tok string, max int, sc *scratch) (parsed, error) {
	var p parsed
	if len(tok) > max {
		return p, errOversize
	}
	// The decoder refuses every byte outside the base64url alphabet, so
	// the dots are all that is looked for here; a failed decode then tells
	// a malformed shape from bad base64 (badShape).
	d1 := strings.IndexByte(tok, '.')
	if d1 <= 0 {
		return p, errShape
	}
	d2 := strings.IndexByte(tok[d1+1:], '.') + d1 + 1
	if d2 <= d1+1 {
		return p, errShape
	}
	// One reused buffer: the signing input (the verifiers want bytes) and
	// the three decoded segments.
	need := d2 + decodedLen(d1) + decodedLen(d2-d1-1) + decodedLen(len(tok)-d2-1)
	if cap(sc.buf) < need {
		sc.buf = make([]byte, need)
	}
	buf := sc.buf[:need]
	p.signingInput = buf[:d2:d2]
	copy(p.signingInput, tok[:d2])
	rest := buf[d2:]
	hdr, rest, ok := decodeInto(rest, tok[:d1])
	if ok {
		p.payload, rest, ok = decodeInto(rest, tok[d1+1:d2])
	}
	if ok {
		p.sig, _, ok = decodeInto(rest, tok[d2+1:])
	}
	if !ok {
		if badShape(tok) {
			return p, errShape
		}
		return p, errBase64
	}
	if err := readHeader(&p, hdr, sc); err != nil {
		return p, err
	}
	return p, nil
}

// badShape reports a byte outside the base64url alphabet and '.', or a
// third dot: the token is not three base64url segments. Whitespace and
// CR/LF, which a base64 decoder might skip, are among those bytes.
func badShape(tok string) bool {
	dots := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			dots++
		} else if b64Values[tok[i]] == b64Invalid {
			return true
		}
	}
	return dots != 2
}

// decodeInto decodes src into the front of dst and returns the decoded
// bytes (capacity-limited) and the rest of dst.
func decodeInto(dst []byte, src string) (out, rest []byte, ok bool) {
	n, ok := decodeB64URL(dst, src)
	return dst[:n:n], dst[n:], ok
}

// readHeader reads alg and kid. As before this single pass existed, a
// malformed object is errHeaderJSON whatever else is wrong; otherwise the
// first problem in member order (a duplicate name, a bad alg or kid, crit)
// decides. jku, x5u, jwk and x5c are ignored: keys come only from the
// configuration, never from the token.
func readHeader(p *parsed, hdr []byte, sc *scratch) error {
	o := &sc.obj
	o.Reset(hdr)
	var algSeen bool
	var bad error
	for bad == nil && o.Next() {
		name, value, typ := o.Name(), o.Value(), o.Type()
		switch string(name) {
		case "alg":
			if typ != jsonparser.String {
				bad = errNoAlg
				break
			}
			algSeen = true
			// Any escape makes it unknown, which refuses it: real algs are ASCII.
			p.alg = keys.ParseAlgBytes(value)
		case "kid":
			if typ != jsonparser.String {
				bad = errKidType
				break
			}
			from := len(sc.text)
			sc.text = jsonobj.AppendString(sc.text, value)
			p.hasKid, p.kid = true, sc.text[from:]
		case "crit", "b64", "zip":
			bad = errCrit
		}
	}
	if o.Finish() != nil {
		return errHeaderJSON
	}
	if bad != nil {
		return bad
	}
	if !algSeen {
		return errNoAlg
	}
	return nil
}
