package p256verify

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"slices"
	"testing"
	"time"

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

// BenchmarkVerifyPair runs both verifiers on the same signature, one call
// of each per iteration, so machine load falls on both alike, and reports
// the fastest and median call of each (µs) and the ratios ecdsa/p256verify.
func BenchmarkVerifyPair(b *testing.B) {
	k := newKeyPair(b)
	hash := sha256.New().Sum([]byte("benchmark"))[len("benchmark"):]
	r, s := sign(b, k.priv, hash)
	verifiers := []func() bool{
		func() bool {
			return ecdsa.Verify(&k.priv.PublicKey, hash, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
		},
		func() bool { return k.pub.Verify(hash, r, s) },
	}
	times := make([][]time.Duration, len(verifiers))
	for i := 0; b.Loop(); i++ {
		for j := range verifiers {
			v := (i + j) % len(verifiers) // alternate which goes first
			start := time.Now()
			if !verifiers[v]() {
				b.Fatal("refused")
			}
			times[v] = append(times[v], time.Since(start))
		}
	}
	b.StopTimer()
	minE, medE := fastestMedian(times[0])
	minP, medP := fastestMedian(times[1])
	b.ReportMetric(float64(minE)/1e3, "ecdsa-min-µs")
	b.ReportMetric(float64(medE)/1e3, "ecdsa-med-µs")
	b.ReportMetric(float64(minP)/1e3, "p256verify-min-µs")
	b.ReportMetric(float64(medP)/1e3, "p256verify-med-µs")
	b.ReportMetric(float64(minE)/float64(minP), "min-ratio")
	b.ReportMetric(float64(medE)/float64(medP), "med-ratio")
}

func fastestMedian(ds []time.Duration) (fastest, median time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[0], s[len(s)/2]
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
