package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"testing"
)

func (c *tableCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.next, c.built = [es256Tables]tableEntry{}, 0, 0
}

// p256Key parses a fresh P-256 key the way configuration does (PEM).
func p256Key(t testing.TB) (*ecdsa.PrivateKey, *Key) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(spkiPEM(t, &priv.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if k.p256 == nil {
		t.Fatal("parsed P-256 key has no point for the table cache")
	}
	return priv, k
}

func es256Sig(t testing.TB, priv *ecdsa.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig
}

// TestES256TableAfterValidSignature: parsing builds no table, a forged
// signature builds none, the first valid one builds the key's table, and
// a key parsed again (a JWKS refresh) finds it.
func TestES256TableAfterValidSignature(t *testing.T) {
	es256.reset()
	t.Cleanup(es256.reset)
	priv, k := p256Key(t)
	msg := []byte("header.payload")
	sig := es256Sig(t, priv, msg)
	forged := append([]byte(nil), sig...)
	forged[10] ^= 1
	if es256.built != 0 {
		t.Fatalf("parsing built %d tables", es256.built)
	}
	if k.Verify(ES256, msg, forged) || es256.built != 0 || es256.lookup(k.p256) != nil {
		t.Fatalf("a forged signature verified or built a table (built %d)", es256.built)
	}
	if !k.Verify(ES256, msg, sig) || es256.built != 1 || es256.lookup(k.p256) == nil {
		t.Fatalf("the first valid signature did not build the table (built %d)", es256.built)
	}
	again, err := ParsePublicKey(spkiPEM(t, &priv.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Verify(ES256, msg, sig) || again.Verify(ES256, msg, forged) || es256.built != 1 {
		t.Fatalf("the re-parsed key did not share the table (built %d)", es256.built)
	}
}

// TestES256TableCacheBounded: more signing keys than entries evict the
// oldest tables; every key keeps deciding correctly, with or without one.
func TestES256TableCacheBounded(t *testing.T) {
	es256.reset()
	t.Cleanup(es256.reset)
	msg := []byte("m")
	type signer struct {
		priv *ecdsa.PrivateKey
		key  *Key
	}
	var ss []signer
	for range es256Tables + 3 {
		priv, k := p256Key(t)
		ss = append(ss, signer{priv, k})
	}
	for round := 0; round < 2; round++ {
		for i, s := range ss {
			sig := es256Sig(t, s.priv, msg)
			if !s.key.Verify(ES256, msg, sig) {
				t.Fatalf("round %d key %d: valid signature refused", round, i)
			}
			other := es256Sig(t, ss[(i+1)%len(ss)].priv, msg)
			if s.key.Verify(ES256, msg, other) {
				t.Fatalf("round %d key %d: another key's signature accepted", round, i)
			}
		}
	}
	held := 0
	for _, s := range ss {
		if es256.lookup(s.key.p256) != nil {
			held++
		}
	}
	if held != es256Tables {
		t.Fatalf("%d tables held, want %d", held, es256Tables)
	}
}

// TestES256MatchesECDSA: with and without a table, Key.Verify(ES256)
// agrees with ecdsa.Verify on valid signatures, their high-S twins, bit
// flips, and out-of-range halves (p256verify's own tests run millions).
func TestES256MatchesECDSA(t *testing.T) {
	es256.reset()
	t.Cleanup(es256.reset)
	priv, k := p256Key(t)
	n := elliptic.P256().Params().N
	for _, withTable := range []bool{false, true} {
		if withTable {
			msg := []byte("warm")
			if !k.Verify(ES256, msg, es256Sig(t, priv, msg)) || es256.lookup(k.p256) == nil {
				t.Fatal("no table after a valid signature")
			}
		}
		for i := 0; i < 60; i++ {
			msg := []byte{byte(i), byte(i >> 8), 'x'}
			sig := es256Sig(t, priv, msg)
			s := new(big.Int).SetBytes(sig[32:])
			high := append([]byte(nil), sig...)
			new(big.Int).Sub(n, s).FillBytes(high[32:])
			flipped := append([]byte(nil), sig...)
			flipped[i%64] ^= byte(1 << (i % 8))
			overN := append([]byte(nil), sig...)
			n.FillBytes(overN[:32])
			for _, c := range [][]byte{sig, high, flipped, overN, make([]byte, 64)} {
				h := sha256.Sum256(msg)
				want := ecdsa.Verify(&priv.PublicKey, h[:], new(big.Int).SetBytes(c[:32]), new(big.Int).SetBytes(c[32:]))
				if got := k.Verify(ES256, msg, c); got != want {
					t.Fatalf("table %v, case %d: Verify %v, ecdsa.Verify %v", withTable, i, got, want)
				}
			}
		}
	}
}
