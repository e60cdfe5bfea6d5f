package keys

import (
	"crypto/sha512"
	"crypto/subtle"
	"errors"

	"filippo.io/edwards25519"
)

// Ed25519 sizes (RFC 8032). crypto/ed25519 is deliberately not imported by
// the module's code: importing it links a second copy of the curve code.
const (
	edPublicKeySize = 32
	edSignatureSize = 64
)

// ErrBadEd25519 refuses an Ed25519 key whose 32 bytes do not decode to a
// curve point. crypto/ed25519 would refuse every signature under such a key,
// so it can only be a mistake or a tampered document; it is refused when
// parsed, like an EC point off its curve (ErrBadPoint).
var ErrBadEd25519 = errors.New("Ed25519 public key is not a point on the curve")

// edKey is an Ed25519 public key decoded once, when it is parsed.
//
// crypto/ed25519.Verify decompresses the 32 key bytes on every call (a
// field square root, about a tenth of a verification's field operations)
// and negates the point. A configured key is public and immutable and is
// used for every request, so the negated point is kept here instead.
type edKey struct {
	// a is the encoding as received: k = SHA-512(R ‖ A ‖ M) hashes these
	// bytes, not a re-encoding (they differ for non-canonical encodings).
	a [edPublicKeySize]byte
	// negA is −A.
	negA edwards25519.Point
}

// newEdKey decodes pub exactly as crypto/ed25519 does (Point.SetBytes,
// which also accepts non-canonical and small-order encodings).
func newEdKey(pub []byte) (*edKey, error) {
	if len(pub) != edPublicKeySize {
		return nil, ErrMalformed
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil {
		return nil, ErrBadEd25519
	}
	k := &edKey{}
	copy(k.a[:], pub)
	k.negA.Negate(&a)
	return k, nil
}

// verify is crypto/ed25519.Verify for pure Ed25519 (no context, no
// prehash) with the key already decoded. Each decision is the one Go 1.26
// makes in crypto/internal/fips140/ed25519.verifyWithDom: a 64-byte
// signature, the three top bits of S clear, S < L (canonical), and the
// cofactorless equation [S]B − [k]A = R checked on R's encoding as sent.
// TestEd25519Differential and FuzzEd25519Verify hold it to the standard
// library's verdicts.
//
// It does not allocate: the SHA-512 state, scalars and points live on the
// stack.
func (pk *edKey) verify(msg, sig []byte) bool {
	if len(sig) != edSignatureSize || sig[63]&224 != 0 {
		return false
	}
	var digest [sha512.Size]byte
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pk.a[:])
	h.Write(msg)
	h.Sum(digest[:0])

	var k, s edwards25519.Scalar
	if _, err := k.SetUniformBytes(digest[:]); err != nil {
		return false // unreachable: digest is 64 bytes
	}
	if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
		return false
	}
	// [S]B = R + [k]A  ⇔  [k](−A) + [S]B = R
	var r edwards25519.Point
	r.VarTimeDoubleScalarBaseMult(&k, &pk.negA, &s)
	return subtle.ConstantTimeCompare(sig[:32], r.Bytes()) == 1
}
