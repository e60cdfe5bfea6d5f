package jwt

import (
	"encoding/base64"

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

var b64 = base64.RawURLEncoding.Strict()

// parsed is a compact JWS split and decoded, not yet verified.
type parsed struct {
	alg          keys.Alg
	hasKid       bool
	kid          string
	signingInput string // header.payload, exactly as sent
	payload      []byte
	sig          []byte
}

// parseCompact splits and decodes a compact JWS strictly: exactly three
// segments of the base64url alphabet without padding (and with zero
// trailing bits, so one token has one encoding), a header and a payload
// that are strict JSON objects with unique members.
func parseCompact(tok string, max int) (parsed, error) {
	var p parsed
	if len(tok) > max {
		return p, errOversize
	}
	d1, d2 := -1, -1
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return p, errShape
			}
		default:
			// Also refuses whitespace and CR/LF, which the base64 decoder
			// would silently skip.
			return p, errShape
		}
	}
	if d1 <= 0 || d2 <= d1+1 {
		return p, errShape
	}
	// One buffer for the three decoded segments: one allocation per token.
	buf := make([]byte, b64.DecodedLen(len(tok)))
	hn, err := b64.Decode(buf, []byte(tok[:d1]))
	if err != nil {
		return p, errBase64
	}
	hdr := buf[:hn:hn]
	rest := buf[hn:]
	pn, err := b64.Decode(rest, []byte(tok[d1+1:d2]))
	if err != nil {
		return p, errBase64
	}
	p.payload = rest[:pn:pn]
	rest = rest[pn:]
	sn, err := b64.Decode(rest, []byte(tok[d2+1:]))
	if err != nil {
		return p, errBase64
	}
	p.sig = rest[:sn:sn]
	p.signingInput = tok[:d2]
	var algSeen bool
	var bad error
	err = jsonobj.Each(hdr, func(name, value []byte, typ jsonparser.ValueType) error {
		switch string(name) {
		case "alg":
			if typ != jsonparser.String {
				bad = errNoAlg
				return bad
			}
			algSeen = true
			// Any escape makes it unknown, which refuses it: real algs are ASCII.
			p.alg = keys.ParseAlgBytes(value)
		case "kid":
			if typ != jsonparser.String {
				bad = errKidType
				return bad
			}
			s, err := jsonparser.ParseString(value)
			if err != nil {
				bad = errKidType
				return bad
			}
			p.hasKid, p.kid = true, s
		case "crit", "b64", "zip":
			bad = errCrit
			return bad
		}
		// jku, x5u, jwk and x5c are ignored: keys come only from the
		// configuration, never from the token.
		return nil
	})
	if bad != nil {
		return p, bad
	}
	if err != nil {
		return p, errHeaderJSON
	}
	if !algSeen {
		return p, errNoAlg
	}
	if jsonobj.ValidateObject(p.payload) != nil {
		return p, errPayloadJSON
	}
	return p, nil
}
