package keys

import (
	"encoding/base64"
	"errors"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
)

// JWK errors.
var (
	ErrJWKMember = errors.New("JWK member has the wrong type or encoding")
	ErrJWKUse    = errors.New(`JWK "use" is not "sig" or "key_ops" lacks "verify"`)
	ErrJWKAlg    = errors.New(`JWK "alg" is not a supported signature algorithm for its key type`)
	ErrJWKS      = errors.New(`JWKS must be an object with a "keys" array`)
	ErrDupKid    = errors.New("two keys share one kid")
	ErrTooMany   = errors.New("JWKS has too many keys")
)

// MaxSetKeys bounds a JWKS (remote sets are untrusted input).
const MaxSetKeys = 100

var b64u = base64.RawURLEncoding.Strict()

// ParseJWK reads one public JWK (RFC 7517/7518/8037). kty RSA, EC (P-256,
// P-384) and OKP (Ed25519) are supported. "use" must be "sig" when present,
// "key_ops" must contain "verify" when present, and "alg", when present,
// becomes the only algorithm the key verifies. Private members refuse the key.
func ParseJWK(data []byte) (*Key, error) {
	var kty, crv, kid, alg, use string
	var n, e, x, y []byte
	var hasOps, opsVerify bool
	err := jsonobj.Each(data, func(name, value []byte, typ jsonparser.ValueType) error {
		switch string(name) {
		case "kty", "crv", "kid", "alg", "use":
			if typ != jsonparser.String {
				return ErrJWKMember
			}
			s, err := jsonparser.ParseString(value)
			if err != nil {
				return ErrJWKMember
			}
			switch string(name) {
			case "kty":
				kty = s
			case "crv":
				crv = s
			case "kid":
				kid = s
			case "alg":
				alg = s
			case "use":
				use = s
			}
		case "n", "e", "x", "y":
			if typ != jsonparser.String {
				return ErrJWKMember
			}
			b, err := b64u.DecodeString(string(value))
			if err != nil || len(b) == 0 {
				return ErrJWKMember
			}
			switch string(name) {
			case "n":
				n = b
			case "e":
				e = b
			case "x":
				x = b
			case "y":
				y = b
			}
		case "key_ops":
			if typ != jsonparser.Array {
				return ErrJWKMember
			}
			hasOps = true
			var bad bool
			_, _ = jsonparser.ArrayEach(value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
				if t != jsonparser.String {
					bad = true
				} else if string(v) == "verify" {
					opsVerify = true
				}
			})
			if bad {
				return ErrJWKMember
			}
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			return ErrPrivate
		}
		return nil
	})
	if err != nil {
		if err == ErrPrivate || err == ErrJWKMember {
			return nil, err
		}
		return nil, ErrMalformed
	}
	if (use != "" && use != "sig") || (hasOps && !opsVerify) {
		return nil, ErrJWKUse
	}
	var k *Key
	switch kty {
	case "RSA":
		if n == nil || e == nil || x != nil || y != nil || crv != "" {
			return nil, ErrMalformed
		}
		k, err = newRSA(n, e)
	case "EC":
		if x == nil || y == nil || n != nil || e != nil {
			return nil, ErrMalformed
		}
		size, t := 0, Type(0)
		switch crv {
		case "P-256":
			size, t = 32, TypeP256
		case "P-384":
			size, t = 48, TypeP384
		default:
			return nil, ErrUnsupported
		}
		if len(x) != size || len(y) != size {
			return nil, ErrMalformed
		}
		pt := make([]byte, 0, 1+2*size)
		pt = append(append(append(pt, 4), x...), y...)
		k, err = newEC(t, pt)
	case "OKP":
		if crv != "Ed25519" {
			return nil, ErrUnsupported
		}
		if x == nil || y != nil || n != nil || e != nil {
			return nil, ErrMalformed
		}
		k, err = newEd25519(x)
	default:
		return nil, ErrUnsupported
	}
	if err != nil {
		return nil, err
	}
	if alg != "" {
		a := ParseAlg(alg)
		if !k.Algs.Has(a) {
			return nil, ErrJWKAlg
		}
		k.Algs = AlgSet(0).With(a)
	}
	if kid != "" {
		k.ID = kid
	}
	return k, nil
}

// Set is an immutable set of keys with O(1) lookup by kid.
type Set struct {
	byID map[string]*Key
	list []*Key
}

// NewSet indexes keys by ID (and, for keys whose ID is not their
// fingerprint, also by fingerprint). Two keys with one ID are refused.
func NewSet(list []*Key) (*Set, error) {
	if len(list) > MaxSetKeys {
		return nil, ErrTooMany
	}
	s := &Set{byID: make(map[string]*Key, 2*len(list)), list: list}
	for _, k := range list {
		if _, dup := s.byID[k.ID]; dup {
			return nil, ErrDupKid
		}
		s.byID[k.ID] = k
	}
	for _, k := range list {
		if _, taken := s.byID[k.Fingerprint]; !taken {
			s.byID[k.Fingerprint] = k
		}
	}
	return s, nil
}

// Lookup returns the key with this kid, or nil.
func (s *Set) Lookup(kid string) *Key {
	if s == nil {
		return nil
	}
	return s.byID[kid]
}

// LookupBytes is Lookup for a kid read from a request, without allocating.
func (s *Set) LookupBytes(kid []byte) *Key {
	if s == nil {
		return nil
	}
	return s.byID[string(kid)]
}

// Keys lists the keys in document order.
func (s *Set) Keys() []*Key {
	if s == nil {
		return nil
	}
	return s.list
}

// Len is the number of keys.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.list)
}

// ParseJWKS reads {"keys": [JWK, ...]}. Keys of unsupported types (e.g.
// encryption keys, "use":"enc", symmetric "oct") are skipped, as RFC 7517
// §5 asks; a malformed key of a supported type refuses the whole set, since
// it signals a broken or tampered document.
func ParseJWKS(data []byte) (*Set, error) {
	var list []*Key
	var bad error
	seen, entries := false, 0
	err := jsonobj.Each(data, func(name, value []byte, typ jsonparser.ValueType) error {
		if string(name) != "keys" {
			return nil
		}
		if typ != jsonparser.Array {
			return ErrJWKS
		}
		seen = true
		_, _ = jsonparser.ArrayEach(value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
			if bad != nil {
				return
			}
			if t != jsonparser.Object {
				bad = ErrJWKS
				return
			}
			if entries++; entries > MaxSetKeys {
				bad = ErrTooMany
				return
			}
			k, err := ParseJWK(v)
			switch err {
			case nil:
				list = append(list, k)
			case ErrUnsupported, ErrJWKUse:
			default:
				bad = err
			}
		})
		return bad
	})
	if err != nil {
		if bad != nil {
			return nil, bad
		}
		return nil, ErrJWKS
	}
	if !seen {
		return nil, ErrJWKS
	}
	return NewSet(list)
}
