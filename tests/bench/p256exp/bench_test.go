package p256exp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

// BenchmarkWasm verifies the same valid ES256 signature in the guest with
// ecdsa.VerifyASN1 and with p256verify, one call of each per iteration, so
// both see the same machine load. It reports, in µs, the fastest and the
// median call of each and the ratios ecdsa/p256verify (above 1: p256verify
// is faster). ns/op is the pair. Run with e.g. -benchtime 200x -count 3.
func BenchmarkWasm(b *testing.B) {
	ctx := context.Background()
	g := newGuest(ctx, b)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	hash := sha256.New().Sum([]byte("bench"))[5:]
	r, s, err := ecdsa.Sign(rand.Reader, priv, hash)
	if err != nil {
		b.Fatal(err)
	}
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	if res, err := g.setup(ctx, der, hash, sig); err != nil || res != 1 {
		b.Fatalf("setup = %d, %v", res, err)
	}
	impls := []int32{implECDSA, implP256Verify}
	for _, impl := range impls { // warm up; a benchmark never times a failing path
		if ok, err := g.verify(ctx, impl); err != nil || ok != 1 {
			b.Fatalf("impl %d: %d, %v", impl, ok, err)
		}
	}
	times := make([][]time.Duration, len(impls))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range impls {
			impl := impls[(i+j)%len(impls)] // alternate which goes first
			start := time.Now()
			if ok, err := g.verify(ctx, impl); err != nil || ok != 1 {
				b.Fatalf("impl %d: %d, %v", impl, ok, err)
			}
			times[impl-1] = append(times[impl-1], time.Since(start))
		}
	}
	b.StopTimer()
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	minE, medE := stats(times[implECDSA-1])
	minP, medP := stats(times[implP256Verify-1])
	b.ReportMetric(us(minE), "ecdsa-min-µs")
	b.ReportMetric(us(medE), "ecdsa-med-µs")
	b.ReportMetric(us(minP), "p256verify-min-µs")
	b.ReportMetric(us(medP), "p256verify-med-µs")
	b.ReportMetric(float64(minE)/float64(minP), "min-ratio")
	b.ReportMetric(float64(medE)/float64(medP), "med-ratio")
}

// BenchmarkWasmSetup times the guest's setup with a fresh key: PKIX
// parsing for both plus p256verify's table (once per configured key).
func BenchmarkWasmSetup(b *testing.B) {
	ctx := context.Background()
	g := newGuest(ctx, b)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]byte, 64)
	for b.Loop() {
		if res, err := g.setup(ctx, der, sig[:32], sig); err != nil || res != 1 {
			b.Fatalf("setup = %d, %v", res, err)
		}
	}
}

// BenchmarkWasmNewKey times p256verify.NewPublicKey alone in the guest:
// the key's comb table, built once per configured key (the G table was
// built by setup, once per process).
func BenchmarkWasmNewKey(b *testing.B) {
	ctx := context.Background()
	g := newGuest(ctx, b)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]byte, 64)
	if res, err := g.setup(ctx, der, sig[:32], sig); err != nil || res != 1 {
		b.Fatalf("setup = %d, %v", res, err)
	}
	newKey := g.mod.ExportedFunction("newkey")
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if res, err := newKey.Call(ctx); err != nil || res[0] != 1 {
			b.Fatalf("newkey = %v, %v", res, err)
		}
		times = append(times, time.Since(start))
	}
	fastest, median := stats(times)
	b.ReportMetric(float64(fastest)/1e3, "min-µs")
	b.ReportMetric(float64(median)/1e3, "med-µs")
}

// stats returns the fastest and the median of ds.
func stats(ds []time.Duration) (fastest, median time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[0], s[len(s)/2]
}
