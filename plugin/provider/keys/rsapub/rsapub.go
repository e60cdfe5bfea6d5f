// Package rsapub verifies RSA PKCS#1 v1.5 signatures (RFC 8017 §8.2.2) with
// per-key precomputation, for the wasm build.
//
// # Why not crypto/rsa
//
// crypto/rsa.VerifyPKCS1v15 rebuilds the public modulus on every call
// (bigmod.NewModulus computes R² mod N in constant time, about 30% of a
// 2048-bit verify in wazero), and its Montgomery multiplication works on
// 64-bit limbs whose 64×64→128-bit products Wasm has to emulate. A verifier
// handles only public values (key, signature, digest), so it needs no
// constant-time care: here the per-key constants (the limbs of N,
// R^e mod N, −N⁻¹ mod 2⁶⁴) are computed once by [New]. Limb products are
// built from 32×32→64-bit products, one i64.mul each in Wasm, on 64-bit
// limbs, with the product and the Montgomery reduction in one loop, and
// the exponentiation needs no conversion into or out of the Montgomery
// domain (mont.go says why, and which alternatives measured slower).
// About 1.5× faster than crypto/rsa in wazero for RSA-2048.
//
// # Why it is safe
//
// Verification is "encode and compare": the signature must be exactly k
// bytes and below N, m = sᵉ mod N is written out as k bytes and compared in
// full with the expected encoding 0x00 0x01 FF…FF 0x00 ‖ DigestInfo ‖
// digest. The decrypted block is never parsed. Tests compare every answer
// with crypto/rsa (rsapub_test.go): a few thousand inputs by default,
// RSAPUB_DIFF=1000000 for the long run (2048–4096-bit keys, e from 3 to
// 2³¹−1, SHA-256/384/512, valid, corrupted, random and boundary s), plus
// FuzzVerifyRSA.
package rsapub

import (
	"crypto"
	"encoding/binary"
	"errors"
	"math/big"
)

// MaxBits is the largest modulus New accepts; it sizes the stack scratch
// space of a verification, so a verify allocates nothing.
const MaxBits = 8192

const maxLimbs = MaxBits / limbBits

// Limbs are 64 bits in memory (see mont.go for why), multiplied as 32-bit
// halves.
type limb = uint64

const (
	limbBits  = 64
	limbBytes = limbBits / 8
)

// Errors from New.
var (
	ErrModulus  = errors.New("rsapub: modulus must be odd and at most 8192 bits")
	ErrExponent = errors.New("rsapub: exponent must be odd and between 3 and 2^31-1")
)

// PublicKey is an RSA public key with its Montgomery constants. It is
// immutable after New and safe to share.
type PublicKey struct {
	n     []limb // N, little-endian limbs
	re    []limb // R^e mod N with R = 2^(limbBits·len(n)), for exp
	n0inv limb   // −N⁻¹ mod 2^limbBits
	e     uint32
	k     int // modulus length in bytes
}

// New precomputes the verification constants for the key (n, e). It refuses
// an even or oversized modulus and an exponent crypto/rsa would refuse or
// tokengate's key parser does not accept (even, < 3, ≥ 2³¹).
func New(n *big.Int, e int) (*PublicKey, error) {
	if n == nil || n.Sign() <= 0 || n.Bit(0) == 0 || n.BitLen() > MaxBits {
		return nil, ErrModulus
	}
	if e < 3 || e > 1<<31-1 || e%2 == 0 {
		return nil, ErrExponent
	}
	k := (n.BitLen() + 7) / 8
	limbs := (k + limbBytes - 1) / limbBytes
	p := &PublicKey{n: make([]limb, limbs), re: make([]limb, limbs), e: uint32(e), k: k}
	setLimbs(p.n, n)
	r := new(big.Int).Lsh(big.NewInt(1), uint(limbBits*limbs))
	setLimbs(p.re, r.Exp(r, big.NewInt(int64(e)), n))
	p.n0inv = -inverse(p.n[0])
	return p, nil
}

// Size is the modulus length in bytes, the length of every signature.
func (p *PublicKey) Size() int { return p.k }

// setLimbs writes x (0 ≤ x < 2^(limbBits·len(dst))) into dst,
// little-endian.
func setLimbs(dst []limb, x *big.Int) {
	var buf [MaxBits / 8]byte
	b := x.FillBytes(buf[:limbBytes*len(dst)])
	bytesToLimbs(dst, b)
}

// inverse is x⁻¹ mod 2^limbBits for odd x, by Newton's iteration: each
// step doubles the number of correct low bits (x is its own inverse mod
// 2³; five steps reach 96 bits).
func inverse(x limb) limb {
	inv := x
	for i := 0; i < 5; i++ {
		inv *= 2 - x*inv
	}
	return inv
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1), as crypto/rsa uses them.
var (
	prefixSHA256 = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	prefixSHA384 = []byte{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}
	prefixSHA512 = []byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}
)

func digestPrefix(h crypto.Hash) []byte {
	switch h {
	case crypto.SHA256:
		return prefixSHA256
	case crypto.SHA384:
		return prefixSHA384
	case crypto.SHA512:
		return prefixSHA512
	}
	return nil
}

// VerifyPKCS1v15 reports whether sig is a valid RSASSA-PKCS1-v1_5 signature
// of digest (the hash of the message with h: SHA-256, SHA-384 or SHA-512).
// It answers as crypto/rsa.VerifyPKCS1v15(...) == nil does and allocates
// nothing.
func (p *PublicKey) VerifyPKCS1v15(h crypto.Hash, digest, sig []byte) bool {
	prefix := digestPrefix(h)
	if prefix == nil || len(digest) != h.Size() || len(sig) != p.k {
		return false
	}
	// The padding string must be at least 8 bytes (RFC 8017 §9.2 step 5).
	if p.k < len(prefix)+len(digest)+11 {
		return false
	}
	var sBuf, mBuf [maxLimbs]limb
	s, m := sBuf[:len(p.n)], mBuf[:len(p.n)]
	bytesToLimbs(s, sig)
	if !less(s, p.n) {
		return false
	}
	p.exp(m, s)
	var emBuf [MaxBits / 8]byte
	em := emBuf[:limbBytes*len(p.n)]
	limbsToBytes(em, m)
	// m < N < 256^k, so the bytes above k are zero: compare the last k.
	return equalEM(em[len(em)-p.k:], prefix, digest)
}

// equalEM compares em with 0x00 0x01 FF…FF 0x00 ‖ prefix ‖ digest in full.
// Every value here is public, so an early exit leaks nothing.
func equalEM(em, prefix, digest []byte) bool {
	ps := len(em) - len(prefix) - len(digest) - 1 // end of the FF run
	if em[0] != 0 || em[1] != 1 || em[ps] != 0 {
		return false
	}
	for _, b := range em[2:ps] {
		if b != 0xff {
			return false
		}
	}
	return string(em[ps+1:ps+1+len(prefix)]) == string(prefix) &&
		string(em[ps+1+len(prefix):]) == string(digest)
}

// bytesToLimbs writes big-endian b into little-endian limbs dst, which
// must have room for it (limbBytes·len(dst) ≥ len(b)); the rest of dst is
// zeroed.
func bytesToLimbs(dst []limb, b []byte) {
	clear(dst)
	for i := 0; i < len(b); i++ {
		pos := len(b) - 1 - i // byte i from the least significant end
		dst[i/limbBytes] |= limb(b[pos]) << (8 * (i % limbBytes))
	}
}

// limbsToBytes writes little-endian limbs x big-endian into dst
// (len(dst) == limbBytes·len(x)).
func limbsToBytes(dst []byte, x []limb) {
	for i, w := range x {
		binary.BigEndian.PutUint64(dst[len(dst)-limbBytes*(i+1):], w)
	}
}

// less reports whether a < b (same length).
func less(a, b []limb) bool {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
