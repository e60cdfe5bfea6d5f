package scopedtoken

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"

	"github.com/tokengate/tokengate/plugin/provider"
)

// DefaultSalt is django.core.signing.dumps' default salt, which
// drf-tmp-scoped-token uses.
const DefaultSalt = "django.core.signing"

// Limits.
const (
	// MaxTokenBytes is the largest token looked at.
	MaxTokenBytes = 8192
	// MaxPayloadBytes bounds a decompressed payload (zlib bombs).
	MaxPayloadBytes = 64 << 10
)

var (
	ErrBadSignature = provider.NewError(provider.ReasonBadSignature, "scoped token signature does not verify")
	ErrMalformed    = provider.NewError(provider.ReasonMalformed, "scoped token is not a signed value")
	ErrOversize     = provider.NewError(provider.ReasonOversize, "scoped token is too long")
	ErrPayload      = provider.NewError(provider.ReasonClaims, "scoped token payload is not valid")
)

// Signer checks Django TimestampSigner signatures:
// value ':' base62(ts) ':' b64url(HMAC-H(H(salt+"signer"+secret), value ':' ts)).
type Signer struct {
	mac256 hash.Hash
	mac1   hash.Hash // nil unless legacy SHA-1 signatures are accepted
	sum    [sha256.Size]byte
	enc    [43]byte
}

// NewSigner derives the keys the way Django's salted_hmac does: the HMAC
// key is the raw digest H(key_salt ‖ secret), key_salt = salt + "signer".
func NewSigner(secret []byte, salt string, legacySHA1 bool) *Signer {
	ks := []byte(salt + "signer")
	k256 := sha256.Sum256(append(append([]byte{}, ks...), secret...))
	s := &Signer{mac256: hmac.New(sha256.New, k256[:])}
	if legacySHA1 {
		k1 := sha1.Sum(append(append([]byte{}, ks...), secret...))
		s.mac1 = hmac.New(sha1.New, k1[:])
	}
	return s
}

// Unsign verifies token's signature and returns the signed payload segment
// (still base64, with a leading '.' when compressed) and the timestamp.
// Both are views into token.
func (s *Signer) Unsign(token []byte) (payload []byte, ts int64, err error) {
	i := bytes.LastIndexByte(token, ':')
	if i < 0 {
		return nil, 0, ErrBadSignature // Django: "No ':' found in value"
	}
	value, sig := token[:i], token[i+1:]
	ok := s.check(s.mac256, value, sig, 43)
	if !ok && s.mac1 != nil {
		ok = s.check(s.mac1, value, sig, 27)
	}
	if !ok {
		return nil, 0, ErrBadSignature
	}
	j := bytes.LastIndexByte(value, ':')
	if j < 0 {
		return nil, 0, ErrMalformed
	}
	ts, okTS := b62Decode(value[j+1:])
	if !okTS {
		return nil, 0, ErrMalformed
	}
	return value[:j], ts, nil
}

func (s *Signer) check(m hash.Hash, value, sig []byte, encLen int) bool {
	m.Reset()
	m.Write(value)
	sum := m.Sum(s.sum[:0])
	enc := s.enc[:encLen]
	base64.RawURLEncoding.Encode(enc, sum)
	return subtle.ConstantTimeCompare(enc, sig) == 1
}

const b62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b62Decode is django.utils.baseconv.base62.decode, bounded to int64.
func b62Decode(s []byte) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 10 { // 62^10 > 2^59: ample for unix seconds
		return 0, false
	}
	var n int64
	for _, c := range s {
		var d int64
		switch {
		case '0' <= c && c <= '9':
			d = int64(c - '0')
		case 'A' <= c && c <= 'Z':
			d = int64(c-'A') + 10
		case 'a' <= c && c <= 'z':
			d = int64(c-'a') + 36
		default:
			return 0, false
		}
		n = n*62 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

// decodePayload turns the signed payload segment into JSON bytes, written
// into dst's storage when it fits: unpadded base64url, zlib-inflated when it
// starts with '.'.
func decodePayload(seg []byte, dst []byte) ([]byte, error) {
	compressed := len(seg) > 0 && seg[0] == '.'
	if compressed {
		seg = seg[1:]
	}
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	m, err := base64.RawURLEncoding.Decode(dst, seg)
	if err != nil {
		return nil, ErrPayload
	}
	dst = dst[:m]
	if !compressed {
		return dst, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(dst))
	if err != nil {
		return nil, ErrPayload
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxPayloadBytes+1))
	if err != nil || len(out) > MaxPayloadBytes {
		return nil, ErrPayload
	}
	return out, nil
}
