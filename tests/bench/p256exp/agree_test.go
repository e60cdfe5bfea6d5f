//lint:file-ignore SA1019 the tests build and inspect keys by their raw coordinates on purpose (off-curve, out-of-range and nil cases)

package p256exp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"testing"
)

// order is n, the order of P-256's base point.
var order = elliptic.P256().Params().N

// sigCase is one verification both implementations run in the guest.
type sigCase struct {
	name string
	pub  *ecdsa.PublicKey
	hash []byte
	r, s *big.Int
}

// jws returns r ‖ s, each left-padded to 32 bytes (or longer when too big).
func (c sigCase) jws() []byte {
	n := max(32, (c.r.BitLen()+7)/8, (c.s.BitLen()+7)/8)
	return append(c.r.FillBytes(make([]byte, n)), c.s.FillBytes(make([]byte, n))...)
}

// agreementCases are valid, damaged and edge-case signatures: those of
// p256verify's native tests that Wasm could compute differently.
func agreementCases(t *testing.T) []sigCase {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := &priv.PublicKey
	hash := sha256.New().Sum([]byte("agree"))[5:]
	r, s, err := ecdsa.Sign(rand.Reader, priv, hash)
	if err != nil {
		t.Fatal(err)
	}
	one := big.NewInt(1)
	add := func(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) }
	flip := func(x *big.Int, bit int) *big.Int { return new(big.Int).Xor(x, new(big.Int).Lsh(one, uint(bit))) }
	cases := []sigCase{
		{"valid", pub, hash, r, s},
		{"high-S", pub, hash, r, new(big.Int).Sub(order, s)},
		{"r bit flipped", pub, hash, flip(r, 7), s},
		{"s bit flipped", pub, hash, r, flip(s, 200)},
		{"hash bit flipped", pub, append([]byte{hash[0] ^ 1}, hash[1:]...), r, s},
		{"r = 0", pub, hash, new(big.Int), s},
		{"s = n", pub, hash, r, order},
		{"r = n−1", pub, hash, new(big.Int).Sub(order, one), s},
		{"s = n+s", pub, hash, r, add(order, s)},
	}
	zero := make([]byte, 32)
	zr, zs, err := ecdsa.Sign(rand.Reader, priv, zero)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, sigCase{"hash 0 (u1 = 0)", pub, zero, zr, zs})
	// e = −r·d gives R = [u1]G + [u2]Q = infinity.
	e := new(big.Int).Mul(r, priv.D)
	e.Neg(e).Mod(e, order)
	cases = append(cases, sigCase{"R at infinity", pub, e.FillBytes(make([]byte, 32)), r, s})
	// A key with n ≤ x < p: hash 0 and s = r give R = Q, valid for r = x − n.
	if q := pointWithLargeX(t); q != nil {
		rx := new(big.Int).Sub(q.X, order)
		cases = append(cases,
			sigCase{"R.x ≥ n, r = x − n", q, zero, rx, rx},
			sigCase{"R.x ≥ n, r = x", q, zero, q.X, q.X})
	}
	return cases
}

// pointWithLargeX finds a curve point with n ≤ x < p.
func pointWithLargeX(t *testing.T) *ecdsa.PublicKey {
	c := elliptic.P256()
	for i := int64(0); i < 100; i++ {
		x := new(big.Int).Add(order, big.NewInt(i))
		enc := append([]byte{2}, x.FillBytes(make([]byte, 32))...)
		px, py := elliptic.UnmarshalCompressed(c, enc)
		if px != nil {
			return &ecdsa.PublicKey{Curve: c, X: px, Y: py}
		}
	}
	t.Fatal("no point with x ≥ n found")
	return nil
}

// mustVerify names the cases built to be valid; every other one is not.
var mustVerify = map[string]bool{"valid": true, "high-S": true, "hash 0 (u1 = 0)": true, "R.x ≥ n, r = x − n": true}

// TestGuestAgrees runs every case in the Wasm guest with both verifiers
// and natively with ecdsa.Verify: the three decisions must match, and the
// valid cases must be accepted.
func TestGuestAgrees(t *testing.T) {
	ctx := context.Background()
	g := newGuest(ctx, t)
	for _, c := range agreementCases(t) {
		t.Run(c.name, func(t *testing.T) {
			der, err := x509.MarshalPKIXPublicKey(c.pub)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := g.setup(ctx, der, c.hash, c.jws()); err != nil || res != 1 {
				t.Fatalf("setup = %d, %v", res, err)
			}
			want := ecdsa.Verify(c.pub, c.hash, c.r, c.s)
			if want != mustVerify[c.name] {
				t.Fatalf("native ecdsa.Verify = %v; the case is built wrong", want)
			}
			for _, impl := range []int32{implECDSA, implP256Verify} {
				got, err := g.verify(ctx, impl)
				if err != nil {
					t.Fatal(err)
				}
				if got != b2i(want) {
					t.Errorf("impl %d in wasm = %d, native ecdsa.Verify = %v", impl, got, want)
				}
			}
		})
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
