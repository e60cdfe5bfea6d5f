package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

const t0 = 1718200003

var enc = base64.RawURLEncoding.EncodeToString

type fixture struct {
	rsa     *rsa.PrivateKey
	ed      ed25519.PrivateKey
	ec      *ecdsa.PrivateKey
	rsaPEM  string // svc-rsa public key
	p       *Provider
	deps    provider.Deps
	doc     []byte
	vectors vectorFile
}

func parsePriv(t testing.TB, s string) crypto.Signer {
	b, _ := pem.Decode([]byte(s))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// newFixture: the vector clients plus an EC P-256 client "svc-ec".
func newFixture(t testing.TB, extra map[string]any) *fixture {
	v := loadVectors(t)
	f := &fixture{vectors: v}
	f.rsa = parsePriv(t, v.Common.PrivateKeys["rsa_client"]).(*rsa.PrivateKey)
	f.ed = parsePriv(t, v.Common.PrivateKeys["ed25519_client"]).(ed25519.PrivateKey)
	f.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&f.ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	var cfg map[string]any
	_ = json.Unmarshal(vectorConfig(t, v, true), &cfg)
	cfg["clients"].(map[string]any)["svc-ec"] = map[string]any{"keys": []string{ecPEM}}
	for _, u := range v.Common.Config.Users {
		if u.Username == "svc-rsa" {
			f.rsaPEM = u.PublicKeys[0]
		}
	}
	for k, val := range extra {
		cfg[k] = val
	}
	f.doc, _ = json.Marshal(cfg)
	f.deps = newDeps()
	f.p = build(t, f.doc, f.deps)
	return f
}

func signWith(t testing.TB, key any, alg, input string) []byte {
	msg := []byte(input)
	hashFor := func() (crypto.Hash, []byte) {
		switch alg[2:] {
		case "256":
			h := sha256.Sum256(msg)
			return crypto.SHA256, h[:]
		case "384":
			h := sha512.Sum384(msg)
			return crypto.SHA384, h[:]
		}
		h := sha512.Sum512(msg)
		return crypto.SHA512, h[:]
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg)
	case *rsa.PrivateKey:
		h, d := hashFor()
		if alg[0] == 'P' {
			s, _ := rsa.SignPSS(rand.Reader, k, h, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			return s
		}
		s, _ := rsa.SignPKCS1v15(nil, k, h, d)
		return s
	case *ecdsa.PrivateKey:
		_, d := hashFor()
		r, s, _ := ecdsa.Sign(rand.Reader, k, d)
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	case []byte: // HMAC secret
		h := hmac.New(sha256.New, k)
		if alg == "HS512" {
			h = hmac.New(sha512.New, k)
		}
		h.Write(msg)
		return h.Sum(nil)
	}
	t.Fatalf("unknown key %T", key)
	return nil
}

// mint builds header.payload.signature from raw JSON texts.
func mint(t testing.TB, key any, alg, header, payload string) string {
	input := enc([]byte(header)) + "." + enc([]byte(payload))
	if key == nil {
		return input + "."
	}
	return input + "." + enc(signWith(t, key, alg, input))
}

func claimsJSON(user string, extra string) string {
	return `{"username":"` + user + `","time":` + strconv.Itoa(t0) + `,"nonce":"n-` + strconv.Itoa(nonceSeq()) + `"` + extra + `}`
}

var seq int

func nonceSeq() int { seq++; return seq }

func authReq(tok string) *provider.Request {
	return &provider.Request{Method: "GET", Path: "/", Now: t0 * 1e9,
		Headers: []provider.Header{{Name: "authorization", Value: "JWT " + tok}}}
}

func TestHostile(t *testing.T) {
	f := newFixture(t, nil)
	rs := `{"alg":"RS512","typ":"JWT"}`
	good := mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", ""))
	parts := strings.Split(good, ".")
	sigBytes, _ := base64.RawURLEncoding.DecodeString(parts[2])

	// An attacker's own key, advertised through token headers.
	attacker, _ := rsa.GenerateKey(rand.Reader, 2048)
	attackerJWK := `{"kty":"RSA","n":"` + enc(attacker.N.Bytes()) + `","e":"AQAB"}`

	// Ed25519 malleability: S + L is the same signature to a lax verifier.
	edTok := mint(t, f.ed, "EdDSA", `{"alg":"EdDSA"}`, claimsJSON("svc-ed25519", ""))
	edParts := strings.Split(edTok, ".")
	edSig, _ := base64.RawURLEncoding.DecodeString(edParts[2])
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	sLE := make([]byte, 32)
	for i := range sLE {
		sLE[i] = edSig[63-i]
	}
	s := new(big.Int).Add(new(big.Int).SetBytes(sLE), l).FillBytes(make([]byte, 32))
	malleated := append([]byte(nil), edSig[:32]...)
	for i := 0; i < 32; i++ {
		malleated = append(malleated, s[31-i])
	}

	// A non-canonical base64 re-encoding of the same signature: flip the
	// unused low bits of the last character.
	last := parts[2][len(parts[2])-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	idx := strings.IndexByte(alphabet, last)
	reenc := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + string(alphabet[idx|1])

	ecTok := mint(t, f.ec, "ES256", `{"alg":"ES256"}`, claimsJSON("svc-ec", ""))
	ecParts := strings.Split(ecTok, ".")
	ecSig, _ := base64.RawURLEncoding.DecodeString(ecParts[2])
	r, ss := new(big.Int).SetBytes(ecSig[:32]), new(big.Int).SetBytes(ecSig[32:])
	derSig := append(append([]byte{0x30, 0}, derInt(r)...), derInt(ss)...)
	derSig[1] = byte(len(derSig) - 2)

	nested := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)

	cases := []struct {
		name string
		tok  string
		hdr  string // full Authorization value when set
		want provider.Reason
	}{
		{"alg none", mint(t, nil, "", `{"alg":"none"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"alg None capitalised", mint(t, nil, "", `{"alg":"None"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"alg none with a signature", mint(t, nil, "", `{"alg":"none"}`, claimsJSON("svc-rsa", "")) + "AAAA", "", provider.ReasonAlgorithm},
		{"HS256 keyed with the public PEM", mint(t, []byte(f.rsaPEM), "HS256", `{"alg":"HS256"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"HS512 keyed with the public PEM", mint(t, []byte(f.rsaPEM), "HS512", `{"alg":"HS512"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"PS256 not in the profile's list", mint(t, f.rsa, "PS256", `{"alg":"PS256"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"EdDSA header on an RSA client", mint(t, f.ed, "EdDSA", `{"alg":"EdDSA"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"RS256 header on an Ed25519 client", mint(t, f.rsa, "RS256", `{"alg":"RS256"}`, claimsJSON("svc-ed25519", "")), "", provider.ReasonAlgorithm},
		{"ES256 header on an RSA client", mint(t, f.ec, "ES256", `{"alg":"ES256"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"alg escaped", mint(t, f.rsa, "RS512", `{"alg":"\u0052S512"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonAlgorithm},
		{"alg missing", mint(t, f.rsa, "RS512", `{"typ":"JWT"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"alg not a string", mint(t, f.rsa, "RS512", `{"alg":512}`, claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"kid of another client's key", mint(t, f.ed, "EdDSA", `{"alg":"EdDSA","kid":"059aee00042b6be896e71cc68d00da25be989f87a4514e547b7da774be532293"}`, claimsJSON("svc-two-keys", "")), "", provider.ReasonBadSignature},
		{"kid path injection on a JWKS client", mint(t, f.rsa, "RS512", `{"alg":"RS512","kid":"../../../../dev/null"}`, claimsJSON("svc-jwks", "")), "", provider.ReasonUnknown},
		{"kid SQL injection on a JWKS client", mint(t, f.rsa, "RS512", `{"alg":"RS512","kid":"x' OR '1'='1"}`, claimsJSON("svc-jwks", "")), "", provider.ReasonUnknown},
		{"jku to an attacker's JWKS", mint(t, attacker, "RS512", `{"alg":"RS512","jku":"https://evil.example/jwks.json"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonBadSignature},
		{"embedded jwk of the attacker", mint(t, attacker, "RS512", `{"alg":"RS512","jwk":`+attackerJWK+`}`, claimsJSON("svc-rsa", "")), "", provider.ReasonBadSignature},
		{"crit header", mint(t, f.rsa, "RS512", `{"alg":"RS512","crit":["exp"]}`, claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"b64 false header", mint(t, f.rsa, "RS512", `{"alg":"RS512","b64":false}`, claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"oversize", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"pad":"`+strings.Repeat("x", 9000)+`"`)), "", provider.ReasonOversize},
		{"four segments", good + ".AAAA", "", provider.ReasonMalformed},
		{"two segments", parts[0] + "." + parts[1], "", provider.ReasonMalformed},
		{"empty header segment", "." + parts[1] + "." + parts[2], "", provider.ReasonMalformed},
		{"padded base64", good + "==", "", provider.ReasonMalformed},
		{"non-canonical base64 tail", reenc, "", provider.ReasonMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", "", provider.ReasonMalformed},
		{"newline inside", parts[0] + ".\n" + parts[1] + "." + parts[2], "", provider.ReasonMalformed},
		{"trailing space", "", "JWT " + good + " ", provider.ReasonMalformed},
		{"double space after scheme", "", "JWT  " + good, provider.ReasonMalformed},
		{"tab instead of space", "", "JWT\t" + good, provider.ReasonMissing},
		{"scheme only", "", "JWT", provider.ReasonMalformed},
		{"other scheme", "", "Basic " + good, provider.ReasonMissing},
		{"duplicate username", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","username":"svc-ed25519","time":1718200003,"nonce":"d1"}`), "", provider.ReasonMalformed},
		{"duplicate alg", mint(t, f.rsa, "RS512", `{"alg":"RS512","alg":"none"}`, claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"duplicate nested member", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"org":{"team":"a","team":"b"}`)), "", provider.ReasonMalformed},
		{"trailing comma in payload", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1718200003,"nonce":"tc",}`), "", provider.ReasonMalformed},
		{"data after payload JSON", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", "")+"x"), "", provider.ReasonMalformed},
		{"data after header JSON", mint(t, f.rsa, "RS512", rs+"{}", claimsJSON("svc-rsa", "")), "", provider.ReasonMalformed},
		{"payload is an array", mint(t, f.rsa, "RS512", rs, `["svc-rsa"]`), "", provider.ReasonMalformed},
		{"invalid UTF-8 in payload", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1718200003,"nonce":"`+"\xff"+`"}`), "", provider.ReasonMalformed},
		{"payload nested too deeply", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1718200003,"nonce":"d","x":`+nested+`}`), "", provider.ReasonMalformed},
		{"signature plus a byte", parts[0] + "." + parts[1] + "." + enc(append(append([]byte(nil), sigBytes...), 0)), "", provider.ReasonBadSignature},
		{"signature truncated", parts[0] + "." + parts[1] + "." + enc(sigBytes[:len(sigBytes)-1]), "", provider.ReasonBadSignature},
		{"signature with a leading zero", parts[0] + "." + parts[1] + "." + enc(append([]byte{0}, sigBytes...)), "", provider.ReasonBadSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", "", provider.ReasonBadSignature},
		{"Ed25519 S+L malleated", edParts[0] + "." + edParts[1] + "." + enc(malleated), "", provider.ReasonBadSignature},
		{"ECDSA DER signature", ecParts[0] + "." + ecParts[1] + "." + enc(derSig), "", provider.ReasonBadSignature},
		{"payload swapped after signing", parts[0] + "." + enc([]byte(claimsJSON("svc-rsa", ""))) + "." + parts[2], "", provider.ReasonBadSignature},
		{"username not a string", mint(t, f.rsa, "RS512", rs, `{"username":7,"time":1718200003,"nonce":"a"}`), "", provider.ReasonClaims},
		{"username empty", mint(t, f.rsa, "RS512", rs, `{"username":"","time":1718200003,"nonce":"a"}`), "", provider.ReasonClaims},
		{"time as a string", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":"1718200003","nonce":"a"}`), "", provider.ReasonClaims},
		{"time huge", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1e400,"nonce":"a"}`), "", provider.ReasonClaims},
		{"time zero", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":0,"nonce":"a"}`), "", provider.ReasonClaims},
		{"nonce empty", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1718200003,"nonce":""}`), "", provider.ReasonClaims},
		{"nonce an object", mint(t, f.rsa, "RS512", rs, `{"username":"svc-rsa","time":1718200003,"nonce":{}}`), "", provider.ReasonClaims},
		{"exp in the past", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"exp":1718200000`)), "", provider.ReasonExpired},
		{"exp not a number", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"exp":"never"`)), "", provider.ReasonClaims},
		{"nbf in the future", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"nbf":1718209999`)), "", provider.ReasonNotYetValid},
		{"iat in the future", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"iat":1718200013`)), "", provider.ReasonNotYetValid},
		{"aud without configured audiences", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-rsa", `,"aud":"other"`)), "", provider.ReasonAudience},
		{"unknown client", mint(t, f.rsa, "RS512", rs, claimsJSON("svc-nobody", "")), "", provider.ReasonUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := authReq(c.tok)
			if c.hdr != "" {
				req.Headers[0].Value = c.hdr
			}
			id, err := f.p.Verify(req)
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
			if id.Subject != "" || id.Claims != nil {
				t.Fatal("refusal carries an identity")
			}
		})
	}
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	// The untouched tokens do verify, so the refusals above are about the
	// alteration and not a broken fixture.
	for _, tok := range []string{good, edTok, ecTok} {
		if _, err := f.p.Verify(authReq(tok)); err != nil {
			t.Fatalf("fixture token refused: %v", err)
		}
	}
}

func derInt(v *big.Int) []byte {
	b := v.Bytes()
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return append([]byte{2, byte(len(b))}, b...)
}

func TestAmbiguousHeader(t *testing.T) {
	f := newFixture(t, nil)
	tok := mint(t, f.rsa, "RS512", `{"alg":"RS512"}`, claimsJSON("svc-rsa", ""))
	req := authReq(tok)
	req.Headers = append(req.Headers, provider.Header{Name: "authorization", Value: "JWT " + tok})
	if _, err := f.p.Verify(req); provider.ReasonOf(err) != provider.ReasonAmbiguous {
		t.Fatalf("got %v", err)
	}
}

// 0.x clients (up to 0.5.2) sent RS512 without kid, a float time and a
// float nonce; current servers still accept them.
func TestLegacyClientShape(t *testing.T) {
	f := newFixture(t, nil)
	tok := mint(t, f.rsa, "RS512", `{"alg":"RS512","typ":"JWT"}`, `{"username":"svc-rsa","time":1718200002.731,"nonce":0.8234123}`)
	id, err := f.p.Verify(authReq(tok))
	if err != nil || id.Subject != "svc-rsa" {
		t.Fatalf("legacy token: %v", err)
	}
	if _, err := f.p.Verify(authReq(tok)); provider.ReasonOf(err) != provider.ReasonReplayed {
		t.Fatalf("legacy replay: %v", err)
	}
}
