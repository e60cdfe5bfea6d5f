package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Interop with the original Python libraries (Debian's python3-django,
// python3-jwt and python3-cryptography under /usr/bin/python3; .ci/run
// installs them). Without them these tests skip and say why.

const systemPython = "/usr/bin/python3"

// python runs script with input as JSON on stdin and decodes its JSON
// output into out. It skips the test when the interpreter or module is
// missing.
func python(t *testing.T, module, script string, input, out any) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not found: install python3 with python3-django, python3-jwt and python3-cryptography to run interop tests", systemPython)
	}
	if err := exec.Command(systemPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("python module %s is missing in %s (apt-get install python3-%s)", module, systemPython, map[string]string{"django": "django", "jwt": "jwt", "cryptography": "cryptography"}[module])
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemPython, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("python output %q: %v", res, err)
	}
}

const djangoLoads = `
import json, sys
req = json.load(sys.stdin)
from django.conf import settings
settings.configure(SECRET_KEY=req["secret"])
from django.core import signing
out = []
for tok in req["tokens"]:
    try:
        out.append({"ok": signing.loads(tok, max_age=req["max_age"])})
    except signing.BadSignature as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

func TestScopedTokenLoadsInDjango(t *testing.T) {
	secret := "django-insecure-0123456789abcdefghij"
	now := time.Now()
	claims := ScopedClaims{User: 7, MaxAge: 300, Recipient: "Zoë \"the\" bot",
		Endpoints: []ScopedEndpoint{{Method: "GET", Prefixes: []string{"/exports", "/reports/ü"}}, {Method: "POST", Prefixes: []string{"/jobs"}}}}
	good, err := ScopedToken([]byte(secret), claims, now, ScopedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := ScopedToken([]byte(secret), claims, now.Add(-time.Hour), ScopedOptions{})
	wrongKey, _ := ScopedToken([]byte(secret+"x"), claims, now, ScopedOptions{})
	var out []struct {
		OK    map[string]any `json:"ok"`
		Error string         `json:"error"`
	}
	python(t, "django", djangoLoads, map[string]any{"secret": secret, "max_age": 600, "tokens": []string{good, old, wrongKey}}, &out)
	if len(out) != 3 {
		t.Fatalf("got %d answers", len(out))
	}
	got := out[0].OK
	if got == nil || got["user"] != 7.0 || got["max_age"] != 300.0 || got["recipient"] != claims.Recipient {
		t.Fatalf("Django read %+v (error %q)", got, out[0].Error)
	}
	eps, _ := got["endpoints"].(map[string]any)
	if p, _ := eps["GET"].([]any); len(p) != 2 || p[1] != "/reports/ü" {
		t.Fatalf("endpoints %+v", eps)
	}
	if out[1].Error != "SignatureExpired" {
		t.Fatalf("an hour-old token: %+v", out[1])
	}
	if out[2].Error != "BadSignature" {
		t.Fatalf("wrong key: %+v", out[2])
	}
}

// Django's own dumps at the same second gives the same bytes: the format is
// reproduced exactly, not just accepted.
func TestScopedTokenEqualsDjangoDumps(t *testing.T) {
	secret := "django-insecure-0123456789abcdefghij"
	now := time.Unix(1767225600, 0)
	claims := ScopedClaims{User: 42, MaxAge: 60, Endpoints: []ScopedEndpoint{{Method: "GET", Prefixes: []string{"/a", "/b"}}}}
	want, err := ScopedToken([]byte(secret), claims, now, ScopedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	python(t, "django", `
import json, sys, time
req = json.load(sys.stdin)
time.time = lambda: req["now"]
from django.conf import settings
settings.configure(SECRET_KEY=req["secret"])
from django.core import signing
print(json.dumps(signing.dumps({"user": 42, "max_age": 60, "endpoints": {"GET": ["/a", "/b"]}})))
`, map[string]any{"secret": secret, "now": now.Unix()}, &got)
	if got != want {
		t.Fatalf("Django %q\nGo     %q", got, want)
	}
}

const pyjwtDecode = `
import json, sys, jwt
req = json.load(sys.stdin)
out = []
for c in req["cases"]:
    try:
        kw = {}
        if c.get("aud"): kw["audience"] = c["aud"]
        if c.get("iss"): kw["issuer"] = c["iss"]
        claims = jwt.decode(c["token"], c["key"], algorithms=[c["alg"]], **kw)
        out.append({"ok": claims, "header": jwt.get_unverified_header(c["token"])})
    except jwt.PyJWTError as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

func TestJWTDecodesInPyJWT(t *testing.T) {
	now := time.Now()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	type pycase struct {
		Token string `json:"token"`
		Key   string `json:"key"`
		Alg   string `json:"alg"`
		Aud   string `json:"aud,omitempty"`
		Iss   string `json:"iss,omitempty"`
	}
	cases := []struct {
		name   string
		signer JWTSigner
		verify crypto.PublicKey
		alg    string
		ok     bool
	}{
		{"asymmetric-jwt-auth EdDSA", JWTSigner{Key: ed, Username: "bot"}, ed.Public(), "EdDSA", true},
		{"asymmetric-jwt-auth ES256", JWTSigner{Key: ec, Username: "bot", Scope: "a b"}, ec.Public(), "ES256", true},
		{"asymmetric-jwt-auth RS512", JWTSigner{Key: rs, Username: "bot"}, rs.Public(), "RS512", true},
		{"standard PS256", JWTSigner{Key: rs, Algorithm: "PS256", Standard: true, Issuer: "me", Subject: "s", Audience: "api"}, rs.Public(), "PS256", true},
		{"standard EdDSA", JWTSigner{Key: ed, Standard: true, Issuer: "me", Subject: "s", Audience: "api", TTL: time.Hour}, ed.Public(), "EdDSA", true},
		{"wrong key", JWTSigner{Key: other, Username: "bot"}, ed.Public(), "EdDSA", false},
	}
	var in []pycase
	for _, c := range cases {
		tok, err := c.signer.Sign(now)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := PublicPEM(c.verify)
		pc := pycase{Token: tok, Key: pub, Alg: c.alg}
		if c.signer.Standard {
			pc.Aud, pc.Iss = "api", "me"
		}
		in = append(in, pc)
	}
	var out []struct {
		OK     map[string]any `json:"ok"`
		Header map[string]any `json:"header"`
		Error  string         `json:"error"`
	}
	python(t, "jwt", pyjwtDecode, map[string]any{"cases": in}, &out)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := out[i]
			if !c.ok {
				if r.Error != "InvalidSignatureError" {
					t.Fatalf("PyJWT: %+v", r)
				}
				return
			}
			if r.OK == nil {
				t.Fatalf("PyJWT refused: %s", r.Error)
			}
			if c.signer.Standard {
				if r.OK["sub"] != "s" || r.OK["exp"].(float64) <= float64(now.Unix()) || r.OK["jti"] == "" {
					t.Fatalf("claims %+v", r.OK)
				}
			} else if r.OK["username"] != "bot" || r.OK["time"] != float64(now.Unix()) || r.OK["nonce"] == nil {
				t.Fatalf("claims %+v", r.OK)
			}
			if fp, _ := Fingerprint(c.verify); r.Header["kid"] != fp {
				t.Fatalf("kid %v, want the key fingerprint", r.Header["kid"])
			}
			if c.signer.Scope != "" && r.OK["scope"] != c.signer.Scope {
				t.Fatalf("scope %v", r.OK["scope"])
			}
		})
	}
}

// An authnzerver key opens with the cryptography package's Fernet (what
// authnzerver uses) and its payload is what authnzerver's json.loads reads.
func TestAuthnzerverKeyOpensWithPythonFernet(t *testing.T) {
	fernetKey := "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	now := time.Now().Truncate(time.Second)
	key, err := AuthnzerverAPIKey(fernetKey, AuthnzerverKey{Issuer: "authnzerver", Version: 1, UserID: 7, Role: "staff",
		Audience: "api.example.test", Subject: []string{"/a", "/b"}, IPAddress: "127.0.0.1",
		IssuedAt: now, NotBefore: now, Expires: now.Add(time.Hour)}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Claims map[string]any `json:"claims"`
		TS     int64          `json:"ts"`
		Wrong  string         `json:"wrong"`
	}
	python(t, "cryptography", `
import json, sys
from cryptography.fernet import Fernet, InvalidToken
req = json.load(sys.stdin)
f = Fernet(req["key"].encode())
claims = json.loads(f.decrypt(req["token"].encode(), ttl=600))
ts = f.extract_timestamp(req["token"].encode())
try:
    Fernet(Fernet.generate_key()).decrypt(req["token"].encode())
    wrong = "opened"
except InvalidToken:
    wrong = "InvalidToken"
print(json.dumps({"claims": claims, "ts": ts, "wrong": wrong}))
`, map[string]string{"key": fernetKey, "token": key}, &out)
	c := out.Claims
	if c["iss"] != "authnzerver" || c["ver"] != 1.0 || c["uid"] != 7.0 || c["rol"] != "staff" || c["ipa"] != "127.0.0.1" ||
		c["aud"] != "api.example.test" || c["iat"] != now.UTC().Format("2006-01-02T15:04:05") {
		t.Fatalf("claims %+v", c)
	}
	if sub, _ := c["sub"].([]any); len(sub) != 2 || sub[1] != "/b" {
		t.Fatalf("sub %+v", c["sub"])
	}
	if out.TS != now.Unix() || out.Wrong != "InvalidToken" {
		t.Fatalf("timestamp %d (want %d), other key: %s", out.TS, now.Unix(), out.Wrong)
	}
}
