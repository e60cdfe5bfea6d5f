package rsapub

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// toBig reads little-endian limbs.
func toBig(x []limb) *big.Int {
	var b [MaxBits / 8]byte
	em := b[:limbBytes*len(x)]
	limbsToBytes(em, x)
	return new(big.Int).SetBytes(em)
}

// montOperands are the edge values 0, 1, 2, N−1, N−2, 2^(bits(R)−1) mod N,
// R mod N, 2³²−1, 2⁶⁴−1 and ⌊(N−1)/2³²⌋, plus random ones below N.
func montOperands(r *rand.Rand, n *big.Int, l, random int) []*big.Int {
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(n, one)
	rr := new(big.Int).Lsh(one, uint(limbBits*l))
	ops := []*big.Int{
		new(big.Int), one, big.NewInt(2), nm1, new(big.Int).Sub(n, big.NewInt(2)),
		new(big.Int).Mod(new(big.Int).Lsh(one, uint(limbBits*l-1)), n),
		new(big.Int).Mod(rr, n),
		big.NewInt(0xffffffff),
		new(big.Int).SetUint64(1<<64 - 1),
		new(big.Int).Rsh(nm1, 32), // N's limbs shifted down: long carry chains
	}
	for range random {
		x := new(big.Int).SetBytes(randBytes(r, limbBytes*l+8))
		ops = append(ops, x.Mod(x, n))
	}
	return ops
}

// TestMontgomeryAgainstBig checks mul and exp against math/big on every
// test key: mul(a, b) = a·b·R⁻¹ for every pair (squares included) and
// exp(s) = s^e, for edge operands (0, 1, N−1, …) and random ones. RSAPUB_MONT=n sets the
// number of random operands per key (default 40; pairs are all combined).
func TestMontgomeryAgainstBig(t *testing.T) {
	random := 40
	if v := os.Getenv("RSAPUB_MONT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("RSAPUB_MONT: %v", err)
		}
		random = n
	}
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	checks := 0
	for _, k := range testKeys(t) {
		p, n := k.fast, k.priv.N
		l := len(p.n)
		rInv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), uint(limbBits*l)), n)
		e := big.NewInt(int64(p.e))
		ops := montOperands(r, n, l, random)
		limbs := make([][]limb, len(ops))
		for i, x := range ops {
			limbs[i] = make([]limb, l)
			setLimbs(limbs[i], x)
		}
		z := make([]limb, l)
		want := new(big.Int)
		for i, a := range ops {
			p.exp(z, limbs[i])
			want.Exp(a, e, n)
			if toBig(z).Cmp(want) != 0 {
				t.Fatalf("%s: exp(%x) = %x, want %x", k.name, a, toBig(z), want)
			}
			for j, b := range ops {
				p.mul(z, limbs[i], limbs[j])
				want.Mul(a, b).Mul(want, rInv).Mod(want, n)
				if toBig(z).Cmp(want) != 0 {
					t.Fatalf("%s: mul(%x, %x) = %x, want %x", k.name, a, b, toBig(z), want)
				}
				checks++
			}
			checks++
		}
	}
	t.Logf("%d products checked", checks)
}

// TestInverse checks x⁻¹ mod 2^limbBits, from which each reduction step's
// constant −N⁻¹ comes.
func TestInverse(t *testing.T) {
	for _, x := range []limb{1, 3, 0xffffffff, 0x80000001, 0x12345679, 1<<64 - 1, 0xfedcba9876543211} {
		if got := x * inverse(x); got != 1 {
			t.Errorf("%#x · inverse = %#x, want 1", x, got)
		}
	}
}

// BenchmarkVerifyPair verifies the same RS256 signature with rsapub and
// crypto/rsa, one call of each per iteration in alternating order, so
// both see the same load; it reports the fastest and median call of each
// in µs and the ratio crypto/rsa ÷ rsapub of the fastest calls (above 1:
// rsapub is faster). Under Wasm, run it as BenchmarkVerify says.
func BenchmarkVerifyPair(b *testing.B) {
	k := makeKey(rand.New(rand.NewPCG(5, 6)), 2048, 65537)
	digest := sha256.Sum256([]byte("bench"))
	sig := sign(b, k, crypto.SHA256, digest[:])
	impls := []func() bool{
		func() bool { return k.fast.VerifyPKCS1v15(crypto.SHA256, digest[:], sig) },
		func() bool { return rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, digest[:], sig) == nil },
	}
	times := make([][]time.Duration, len(impls))
	for i := 0; b.Loop(); i++ {
		for j := range impls {
			impl := (i + j) % len(impls)
			start := time.Now()
			if !impls[impl]() {
				b.Fatal("valid signature refused")
			}
			times[impl] = append(times[impl], time.Since(start))
		}
	}
	b.StopTimer()
	for i := range times {
		slices.Sort(times[i])
	}
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	fast, std := times[0], times[1]
	b.ReportMetric(us(fast[0]), "rsapub-min-µs")
	b.ReportMetric(us(fast[len(fast)/2]), "rsapub-med-µs")
	b.ReportMetric(us(std[0]), "cryptorsa-min-µs")
	b.ReportMetric(us(std[len(std)/2]), "cryptorsa-med-µs")
	b.ReportMetric(float64(std[0])/float64(fast[0]), "min-ratio")
}

// BenchmarkNew is the per-key cost paid at parse time (every JWKS
// refresh): the limbs of N and R^e mod N. The worst key tokengate's parser
// accepts is 8192 bits with e = 2³¹−1.
func BenchmarkNew(b *testing.B) {
	k := makeKey(rand.New(rand.NewPCG(5, 6)), 2048, 65537)
	n8192 := new(big.Int).SetBit(new(big.Int).Lsh(k.priv.N, 8192-2048), 0, 1) // any odd 8192-bit n
	cases := []struct {
		name string
		n    *big.Int
		e    int
	}{
		{"2048-e65537", k.priv.N, 65537},
		{"8192-e2^31-1", n8192, 1<<31 - 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := New(c.n, c.e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestVerifyAllocatesNothing: a verification works in fixed stack buffers
// (sized for MaxBits), valid or not.
func TestVerifyAllocatesNothing(t *testing.T) {
	k := testKeys(t)[0]
	digest := sha256.Sum256([]byte("allocs"))
	sig := sign(t, k, crypto.SHA256, digest[:])
	bad := flip(sig, 17)
	allocs := testing.AllocsPerRun(20, func() {
		if !k.fast.VerifyPKCS1v15(crypto.SHA256, digest[:], sig) || k.fast.VerifyPKCS1v15(crypto.SHA256, digest[:], bad) {
			t.Fatal("wrong answer")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per verification pair, want 0", allocs)
	}
}
