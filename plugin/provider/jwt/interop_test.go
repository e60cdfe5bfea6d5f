package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

const python = "/usr/bin/python3"

// requirePyJWT skips when Debian's python3-jwt is not installed.
func requirePyJWT(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skip("skipping PyJWT interop: /usr/bin/python3 not found")
	}
	if out, err := exec.Command(python, "-c", "import jwt, cryptography").CombinedOutput(); err != nil {
		t.Skipf("skipping PyJWT interop: python3-jwt/python3-cryptography missing (%s)", strings.TrimSpace(string(out)))
	}
}

// mintScript generates one key per algorithm family, publishes them as a
// JWKS (with kid and alg) and signs one standard token per algorithm.
const mintScript = `
import json, sys, time, jwt
from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519
now = int(sys.argv[1])
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
p256 = ec.generate_private_key(ec.SECP256R1())
p384 = ec.generate_private_key(ec.SECP384R1())
ed = ed25519.Ed25519PrivateKey.generate()
keys, tokens = [], []
for alg, key, algo in [("RS256", rsa_key, RSAAlgorithm), ("RS384", rsa_key, RSAAlgorithm), ("RS512", rsa_key, RSAAlgorithm),
                       ("PS256", rsa_key, RSAAlgorithm), ("PS384", rsa_key, RSAAlgorithm), ("PS512", rsa_key, RSAAlgorithm),
                       ("ES256", p256, ECAlgorithm), ("ES384", p384, ECAlgorithm), ("EdDSA", ed, OKPAlgorithm)]:
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk.update(kid="k-" + alg, alg=alg, use="sig")
    keys.append(jwk)
    claims = {"iss": "https://idp.test", "sub": "svc-" + alg.lower(), "aud": ["api", "other"], "iat": now,
              "nbf": now - 5, "exp": now + 300, "jti": "j-" + alg, "scope": "read write",
              "org": {"team": "blue", "tags": ["a", "b"]}}
    tokens.append({"alg": alg, "token": jwt.encode(claims, key, algorithm=alg, headers={"kid": "k-" + alg})})
print(json.dumps({"jwks": {"keys": keys}, "tokens": tokens}))
`

func TestPyJWTMintsWeVerify(t *testing.T) {
	requirePyJWT(t)
	out, err := exec.Command(python, "-c", mintScript, strconv.Itoa(t0)).Output()
	if err != nil {
		t.Fatalf("PyJWT minting failed: %v", err)
	}
	var minted struct {
		JWKS   json.RawMessage `json:"jwks"`
		Tokens []struct{ Alg, Token string }
	}
	if err := json.Unmarshal(out, &minted); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{
		"profile": "standard", "issuer": "https://idp.test", "audiences": []string{"api"},
		"jwks": minted.JWKS, "claims_to_headers": map[string]string{"org.team": "x-team"},
	})
	p := build(t, doc, provider.Deps{})
	for _, tk := range minted.Tokens {
		t.Run(tk.Alg, func(t *testing.T) {
			req := &provider.Request{Now: t0 * 1e9, Headers: []provider.Header{{Name: "authorization", Value: "Bearer " + tk.Token}}}
			id, err := p.Verify(req)
			if err != nil {
				t.Fatalf("PyJWT %s token refused: %v", tk.Alg, err)
			}
			if id.Subject != "svc-"+strings.ToLower(tk.Alg) || strings.Join(id.Scopes, " ") != "read write" {
				t.Fatalf("identity %+v", id)
			}
			if strings.Join(id.Claims["org.tags"], ",") != "a,b" || id.Headers[0].Value != "blue" {
				t.Fatalf("claims %v headers %v", id.Claims, id.Headers)
			}
			if id.ExpiresAt != (t0+300)*1e9 {
				t.Fatalf("expires %d", id.ExpiresAt)
			}
			// Same token after exp: refused even though it is cached.
			req.Now = (t0 + 300) * 1e9
			if _, err := p.Verify(req); provider.ReasonOf(err) != provider.ReasonExpired {
				t.Fatalf("after exp: %v", err)
			}
		})
	}
}

const verifyScript = `
import json, sys, jwt
args = json.load(sys.stdin)
for c in args["cases"]:
    claims = jwt.decode(c["token"], c["pem"], algorithms=[c["alg"]], options={"verify_exp": False, "verify_iat": False})
    assert claims["username"] == "svc-ec", claims
print("ok")
`

// The reverse: tokens shaped like asymmetric-jwt-auth's, signed by Go's
// stdlib the way our hostile tests sign them, verify with PyJWT, so those
// tests exercise real-world encodings (raw R||S ECDSA, EdDSA).
func TestWeMintPyJWTVerifies(t *testing.T) {
	requirePyJWT(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	f := newFixture(t, nil)
	var cases []map[string]string
	for _, c := range []struct {
		alg string
		key any
		pem string
	}{
		{"ES256", ec, ecPEM},
		{"PS256", f.rsa, f.rsaPEM},
		{"RS512", f.rsa, f.rsaPEM},
	} {
		tok := mint(t, c.key, c.alg, `{"alg":"`+c.alg+`","typ":"JWT"}`, claimsJSON("svc-ec", ""))
		cases = append(cases, map[string]string{"alg": c.alg, "token": tok, "pem": c.pem})
	}
	in, _ := json.Marshal(map[string]any{"cases": cases})
	cmd := exec.Command(python, "-c", verifyScript)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("PyJWT refused our tokens: %v\n%s", err, out)
	}
}
