package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"math/big"
	"testing"
)

// refVerifyEC is verifyEC as it was: big.Ints through ecdsa.Verify.
func refVerifyEC(pub *ecdsa.PublicKey, digest, sig []byte, size int) bool {
	if pub == nil || len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, digest, r, s)
}

type ecCase struct {
	key  *ecdsa.PrivateKey
	size int
	hash func([]byte) []byte
}

func ecCases(t testing.TB) []ecCase {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return []ecCase{
		{p256, 32, func(m []byte) []byte { h := sha256.Sum256(m); return h[:] }},
		{p384, 48, func(m []byte) []byte { h := sha512.Sum384(m); return h[:] }},
	}
}

// rawSig signs msg and returns R ‖ S.
func rawSig(t testing.TB, c ecCase, msg []byte) []byte {
	r, s, err := ecdsa.Sign(rand.Reader, c.key, c.hash(msg))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 2*c.size)
	r.FillBytes(out[:c.size])
	s.FillBytes(out[c.size:])
	return out
}

// TestVerifyECMatchesBigInt: the direct DER path and ecdsa.Verify agree on
// valid signatures, every single-bit flip of them, zero and oversized
// halves, the group order, and random bytes.
func TestVerifyECMatchesBigInt(t *testing.T) {
	for _, c := range ecCases(t) {
		pub := &c.key.PublicKey
		n := c.key.Curve.Params().N
		msg := []byte("header.payload")
		digest := c.hash(msg)
		good := rawSig(t, c, msg)
		check := func(name string, sig []byte) {
			t.Helper()
			if got, want := verifyEC(pub, digest, sig, c.size), refVerifyEC(pub, digest, sig, c.size); got != want {
				t.Fatalf("%s %x: got %v, ecdsa.Verify %v", name, sig, got, want)
			}
		}
		check("valid", good)
		if !verifyEC(pub, digest, good, c.size) {
			t.Fatal("valid signature refused")
		}
		for bit := 0; bit < len(good)*8; bit++ {
			sig := append([]byte(nil), good...)
			sig[bit/8] ^= 1 << (bit % 8)
			check("flip", sig)
		}
		half := func(v *big.Int) []byte { return v.FillBytes(make([]byte, c.size)) }
		zero := make([]byte, c.size)
		ff := make([]byte, c.size)
		for i := range ff {
			ff[i] = 0xff
		}
		for _, parts := range [][2][]byte{
			{zero, good[c.size:]}, {good[:c.size], zero}, {zero, zero}, {ff, ff},
			{half(n), good[c.size:]}, {good[:c.size], half(n)},
			{half(new(big.Int).Sub(n, big.NewInt(1))), good[c.size:]},
			{half(big.NewInt(1)), half(big.NewInt(1))}, {half(big.NewInt(0x80)), half(big.NewInt(0x7f))},
		} {
			check("edge", append(append([]byte(nil), parts[0]...), parts[1]...))
		}
		check("short", good[1:])
		check("long", append(append([]byte(nil), good...), 0))
		for i := 0; i < 300; i++ {
			sig := make([]byte, 2*c.size)
			_, _ = rand.Read(sig)
			sig[0] &= byte(i) // vary the leading bytes: high bit, zeros
			sig[c.size] &= byte(i >> 3)
			check("random", sig)
		}
		for i := 0; i < 50; i++ {
			m := []byte{byte(i), byte(i >> 8)}
			sig := rawSig(t, c, m)
			if !verifyEC(pub, c.hash(m), sig, c.size) {
				t.Fatalf("fresh signature %d refused", i)
			}
		}
	}
}

// TestASN1RSMatchesEncodingASN1: asn1RS writes the DER encoding/asn1
// writes for SEQUENCE { INTEGER, INTEGER }.
func TestASN1RSMatchesEncodingASN1(t *testing.T) {
	vals := [][]byte{{1}, {0x7f}, {0x80}, {0xff}, {0, 0, 0x80}, {0, 1, 2}, make([]byte, 48)}
	vals[len(vals)-1][0] = 0xc0
	for _, r := range vals {
		for _, s := range vals {
			got, ok := asn1RS(nil, r, s)
			want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
			if !ok || err != nil || string(got) != string(want) {
				t.Fatalf("r %x s %x: got %x (%v), want %x (%v)", r, s, got, ok, want, err)
			}
		}
	}
	if _, ok := asn1RS(nil, []byte{0, 0}, []byte{1}); ok {
		t.Fatal("zero r accepted")
	}
}

// FuzzVerifyEC: the DER path and ecdsa.Verify agree on any signature bytes.
func FuzzVerifyEC(f *testing.F) {
	cs := ecCases(f)
	msg := []byte("m")
	for _, c := range cs {
		f.Add(rawSig(f, c, msg))
	}
	f.Fuzz(func(t *testing.T, sig []byte) {
		for _, c := range cs {
			digest := c.hash(msg)
			if got, want := verifyEC(&c.key.PublicKey, digest, sig, c.size), refVerifyEC(&c.key.PublicKey, digest, sig, c.size); got != want {
				t.Fatalf("%x: got %v, ecdsa.Verify %v", sig, got, want)
			}
		}
	})
}

// BenchmarkVerifyES256: the direct DER path against ecdsa.Verify's.
func BenchmarkVerifyES256(b *testing.B) {
	c := ecCases(b)[0]
	msg := []byte("header.payload")
	sig, digest := rawSig(b, c, msg), c.hash(msg)
	b.Run("der", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			verifyEC(&c.key.PublicKey, digest, sig, 32)
		}
	})
	b.Run("bigint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			refVerifyEC(&c.key.PublicKey, digest, sig, 32)
		}
	})
}
