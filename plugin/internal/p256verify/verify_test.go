//lint:file-ignore SA1019 the tests build and inspect keys by their raw coordinates on purpose (off-curve, out-of-range and nil cases)

package p256verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"filippo.io/nistec"
)

// reference is the decision this package must reproduce: Go's own
// ecdsa.Verify on the same unsigned big-endian r and s.
func reference(pub *ecdsa.PublicKey, hash, r, s []byte) bool {
	return ecdsa.Verify(pub, hash, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
}

// keyPair is a test key in both forms.
type keyPair struct {
	priv *ecdsa.PrivateKey
	pub  *PublicKey
}

func newKeyPair(tb testing.TB) keyPair {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := NewPublicKey(&priv.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return keyPair{priv, pub}
}

// sign returns r and s as 32-byte big-endian values (the JWS form).
func sign(tb testing.TB, priv *ecdsa.PrivateKey, hash []byte) (r, s []byte) {
	tb.Helper()
	rb, sb, err := ecdsa.Sign(rand.Reader, priv, hash)
	if err != nil {
		tb.Fatal(err)
	}
	return rb.FillBytes(make([]byte, 32)), sb.FillBytes(make([]byte, 32))
}

// check fails t when Verify and crypto/ecdsa disagree, and returns the
// decision.
func check(t testing.TB, k keyPair, hash, r, s []byte, what string) bool {
	t.Helper()
	want := reference(&k.priv.PublicKey, hash, r, s)
	if got := k.pub.Verify(hash, r, s); got != want {
		t.Fatalf("%s: Verify = %v, ecdsa.Verify = %v\nhash %x\nr %x\ns %x\nkey x %x y %x",
			what, got, want, hash, r, s, k.priv.X, k.priv.Y)
	}
	return want
}

func TestValidSignatures(t *testing.T) {
	k := newKeyPair(t)
	for _, tc := range []struct {
		name string
		hash []byte
	}{
		{"sha256", sha256.New().Sum([]byte("x"))[1:]},
		{"sha512 (truncated to 32 bytes)", sha512.New().Sum(nil)},
		{"20 bytes (shorter than n)", make([]byte, 20)},
		{"1 byte", []byte{0x80}},
		{"empty", nil},
		{"all zero (u1 = 0)", make([]byte, 32)},
		{"equal to n (u1 = 0)", order.Bytes()},
		{"n+1 (reduced to 1)", new(big.Int).Add(order, big.NewInt(1)).Bytes()},
		{"all ones", bytesOf(32, 0xff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := sign(t, k.priv, tc.hash)
			if !check(t, k, tc.hash, r, s, "valid") {
				t.Fatal("crypto/ecdsa refused its own signature")
			}
			// high-S: s and n−s are both valid in ECDSA.
			hs := new(big.Int).Sub(order, new(big.Int).SetBytes(s)).FillBytes(make([]byte, 32))
			if !check(t, k, tc.hash, r, hs, "n−s") {
				t.Fatal("n−s refused")
			}
		})
	}
}

func bytesOf(n int, b byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = b
	}
	return p
}

// TestOutOfRange covers r and s at and around the bounds of [1, n−1].
func TestOutOfRange(t *testing.T) {
	k := newKeyPair(t)
	hash := sha256.New().Sum(nil)
	r, s := sign(t, k.priv, hash)
	n := order
	values := map[string][]byte{
		"0":                 {},
		"0 (32 zero bytes)": make([]byte, 32),
		"1":                 {1},
		"n−1":               new(big.Int).Sub(n, big.NewInt(1)).Bytes(),
		"n":                 n.Bytes(),
		"n+1":               new(big.Int).Add(n, big.NewInt(1)).Bytes(),
		"n+r":               nil, // filled per use
		"2^256−1":           bytesOf(32, 0xff),
		"2^256":             append([]byte{1}, make([]byte, 32)...),
		"33 bytes":          append([]byte{0}, r...),
		"64 bytes":          append(make([]byte, 32), r...),
	}
	for name, v := range values {
		t.Run("r="+name, func(t *testing.T) {
			if name == "n+r" {
				v = new(big.Int).Add(n, new(big.Int).SetBytes(r)).Bytes()
			}
			check(t, k, hash, v, s, "r")
		})
		t.Run("s="+name, func(t *testing.T) {
			if name == "n+r" {
				v = new(big.Int).Add(n, new(big.Int).SetBytes(s)).Bytes()
			}
			check(t, k, hash, r, v, "s")
		})
	}
	// a leading zero byte does not change the value: still valid.
	if !check(t, k, hash, append([]byte{0}, r...), append([]byte{0, 0}, s...), "leading zeros") {
		t.Fatal("leading zeros refused")
	}
}

// TestInfinity builds a signature whose R is the point at infinity: with
// the private key d, e = −r·d (mod n) gives u1 + u2·d ≡ 0. Both must refuse.
func TestInfinity(t *testing.T) {
	k := newKeyPair(t)
	for i := range 20 {
		r := big.NewInt(int64(i + 1))
		s := big.NewInt(int64(3*i + 2))
		e := new(big.Int).Mul(r, k.priv.D)
		e.Neg(e).Mod(e, order)
		if check(t, k, e.FillBytes(make([]byte, 32)), r.Bytes(), s.Bytes(), "infinity") {
			t.Fatal("a signature with R at infinity verified")
		}
	}
}

// TestXAtLeastN covers R.x ≥ n, where only the reduction of x mod n makes
// r match. The key is a point Q whose x is in [n, p) (nobody knows its
// private key); hash 0 and s = r give u1 = 0 and u2 = 1, so R = Q, and
// r = Q.x − n is valid while r = Q.x is out of range.
func TestXAtLeastN(t *testing.T) {
	q, x := pointWithLargeX(t)
	ecPub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: q.Y}
	pub, err := NewPublicKey(ecPub)
	if err != nil {
		t.Fatal(err)
	}
	k := keyPair{priv: &ecdsa.PrivateKey{PublicKey: *ecPub}, pub: pub}
	r := new(big.Int).Sub(x, order).Bytes()
	for _, hash := range [][]byte{nil, make([]byte, 32), order.Bytes()} {
		if !check(t, k, hash, r, r, "x−n") {
			t.Fatal("x−n refused")
		}
		check(t, k, hash, x.Bytes(), x.Bytes(), "x")
	}
}

// pointWithLargeX finds a curve point with n ≤ x < p.
func pointWithLargeX(t *testing.T) (*ecdsa.PublicKey, *big.Int) {
	for i := int64(0); i < 100; i++ {
		x := new(big.Int).Add(order, big.NewInt(i))
		enc := append([]byte{2}, x.FillBytes(make([]byte, 32))...)
		p, err := nistec.NewP256Point().SetBytes(enc)
		if err != nil {
			continue // x³ − 3x + b is not a square
		}
		u := p.Bytes()
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: new(big.Int).SetBytes(u[33:])}, x
	}
	t.Fatal("no point with x ≥ n found")
	return nil, nil
}

func TestNewPublicKeyRefuses(t *testing.T) {
	k := newKeyPair(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := k.priv.X, k.priv.Y
	p := elliptic.P256().Params().P
	for _, tc := range []struct {
		name string
		pub  *ecdsa.PublicKey
	}{
		{"nil", nil},
		{"nil curve", &ecdsa.PublicKey{X: x, Y: y}},
		{"P-384", &p384.PublicKey},
		{"nil X", &ecdsa.PublicKey{Curve: elliptic.P256(), Y: y}},
		{"negative Y", &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: new(big.Int).Neg(y)}},
		{"Y+p", &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: new(big.Int).Add(y, p)}},
		{"X+1 (off the curve)", &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Add(x, big.NewInt(1)), Y: y}},
		{"(0, 0)", &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int), Y: new(big.Int)}},
		{"X 257 bits", &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Lsh(big.NewInt(1), 256), Y: y}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewPublicKey(tc.pub); err == nil {
				t.Fatal("accepted")
			}
			// every key refused here is one crypto/ecdsa refuses to verify with.
			if tc.pub != nil && tc.pub.Curve != nil && tc.pub.X != nil && tc.pub.Y != nil {
				hash := make([]byte, 32)
				if ecdsa.Verify(tc.pub, hash, big.NewInt(1), big.NewInt(1)) {
					t.Fatal("crypto/ecdsa accepted with this key")
				}
			}
		})
	}
}

// TestRecode checks the signed digits sum back to k, stay in [−15, 16],
// for edge scalars and random ones.
func TestRecode(t *testing.T) {
	edges := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(16), big.NewInt(17), big.NewInt(31),
		new(big.Int).Sub(order, big.NewInt(1)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))}
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 10000 {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		edges = append(edges, new(big.Int).SetBytes(b[:]))
	}
	for _, k := range edges {
		var kb [32]byte
		k.FillBytes(kb[:])
		var d [combRows]int8
		recode(&kb, &d)
		sum := new(big.Int)
		for i := combRows - 1; i >= 0; i-- {
			if d[i] < -(combHalf-1) || d[i] > combHalf {
				t.Fatalf("digit %d of %x is %d", i, k, d[i])
			}
			sum.Lsh(sum, combWidth).Add(sum, big.NewInt(int64(d[i])))
		}
		if sum.Cmp(k) != 0 {
			t.Fatalf("recode(%x) sums to %x", k, sum)
		}
	}
}

// TestTable checks the comb's rows against nistec's ScalarMult.
func TestTable(t *testing.T) {
	k := newKeyPair(t)
	q, _ := nistec.NewP256Point().SetBytes(elliptic.Marshal(elliptic.P256(), k.priv.X, k.priv.Y)) //nolint:staticcheck // test only
	for _, i := range []int{0, 1, 25, combRows - 1} {
		for _, j := range []int{1, 2, combHalf - 1, combHalf} {
			m := new(big.Int).Lsh(big.NewInt(int64(j)), uint(combWidth*i))
			m.Mod(m, order)
			want, err := nistec.NewP256Point().ScalarMult(q, m.FillBytes(make([]byte, 32)))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%x", k.pub.table[i][j-1].Bytes()) != fmt.Sprintf("%x", want.Bytes()) {
				t.Fatalf("row %d, multiple %d differs", i, j)
			}
		}
	}
}

// TestDifferential compares Verify with crypto/ecdsa on random keys and
// messages: each round signs a random hash and checks the valid signature,
// its high-S twin, and damaged forms (a flipped bit in r, s, the hash, or
// the key; r and s swapped; r or s replaced by 0, n, n−1 or a random value;
// the hash longer or shorter than 32 bytes).
//
// The default is a few seconds. P256VERIFY_N=<rounds> runs more, e.g.
// P256VERIFY_N=1000000 go test -run TestDifferential -timeout 0 -v .
// (a round is 11 or 12 comparisons: the key with a flipped X bit is almost
// always off the curve, and then only crypto/ecdsa's refusal is checked).
func TestDifferential(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	if v := os.Getenv("P256VERIFY_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		rounds = n
	}
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 7))
	keys := make([]keyPair, 8)
	for i := range keys {
		keys[i] = newKeyPair(t)
	}
	start, compared, valid := time.Now(), 0, 0
	for round := range rounds {
		if round%1000 == 999 { // a fresh key now and then
			keys[rng.IntN(len(keys))] = newKeyPair(t)
		}
		k := keys[rng.IntN(len(keys))]
		other := keys[rng.IntN(len(keys))]
		hash := randBytes(rng, []int{32, 32, 32, 20, 48, 64, 0, 1}[rng.IntN(8)])
		r, s := sign(t, k.priv, hash)
		hs := new(big.Int).Sub(order, new(big.Int).SetBytes(s)).FillBytes(make([]byte, 32))
		cases := []struct {
			k       keyPair
			h, r, s []byte
		}{
			{k, hash, r, s},
			{k, hash, r, hs},
			{k, hash, flip(rng, r), s},
			{k, hash, r, flip(rng, s)},
			{k, flipOrEmpty(rng, hash), r, s},
			{other, hash, r, s},
			{k, hash, s, r},
			{k, hash, pick(rng, r), s},
			{k, hash, r, pick(rng, s)},
			{k, append(append([]byte{}, hash...), randBytes(rng, 1+rng.IntN(32))...), r, s},
			{k, truncate(rng, hash), r, s},
			{flipKey(t, rng, k), hash, r, s},
		}
		for _, c := range cases {
			if c.k.pub == nil {
				continue
			}
			if check(t, c.k, c.h, c.r, c.s, fmt.Sprintf("round %d", round)) {
				valid++
			}
			compared++
		}
	}
	t.Logf("%d comparisons (%d valid) over %d rounds in %v", compared, valid, rounds, time.Since(start).Round(time.Millisecond))
}

func randBytes(rng *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// flip returns b with one random bit changed.
func flip(rng *mrand.Rand, b []byte) []byte {
	c := append([]byte{}, b...)
	if len(c) > 0 {
		c[rng.IntN(len(c))] ^= 1 << rng.IntN(8)
	}
	return c
}

func flipOrEmpty(rng *mrand.Rand, b []byte) []byte {
	if len(b) == 0 {
		return []byte{1}
	}
	return flip(rng, b)
}

func truncate(rng *mrand.Rand, b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return b[:rng.IntN(len(b))]
}

// pick replaces a scalar with an edge value or a random one.
func pick(rng *mrand.Rand, v []byte) []byte {
	switch rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return order.Bytes()
	case 2:
		return new(big.Int).Sub(order, big.NewInt(1)).Bytes()
	case 3:
		return new(big.Int).Add(order, new(big.Int).SetBytes(v)).Bytes()
	case 4:
		return bytesOf(32, 0xff)
	}
	return randBytes(rng, 32)
}

// flipKey returns k's key with a flipped bit in X, which is (almost always)
// off the curve and refused by both; when the flipped X happens to give a
// valid point (another Y recomputed), both must refuse the signature.
func flipKey(t testing.TB, rng *mrand.Rand, k keyPair) keyPair {
	x := new(big.Int).Xor(k.priv.X, new(big.Int).Lsh(big.NewInt(1), uint(rng.IntN(256))))
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: k.priv.Y}
	p, err := NewPublicKey(pub)
	if err != nil {
		if ecdsa.Verify(pub, make([]byte, 32), big.NewInt(1), big.NewInt(1)) {
			t.Fatal("a key refused by NewPublicKey works with crypto/ecdsa")
		}
		return keyPair{}
	}
	return keyPair{priv: &ecdsa.PrivateKey{PublicKey: *pub}, pub: p}
}

// TestZeroKeyRefuses checks that a PublicKey not made by NewPublicKey
// refuses instead of panicking (a panic would kill the VM in Envoy).
func TestZeroKeyRefuses(t *testing.T) {
	k := newKeyPair(t)
	hash := make([]byte, 32)
	r, s := sign(t, k.priv, hash)
	for name, pub := range map[string]*PublicKey{"nil": nil, "zero": {}} {
		if pub.Verify(hash, r, s) {
			t.Errorf("%s key accepted a signature", name)
		}
	}
}
