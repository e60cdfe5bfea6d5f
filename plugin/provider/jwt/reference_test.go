package jwt

// The parser as it was before the single-pass rewrite (closures over
// jsonparser, encoding/base64), kept as the reference the fuzz targets
// compare the request path against.

import (
	"encoding/base64"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider/keys"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
)

var b64 = base64.RawURLEncoding.Strict()

type refParsed struct {
	alg          keys.Alg
	hasKid       bool
	kid          string
	signingInput string
	payload      []byte
	sig          []byte
}

type refClaims struct {
	client, subject, nonce, issuer  string
	hasClient, hasSubject, hasNonce bool
	time, exp, nbf, iat             int64
	hasTime, hasExp, hasNbf, hasIat bool
	aud                             []byte
	audType                         jsonparser.ValueType
	badType                         error
}

func refStringClaim(v []byte, t jsonparser.ValueType) (string, bool) {
	if t != jsonparser.String {
		return "", false
	}
	s, err := jsonparser.ParseString(v)
	if err != nil || s == "" {
		return "", false
	}
	return s, true
}

func refNonceClaim(v []byte, t jsonparser.ValueType) (string, bool) {
	switch t {
	case jsonparser.String:
		return refStringClaim(v, t)
	case jsonparser.Number:
		f, err := jsonparser.ParseFloat(v)
		if err != nil || f == 0 {
			return "", false
		}
		return "#" + string(v), true
	}
	return "", false
}

func refParseCompact(tok string, max int) (refParsed, error) {
	var p refParsed
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

func (p *Provider) refReadClaims(payload []byte) (refClaims, error) {
	var c refClaims
	err := jsonobj.EachValidated(payload, func(name, value []byte, typ jsonparser.ValueType) error {
		n := string(name)
		// A claim may play several roles (e.g. subject and client).
		if n == p.clientClaim && p.clientClaim != "" {
			c.client, c.hasClient = refStringClaim(value, typ)
		}
		if n == p.subjectClaim {
			c.subject, c.hasSubject = refStringClaim(value, typ)
		}
		if n == p.nonceClaim && p.nonceClaim != "" {
			c.nonce, c.hasNonce = refNonceClaim(value, typ)
		}
		if n == p.timeClaim && p.timeClaim != "" {
			c.time, c.hasTime = numericDate(value, typ)
		}
		switch n {
		case "exp":
			if c.exp, c.hasExp = numericDate(value, typ); !c.hasExp {
				c.badType = errExpType
			}
		case "nbf":
			if c.nbf, c.hasNbf = numericDate(value, typ); !c.hasNbf {
				c.badType = errExpType
			}
		case "iat":
			if c.iat, c.hasIat = numericDate(value, typ); !c.hasIat {
				c.badType = errExpType
			}
		case "iss":
			var ok bool
			if c.issuer, ok = refStringClaim(value, typ); !ok && typ != jsonparser.Null {
				c.badType = errClaimType
			}
		case "aud":
			c.aud, c.audType = value, typ
		}
		return nil
	})
	if err != nil {
		return c, errPayloadJSON
	}
	return c, nil
}
