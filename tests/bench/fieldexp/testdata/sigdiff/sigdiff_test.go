// Package sigdiff compares crypto/ed25519.Verify with a reference
// verification written on filippo.io/edwards25519 (Go's 5×51-bit field and
// point code, published as a module). fieldexp's TestSignatureDifferential
// runs it with an overlay: crypto/ed25519 then computes on the replaced
// field while the reference keeps the original one, so any disagreement is
// the replacement's. Without an overlay both sides are the same code.
package sigdiff

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"filippo.io/edwards25519"
)

// refVerify is RFC 8032's verification as Go does it (cofactorless,
// canonical S required, A and R decoded as edwards25519 decodes them):
// [S]B − [k]A must encode to R, k = SHA-512(R ‖ A ‖ M) mod L.
func refVerify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	A, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return false
	}
	S, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		return false
	}
	minusA := new(edwards25519.Point).Negate(A)
	R := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, minusA, S)
	return bytes.Equal(sig[:32], R.Bytes())
}

// smallOrder are the canonical encodings of the eight points of order
// dividing 8.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}

// oddEncodings are the small-order points plus every non-canonical
// y-coordinate (p … 2^255−1) with either sign bit.
func oddEncodings(t *testing.T) [][]byte {
	var out [][]byte
	id := edwards25519.NewIdentityPoint()
	for _, s := range smallOrder {
		b, _ := hex.DecodeString(s)
		P, err := new(edwards25519.Point).SetBytes(b)
		if err != nil || new(edwards25519.Point).MultByCofactor(P).Equal(id) != 1 {
			t.Fatalf("%s is not a small-order point", s)
		}
		out = append(out, b)
	}
	for k := 0; k < 19; k++ {
		for _, sign := range []byte{0, 0x80} {
			b := bytes.Repeat([]byte{0xff}, 32)
			b[0] = byte(0xed + k) // p + k = 2^255 − 19 + k, little-endian
			b[31] = 0x7f | sign
			out = append(out, b)
		}
	}
	return out
}

// count is the number of random signatures; SIGDIFF_N overrides it.
func count(t *testing.T) int {
	n := 50_000
	if s := os.Getenv("SIGDIFF_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestVerifyMatchesReference checks crypto/ed25519.Verify against
// refVerify on valid signatures and on every kind of damage: a flipped
// bit of the signature or message, S + L (non-canonical S), a random R or
// key (mostly not on the curve), and small-order or non-canonical
// encodings as R or as the key.
func TestVerifyMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8032, 25519))
	odd := oddEncodings(t)
	// L, the group order, little-endian: adding it to a canonical S gives
	// the same scalar in non-canonical form.
	L, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	accepted := 0
	for i := range count(t) {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(r.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := []byte(priv.Public().(ed25519.PublicKey))
		msg := make([]byte, r.IntN(300))
		for j := range msg {
			msg[j] = byte(r.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		switch i % 8 {
		case 1:
			sig[r.IntN(64)] ^= 1 << r.IntN(8)
		case 2:
			if len(msg) > 0 {
				msg[r.IntN(len(msg))] ^= 1 << r.IntN(8)
			}
		case 3: // S + L (S < L < 2^253, so no overflow past 32 bytes)
			var c uint16
			for j := 0; j < 32; j++ {
				c += uint16(sig[32+j]) + uint16(L[j])
				sig[32+j] = byte(c)
				c >>= 8
			}
		case 4:
			for j := 0; j < 32; j++ {
				sig[j] = byte(r.Uint32())
			}
		case 5:
			for j := range pub {
				pub[j] = byte(r.Uint32())
			}
		case 6:
			copy(sig[:32], odd[r.IntN(len(odd))])
		case 7:
			copy(pub, odd[r.IntN(len(odd))])
		}
		got, want := ed25519.Verify(pub, msg, sig), refVerify(pub, msg, sig)
		if got != want {
			t.Fatalf("case %d (kind %d): Verify = %v, reference = %v\npub %x\nmsg %x\nsig %x", i, i%8, got, want, pub, msg, sig)
		}
		if got {
			accepted++
		}
	}
	// Every eighth is untouched, so at least that many must pass.
	if accepted < count(t)/8 {
		t.Fatalf("only %d of %d signatures accepted", accepted, count(t))
	}
	t.Logf("%d signatures, %d accepted, Verify and the reference agree on all", count(t), accepted)
}
