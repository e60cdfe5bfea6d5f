package p256verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"testing"
)

// fuzzKeys are fixed keys for FuzzVerify, chosen for their edges: d = 1
// (Q = G, so [u1]G + [u2]Q adds equal points when u1 = u2), d = n − 1
// (Q = −G: R is the point at infinity whenever e = r), and an ordinary d.
func fuzzKeys(tb testing.TB) []keyPair {
	tb.Helper()
	ds := []*big.Int{
		big.NewInt(1),
		new(big.Int).Sub(order, big.NewInt(1)),
		new(big.Int).SetBytes([]byte("p256verify fuzz key, fixed d.!!!")),
	}
	keys := make([]keyPair, len(ds))
	for i, d := range ds {
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d.FillBytes(make([]byte, 32)))
		if err != nil {
			tb.Fatal(err)
		}
		pub, err := NewPublicKey(&priv.PublicKey)
		if err != nil {
			tb.Fatal(err)
		}
		keys[i] = keyPair{priv, pub}
	}
	return keys
}

// FuzzVerify compares Verify with crypto/ecdsa on arbitrary hashes and
// signatures: sig is split in half into r and s (any lengths), key picks
// one of fuzzKeys. The seeds are valid signatures under each key, their
// edge forms, and R-at-infinity cases.
//
//	go test -run XXX -fuzz FuzzVerify -fuzztime 3m .
func FuzzVerify(f *testing.F) {
	keys := fuzzKeys(f)
	hash := []byte("0123456789abcdef0123456789abcdef")
	for i, k := range keys {
		r, s := sign(f, k.priv, hash)
		f.Add(hash, append(r, s...), uint8(i))
		f.Add(hash[:20], append(r, s...), uint8(i))
		f.Add(make([]byte, 32), append(r, s...), uint8(i))
		f.Add(hash, append(order.Bytes(), s...), uint8(i))
		// e = r under Q = −G gives u1 = u2, so R = infinity.
		f.Add(r, append(r, s...), uint8(i))
	}
	f.Add([]byte{}, []byte{}, uint8(0))
	f.Add([]byte{1}, []byte{1, 1}, uint8(1))
	f.Fuzz(func(t *testing.T, hash, sig []byte, key uint8) {
		k := keys[int(key)%len(keys)]
		check(t, k, hash, sig[:len(sig)/2], sig[len(sig)/2:], "fuzz")
	})
}

// TestEqualPoints covers the keys d = 1 and d = n − 1 with e = r, so
// u1 = u2: with Q = G both combs add the same multiples (R = [2·u1]G);
// with Q = −G every addition of the second comb cancels one of the first
// and R is the point at infinity, which must be refused. nistec's Add is
// complete, so equal and opposite points need no special case; this checks
// that nothing here assumes otherwise.
func TestEqualPoints(t *testing.T) {
	keys := fuzzKeys(t)
	for _, k := range keys[:2] {
		for range 20 {
			// hash = r: e = r, so u1 = u2 whatever s is.
			r, s := sign(t, k.priv, randomHash(t))
			check(t, k, r, r, s, "e = r")
			// a valid signature of e = r, so the accepted path runs too.
			r2, s2 := sign(t, k.priv, r)
			if !check(t, k, r, r2, s2, "valid, e = r") {
				t.Fatal("refused")
			}
		}
	}
}

func randomHash(t *testing.T) []byte {
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		t.Fatal(err)
	}
	return h
}
