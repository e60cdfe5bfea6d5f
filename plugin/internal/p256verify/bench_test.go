package p256verify

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"testing"

	"filippo.io/nistec"
)

// BenchmarkVerify times one verification of the same valid signature with
// this package and with crypto/ecdsa (the call the plugin makes today).
// Natively Go and nistec use amd64/arm64 assembly; add -tags purego to time
// the portable code that the wasm build runs.
func BenchmarkVerify(b *testing.B) {
	k := newKeyPair(b)
	hash := sha256.New().Sum([]byte("benchmark"))[len("benchmark"):]
	r, s := sign(b, k.priv, hash)
	b.Run("p256verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.pub.Verify(hash, r, s) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("ecdsa.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.Verify(&k.priv.PublicKey, hash, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)) {
				b.Fatal("refused")
			}
		}
	})
}

// BenchmarkNewPublicKey times the table's construction (once per key).
func BenchmarkNewPublicKey(b *testing.B) {
	k := newKeyPair(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPublicKey(&k.priv.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParts times the steps of one verification, to show where the
// time goes (with -tags purego, the code the wasm build runs).
func BenchmarkParts(b *testing.B) {
	k := newKeyPair(b)
	hash := sha256.New().Sum([]byte("benchmark"))[len("benchmark"):]
	r, s := sign(b, k.priv, hash)
	var rr, ss big.Int
	rr.SetBytes(r)
	ss.SetBytes(s)
	var u1, u2 [32]byte
	scalars(hash, &rr, &ss, &u1, &u2)
	var acc nistec.P256Point
	b.Run("base addMult", func(b *testing.B) {
		for b.Loop() {
			baseTable.addMult(&acc, &u1)
		}
	})
	b.Run("scalars", func(b *testing.B) {
		for b.Loop() {
			scalars(hash, &rr, &ss, &u1, &u2)
		}
	})
	b.Run("ScalarBaseMult", func(b *testing.B) {
		for b.Loop() {
			acc.ScalarBaseMult(u1[:])
		}
	})
	b.Run("addMult", func(b *testing.B) {
		for b.Loop() {
			k.pub.table.addMult(&acc, &u2)
		}
	})
	b.Run("BytesX", func(b *testing.B) {
		for b.Loop() {
			acc.BytesX()
		}
	})
	b.Run("Add", func(b *testing.B) {
		for b.Loop() {
			acc.Add(&acc, &k.pub.table[3][5])
		}
	})
}
