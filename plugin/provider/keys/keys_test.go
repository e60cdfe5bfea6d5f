package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
)

type vectorFile struct {
	Common struct {
		Config struct {
			Users []struct {
				Username   string   `json:"username"`
				PublicKeys []string `json:"public_keys"`
			} `json:"users"`
			JWKSDocuments map[string]json.RawMessage `json:"jwks_documents"`
		} `json:"config"`
		Fingerprints map[string][]string `json:"key_fingerprints"`
	} `json:"common"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	b, err := os.ReadFile("../../../tests/testdata/jwt/asymmetric_jwt_auth.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The kid asymmetric-jwt-auth clients send is the SHA-256 of the PEM text
// cryptography writes; our re-encoding must match for PEM and OpenSSH keys.
func TestVectorFingerprints(t *testing.T) {
	v := loadVectors(t)
	for _, u := range v.Common.Config.Users {
		for i, text := range u.PublicKeys {
			k, err := ParsePublicKey([]byte(text))
			if err != nil {
				t.Fatalf("%s key %d: %v", u.Username, i, err)
			}
			if want := v.Common.Fingerprints[u.Username][i]; k.Fingerprint != want {
				t.Errorf("%s key %d: fingerprint %s, want %s", u.Username, i, k.Fingerprint, want)
			}
		}
	}
}

func TestVectorJWKS(t *testing.T) {
	v := loadVectors(t)
	s, err := ParseJWKS(v.Common.Config.JWKSDocuments["jwks_main"])
	if err != nil {
		t.Fatal(err)
	}
	k := s.Lookup("40e824c2fbe362dc77b652bba2c0759a76352dc5f27cd0800ca7b8363030e79a")
	if k == nil || k.Type != TypeRSA || k.Algs != AlgSet(0).With(RS512) {
		t.Fatalf("kid lookup: %+v", k)
	}
	// The server publishes kid = fingerprint, so both lookups agree.
	if k.Fingerprint != k.ID {
		t.Errorf("fingerprint %s != kid %s", k.Fingerprint, k.ID)
	}
}

type testKey struct {
	name   string
	signer crypto.Signer
	typ    Type
}

func genKeys(t testing.TB) []testKey {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	return []testKey{{"ed25519", ed, TypeEd25519}, {"rsa", r, TypeRSA}, {"p256", p256, TypeP256}, {"p384", p384, TypeP384}}
}

func spkiPEM(t testing.TB, pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func sshWire(parts ...[]byte) string {
	var b []byte
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mpint(b []byte) []byte {
	if len(b) > 0 && b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func openSSH(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return "ssh-ed25519 " + sshWire([]byte("ssh-ed25519"), p) + " me@host"
	case *rsa.PublicKey:
		return "ssh-rsa " + sshWire([]byte("ssh-rsa"), mpint(big.NewInt(int64(p.E)).Bytes()), mpint(p.N.Bytes())) + " deploy@ci"
	case *ecdsa.PublicKey:
		name := "nistp256"
		if p.Curve == elliptic.P384() {
			name = "nistp384"
		}
		pt, _ := p.Bytes()
		return "ecdsa-sha2-" + name + " " + sshWire([]byte("ecdsa-sha2-"+name), []byte(name), pt)
	}
	return ""
}

func jwk(pub crypto.PublicKey, extra string) string {
	enc := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return `{"kty":"OKP","crv":"Ed25519","x":"` + enc(p) + `"` + extra + `}`
	case *rsa.PublicKey:
		return `{"kty":"RSA","n":"` + enc(p.N.Bytes()) + `","e":"` + enc(big.NewInt(int64(p.E)).Bytes()) + `"` + extra + `}`
	case *ecdsa.PublicKey:
		size, crv := 32, "P-256"
		if p.Curve == elliptic.P384() {
			size, crv = 48, "P-384"
		}
		pt, _ := p.Bytes()
		return `{"kty":"EC","crv":"` + crv + `","x":"` + enc(pt[1:1+size]) + `","y":"` + enc(pt[1+size:]) + `"` + extra + `}`
	}
	return ""
}

func TestParseForms(t *testing.T) {
	for _, k := range genKeys(t) {
		pub := k.signer.Public()
		want := sha256.Sum256(spkiPEM(t, pub))
		forms := map[string]string{
			"spki pem": string(spkiPEM(t, pub)),
			"openssh":  openSSH(pub),
			"jwk":      jwk(pub, ""),
		}
		if r, ok := pub.(*rsa.PublicKey); ok {
			forms["pkcs1 pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(r)}))
		}
		for form, text := range forms {
			t.Run(k.name+"/"+form, func(t *testing.T) {
				got, err := ParsePublicKey([]byte(text))
				if err != nil {
					t.Fatal(err)
				}
				if got.Type != k.typ || got.Fingerprint != hex.EncodeToString(want[:]) {
					t.Fatalf("type %v fingerprint %s", got.Type, got.Fingerprint)
				}
			})
		}
	}
}

func sign(t testing.TB, s crypto.Signer, a Alg, msg []byte) []byte {
	var h crypto.Hash
	var digest []byte
	switch a {
	case RS256, PS256, ES256:
		d := sha256.Sum256(msg)
		h, digest = crypto.SHA256, d[:]
	case RS384, PS384, ES384:
		d := sha512.Sum384(msg)
		h, digest = crypto.SHA384, d[:]
	case RS512, PS512:
		d := sha512.Sum512(msg)
		h, digest = crypto.SHA512, d[:]
	case EdDSA:
		sig, err := s.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	var opts crypto.SignerOpts = h
	if a == PS256 || a == PS384 || a == PS512 {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	}
	if ec, ok := s.(*ecdsa.PrivateKey); ok {
		r, ss, err := ecdsa.Sign(rand.Reader, ec, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (ec.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		ss.FillBytes(out[size:])
		return out
	}
	sig, err := s.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestVerifyOnlyOwnAlgorithms(t *testing.T) {
	msg := []byte("header.payload")
	for _, k := range genKeys(t) {
		key, err := ParsePublicKey(spkiPEM(t, k.signer.Public()))
		if err != nil {
			t.Fatal(err)
		}
		for a := Alg(1); a < algCount; a++ {
			natural := k.typ.natural().Has(a)
			t.Run(k.name+"/"+a.String(), func(t *testing.T) {
				if !natural {
					if key.Verify(a, msg, make([]byte, 64)) || key.Allows(a) {
						t.Fatal("key allows a foreign algorithm")
					}
					return
				}
				sig := sign(t, k.signer, a, msg)
				if !key.Verify(a, msg, sig) {
					t.Fatal("valid signature refused")
				}
				if key.Verify(a, []byte("header.payloaD"), sig) {
					t.Fatal("signature over other data accepted")
				}
				if key.Restrict(0).Verify(a, msg, sig) {
					t.Fatal("restricted key still verifies")
				}
				if key.Verify(a, msg, append(sig, 0)) {
					t.Fatal("trailing byte accepted")
				}
			})
		}
	}
}

func TestParseHostile(t *testing.T) {
	ks := genKeys(t)
	ed, rsaKey, p256 := ks[0].signer.Public(), ks[1].signer.Public(), ks[2].signer.Public()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	privDER, _ := x509.MarshalPKCS8PrivateKey(ks[0].signer)
	rsaPEM := string(spkiPEM(t, rsaKey))
	edWire := strings.Fields(openSSH(ed))[1]
	cases := []struct {
		name string
		text string
		want error
	}{
		{"private pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), ErrPrivate},
		{"rsa 1024", string(spkiPEM(t, &small.PublicKey)), ErrWeakKey},
		{"rsa even exponent", jwk(&rsa.PublicKey{N: rsaKey.(*rsa.PublicKey).N, E: 65536}, ""), ErrBadExponent},
		{"rsa exponent 1", jwk(&rsa.PublicKey{N: rsaKey.(*rsa.PublicKey).N, E: 1}, ""), ErrBadExponent},
		{"pem trailing data", rsaPEM + "garbage", ErrPEMTrailing},
		{"pem two blocks", rsaPEM + rsaPEM, ErrPEMTrailing},
		{"pem unknown type", strings.ReplaceAll(rsaPEM, "PUBLIC KEY", "CERTIFICATE"), ErrUnsupported},
		{"jwk private d", jwk(ed, `,"d":"AAAA"`), ErrPrivate},
		{"jwk alg of other type", jwk(p256, `,"alg":"RS256"`), ErrJWKAlg},
		{"jwk alg HS256", jwk(rsaKey, `,"alg":"HS256"`), ErrJWKAlg},
		{"jwk alg none", jwk(rsaKey, `,"alg":"none"`), ErrJWKAlg},
		{"jwk use enc", jwk(ed, `,"use":"enc"`), ErrJWKUse},
		{"jwk key_ops sign only", jwk(ed, `,"key_ops":["sign"]`), ErrJWKUse},
		{"jwk duplicate kty", jwk(ed, `,"kty":"RSA"`), ErrMalformed},
		{"jwk padded base64", strings.Replace(jwk(ed, ""), `"}`, `="}`, 1), ErrJWKMember},
		{"jwk trailing comma", strings.TrimSuffix(jwk(ed, ""), "}") + ",}", ErrMalformed},
		{"jwk number kid", jwk(ed, `,"kid":1`), ErrJWKMember},
		{"jwk oct", `{"kty":"oct","k":"AAAA"}`, ErrPrivate},
		{"jwk ec point off curve", `{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 42) + `E"}`, ErrBadPoint},
		{"jwk ec short coordinate", `{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`, ErrMalformed},
		{"jwk ed25519 short", `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`, ErrMalformed},
		{"jwk X25519", `{"kty":"OKP","crv":"X25519","x":"AAAA"}`, ErrUnsupported},
		{"openssh type mismatch", "ssh-rsa " + edWire, ErrMalformed},
		{"openssh bad base64", "ssh-ed25519 !!!!", ErrMalformed},
		{"openssh truncated", "ssh-ed25519 " + edWire[:20], ErrMalformed},
		{"openssh dss", "ssh-dss " + sshWire([]byte("ssh-dss")), ErrUnsupported},
		{"empty", "", ErrUnsupported},
		{"not a key", "hello", ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParsePublicKey([]byte(c.text))
			if k != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", k, err, c.want)
			}
		})
	}
}

func TestJWKSHostile(t *testing.T) {
	ed := genKeys(t)[0].signer.Public()
	one := jwk(ed, `,"kid":"a"`)
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"no keys member", `{}`, ErrJWKS},
		{"keys not array", `{"keys":{}}`, ErrJWKS},
		{"duplicate kid", `{"keys":[` + one + `,` + one + `]}`, ErrDupKid},
		{"duplicate keys member", `{"keys":[],"keys":[]}`, ErrJWKS},
		{"non-object entry", `{"keys":[1]}`, ErrJWKS},
		{"trailing data", `{"keys":[]} x`, ErrJWKS},
		{"too many", `{"keys":[` + strings.Repeat(`{"kty":"oct","use":"enc"},`, MaxSetKeys) + one + `]}`, ErrTooMany},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseJWKS([]byte(c.doc))
			if s != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %v; want %v", err, c.want)
			}
		})
	}
	s, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},` + one + `]}`))
	if err != nil || s.Len() != 1 || s.Lookup("a") == nil {
		t.Fatalf("encryption key not skipped: %v", err)
	}
}
