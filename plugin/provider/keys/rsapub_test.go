package keys

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"testing"
)

// TestRSAKeyCarriesRSAPub: every parsed RSA key and its Restrict copies
// share one rsapub holder, whose constants accept the key's own RS*
// signatures and refuse a corrupted one, whichever path useRSAPub selects
// for Verify.
func TestRSAKeyCarriesRSAPub(t *testing.T) {
	signer := genKeys(t)[1].signer
	k, err := ParsePublicKey(spkiPEM(t, signer.Public()))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("header.payload")
	d256, d384, d512 := sha256.Sum256(msg), sha512.Sum384(msg), sha512.Sum512(msg)
	cases := []struct {
		name   string
		alg    Alg
		h      crypto.Hash
		digest []byte
	}{
		{"RS256", RS256, crypto.SHA256, d256[:]},
		{"RS384", RS384, crypto.SHA384, d384[:]},
		{"RS512", RS512, crypto.SHA512, d512[:]},
	}
	for _, key := range []*Key{k, k.Restrict(RSAPKCS1)} {
		if key.rsaFast == nil || key.rsaFast != k.rsaFast {
			t.Fatal("RSA key without the shared rsapub holder")
		}
		fast := key.rsaFast.get(key.rsa)
		if fast == nil {
			t.Fatal("rsapub refused a parsed RSA key")
		}
		for _, c := range cases {
			sig := sign(t, signer, c.alg, msg)
			if !fast.VerifyPKCS1v15(c.h, c.digest, sig) || !key.Verify(c.alg, msg, sig) {
				t.Errorf("%s: valid signature refused", c.name)
			}
			sig[len(sig)/2] ^= 1
			if fast.VerifyPKCS1v15(c.h, c.digest, sig) || key.Verify(c.alg, msg, sig) {
				t.Errorf("%s: corrupted signature accepted", c.name)
			}
		}
	}
}

// TestNonRSAKeysHaveNoRSAPub: only RSA keys get a holder.
func TestNonRSAKeysHaveNoRSAPub(t *testing.T) {
	for _, g := range genKeys(t) {
		k, err := ParsePublicKey(spkiPEM(t, g.signer.Public()))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.rsaFast != nil, k.Type == TypeRSA; got != want {
			t.Errorf("%v key: holder %v, want %v", k.Type, got, want)
		}
	}
}
