package rsapub

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
)

// testKey is an RSA key pair built from deterministic primes, so that any
// exponent can be tested (rsa.GenerateKey always uses 65537) and a failing
// fuzz input replays against the same keys.
type testKey struct {
	name string
	priv *rsa.PrivateKey
	fast *PublicKey
}

// keySpecs mixes sizes (k not a multiple of 4 included: 2049 and 2072 bits
// leave a partial top limb) and exponents (3, 17, 65537, 2³¹−1, a random
// odd one). 2048 bits is the smallest size tokengate accepts.
var keySpecs = []struct {
	bits int
	e    int
}{
	{2048, 65537}, {2048, 3}, {2049, 17}, {2072, 65537}, {2048, 1<<31 - 1},
	{3072, 65537}, {3072, 3}, {4096, 65537}, {4096, 0x2b7d_f3a1},
}

var (
	keysOnce sync.Once
	allKeys  []*testKey
)

func testKeys(t testing.TB) []*testKey {
	keysOnce.Do(func() {
		r := rand.New(rand.NewPCG(7, 11))
		for _, s := range keySpecs {
			allKeys = append(allKeys, makeKey(r, s.bits, s.e))
		}
	})
	for _, k := range allKeys {
		if k == nil {
			t.Fatal("key generation failed")
		}
	}
	return allKeys
}

// makeKey finds primes p, q with gcd(e, p−1) = gcd(e, q−1) = 1 and
// p·q of exactly bits bits.
func makeKey(r *rand.Rand, bits, e int) *testKey {
	E := big.NewInt(int64(e))
	one := big.NewInt(1)
	for {
		p := prime(r, bits-bits/2, E)
		q := prime(r, bits/2, E)
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits || p.Cmp(q) == 0 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(E, phi)
		if d == nil {
			continue
		}
		priv := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}, D: d, Primes: []*big.Int{p, q}}
		priv.Precompute()
		fast, err := New(n, e)
		if err != nil {
			return nil
		}
		return &testKey{name: strconv.Itoa(bits) + "/e=" + strconv.Itoa(e), priv: priv, fast: fast}
	}
}

func prime(r *rand.Rand, bits int, e *big.Int) *big.Int {
	b := make([]byte, (bits+7)/8)
	for {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		x := new(big.Int).SetBytes(b)
		for i := bits; i < len(b)*8; i++ { // clear bits above `bits`
			x.SetBit(x, i, 0)
		}
		x.SetBit(x, bits-1, 1).SetBit(x, bits-2, 1).SetBit(x, 0, 1)
		for !x.ProbablyPrime(20) {
			x.Add(x, big.NewInt(2))
		}
		pm1 := new(big.Int).Sub(x, big.NewInt(1))
		if x.BitLen() == bits && new(big.Int).GCD(nil, nil, e, pm1).Cmp(big.NewInt(1)) == 0 {
			return x
		}
	}
}

var hashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

// sign is the stdlib signer: an independent source of valid signatures.
func sign(t testing.TB, k *testKey, h crypto.Hash, digest []byte) []byte {
	sig, err := rsa.SignPKCS1v15(nil, k.priv, h, digest)
	if err != nil {
		t.Fatalf("%s: sign: %v", k.name, err)
	}
	return sig
}

// agree fails the test when rsapub and crypto/rsa answer differently.
func agree(t testing.TB, k *testKey, h crypto.Hash, digest, sig []byte, what string) bool {
	t.Helper()
	want := rsa.VerifyPKCS1v15(&k.priv.PublicKey, h, digest, sig) == nil
	got := k.fast.VerifyPKCS1v15(h, digest, sig)
	if got != want {
		t.Fatalf("%s %v %s: rsapub %v, crypto/rsa %v (sig %x, digest %x)", k.name, h, what, got, want, sig, digest)
	}
	return got
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func leftPad(x *big.Int, k int) []byte { return x.FillBytes(make([]byte, k)) }

// TestNamedCases runs the boundary inputs once per key and hash, each with
// the answer it must get (not only agreement with crypto/rsa).
func TestNamedCases(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range testKeys(t) {
		for _, h := range hashes {
			digest := randBytes(r, h.Size())
			sig := sign(t, k, h, digest)
			n, kk := k.priv.N, k.fast.Size()
			em := expectedEM(h, digest, kk)
			other := hashes[(indexOf(h)+1)%len(hashes)]
			cases := []struct {
				name   string
				h      crypto.Hash
				digest []byte
				sig    []byte
				want   bool
			}{
				{"valid", h, digest, sig, true},
				{"bit flipped", h, digest, flip(sig, 8*kk-1), false},
				{"top bit flipped", h, digest, flip(sig, 0), false},
				{"other digest", h, flip(digest, 3), sig, false},
				{"s = 0", h, digest, make([]byte, kk), false},
				{"s = 1", h, digest, leftPad(big.NewInt(1), kk), false},
				{"s = n-1", h, digest, leftPad(new(big.Int).Sub(n, big.NewInt(1)), kk), false},
				{"s = n", h, digest, leftPad(n, kk), false},
				{"s = n+1", h, digest, leftPad(new(big.Int).Add(n, big.NewInt(1)), kk), false},
				{"s = sig+n", h, digest, addN(sig, n, kk), false},
				{"s all ones", h, digest, ones(kk), false},
				{"s = EM (exponent ignored)", h, digest, em, false},
				{"leading zero added", h, digest, append([]byte{0}, sig...), false},
				{"one byte short", h, digest, sig[1:], false},
				{"empty", h, digest, nil, false},
				{"digest too short", h, digest[1:], sig, false},
				{"digest too long", h, append(digest, 0), sig, false},
				{"checked as other hash", other, randBytes(r, other.Size()), sig, false},
				{"unsupported hash", crypto.SHA1, digest[:20], sig, false},
			}
			for _, c := range cases {
				if got := agree(t, k, c.h, c.digest, c.sig, c.name); got != c.want {
					t.Errorf("%s %v %s: got %v, want %v", k.name, h, c.name, got, c.want)
				}
			}
		}
	}
}

// TestSignatureWithLeadingZero: a valid signature whose first byte is zero
// (s < 256^(k−1)) must verify; found by signing digests until one appears.
func TestSignatureWithLeadingZero(t *testing.T) {
	k := testKeys(t)[0]
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		d := randBytes(r, 32)
		sig := sign(t, k, crypto.SHA256, d)
		if sig[0] == 0 {
			if !agree(t, k, crypto.SHA256, d, sig, "leading zero") {
				t.Fatal("valid signature with a leading zero byte refused")
			}
			return
		}
	}
	t.Fatal("no signature with a leading zero byte in 5000 tries")
}

func TestNewRefuses(t *testing.T) {
	n := testKeys(t)[0].priv.N
	cases := []struct {
		name string
		n    *big.Int
		e    int
		want error
	}{
		{"even modulus", new(big.Int).Add(n, big.NewInt(1)), 65537, ErrModulus},
		{"nil modulus", nil, 65537, ErrModulus},
		{"zero modulus", new(big.Int), 65537, ErrModulus},
		{"negative modulus", new(big.Int).Neg(n), 65537, ErrModulus},
		{"too large", new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), MaxBits), big.NewInt(1)), 65537, ErrModulus},
		{"e = 1", n, 1, ErrExponent},
		{"e even", n, 65536, ErrExponent},
		{"e = 2^31", n, 1 << 31, ErrExponent},
	}
	for _, c := range cases {
		if _, err := New(c.n, c.e); err != c.want {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

// TestDifferential compares rsapub with crypto/rsa on a mix of valid,
// corrupted and random signatures. RSAPUB_DIFF=1000000 runs the long
// version (about a million inputs; minutes); the default is a few thousand.
func TestDifferential(t *testing.T) {
	total := 4000
	if v := os.Getenv("RSAPUB_DIFF"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("RSAPUB_DIFF: %v", err)
		}
		total = n
	}
	keys := testKeys(t)
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	// A pool of valid signatures per key and hash: signing is the slow part.
	type signed struct {
		h           crypto.Hash
		digest, sig []byte
	}
	pool := make([][]signed, len(keys))
	for i, k := range keys {
		for range 4 {
			for _, h := range hashes {
				d := randBytes(r, h.Size())
				pool[i] = append(pool[i], signed{h, d, sign(t, k, h, d)})
			}
		}
	}
	valid := 0
	for n := 0; n < total; n++ {
		i := r.IntN(len(keys))
		k, kk := keys[i], keys[i].fast.Size()
		s := pool[i][r.IntN(len(pool[i]))]
		h, digest, sig := s.h, s.digest, s.sig
		var what string
		switch r.IntN(8) {
		case 0:
			what = "valid"
		case 1:
			what, sig = "bit flip", flip(sig, r.IntN(8*kk))
		case 2:
			what, sig = "random s", randBytes(r, kk)
		case 3:
			what, sig = "random s < n", leftPad(new(big.Int).Mod(new(big.Int).SetBytes(randBytes(r, kk+8)), k.priv.N), kk)
		case 4:
			what, digest = "digest bit flip", flip(digest, r.IntN(8*len(digest)))
		case 5:
			what, sig = "s near n", leftPad(new(big.Int).Add(k.priv.N, big.NewInt(int64(r.IntN(5)-2))), kk)
		case 6:
			what, h = "other hash", hashes[r.IntN(3)]
			digest = randBytes(r, h.Size())
		case 7:
			what, sig = "wrong length", randBytes(r, kk-1+2*r.IntN(2))
		}
		if agree(t, k, h, digest, sig, what) {
			valid++
		}
	}
	t.Logf("%d inputs, %d valid, all agree", total, valid)
}

// FuzzVerifyRSA starts from a valid signature (one per key and hash,
// signed once: signing per input made the fuzzer run at a few dozen
// inputs per second), XORs the fuzzed masks into the digest and the
// signature (a mask longer than its target replaces it, giving wrong
// lengths) and requires rsapub and crypto/rsa to agree. All-zero masks
// keep the signature valid; the fuzzed digest's own valid signatures are
// TestDifferential's job.
func FuzzVerifyRSA(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte{}, []byte{})
	f.Add(uint8(1), uint8(2), []byte{}, []byte{0x80})
	f.Add(uint8(7), uint8(1), make([]byte, 48), make([]byte, 600))
	f.Add(uint8(3), uint8(0), []byte{1}, []byte{})
	keys := testKeys(f)
	type signed struct{ digest, sig []byte }
	base := make([][]signed, len(keys))
	for i, k := range keys {
		for _, h := range hashes {
			d := make([]byte, h.Size())
			d[0] = byte(i)
			base[i] = append(base[i], signed{d, sign(f, k, h, d)})
		}
	}
	f.Fuzz(func(t *testing.T, keySel, hashSel uint8, digestMask, sigMask []byte) {
		ki, hi := int(keySel)%len(keys), int(hashSel)%len(hashes)
		b := base[ki][hi]
		agree(t, keys[ki], hashes[hi], applyMask(b.digest, digestMask), applyMask(b.sig, sigMask), "masked")
	})
}

// applyMask returns b XOR mask (mask shorter than b: its first bytes), or
// mask itself when it is longer than b.
func applyMask(b, mask []byte) []byte {
	if len(mask) > len(b) {
		return mask
	}
	c := append([]byte(nil), b...)
	for i, m := range mask {
		c[i] ^= m
	}
	return c
}

// BenchmarkVerify compares rsapub with crypto/rsa on one 2048-bit key
// (generated alone: generating every test key is slow under Wasm). Under
// Wasm: GOOS=wasip1 GOARCH=wasm go test -bench Verify with
// go_wasip1_wasm_exec and a wazero binary in PATH (GOWASIRUNTIME=wazero).
func BenchmarkVerify(b *testing.B) {
	for _, k := range []*testKey{makeKey(rand.New(rand.NewPCG(5, 6)), 2048, 65537)} {
		digest := sha256.Sum256([]byte("bench"))
		sig := sign(b, k, crypto.SHA256, digest[:])
		b.Run("rsapub", func(b *testing.B) {
			for b.Loop() {
				if !k.fast.VerifyPKCS1v15(crypto.SHA256, digest[:], sig) {
					b.Fatal("refused")
				}
			}
		})
		b.Run("crypto-rsa", func(b *testing.B) {
			for b.Loop() {
				if rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, digest[:], sig) != nil {
					b.Fatal("refused")
				}
			}
		})
	}
}

// expectedEM builds the PKCS#1 v1.5 encoding EM, for the "s = EM" case.
func expectedEM(h crypto.Hash, digest []byte, k int) []byte {
	prefix := digestPrefix(h)
	em := make([]byte, k)
	em[1] = 1
	for i := 2; i < k-len(prefix)-len(digest)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-len(prefix)-len(digest):], prefix)
	copy(em[k-len(digest):], digest)
	return em
}

func indexOf(h crypto.Hash) int {
	for i, x := range hashes {
		if x == h {
			return i
		}
	}
	return -1
}

func flip(b []byte, bit int) []byte {
	c := append([]byte(nil), b...)
	c[bit/8] ^= 0x80 >> (bit % 8)
	return c
}

func ones(k int) []byte {
	b := make([]byte, k)
	for i := range b {
		b[i] = 0xff
	}
	return b
}

func addN(sig []byte, n *big.Int, k int) []byte {
	x := new(big.Int).Add(new(big.Int).SetBytes(sig), n)
	if x.BitLen() > 8*k {
		return ones(k)
	}
	return leftPad(x, k)
}
