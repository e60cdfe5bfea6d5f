package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokengate/tokengate/envoy/demo"
)

// Credentials minted by the original Python libraries (Django signing,
// PyJWT, cryptography's Fernet as authnzerver uses it) pass the real module, served as in the demo. Skipped with a
// message when /usr/bin/python3 lacks python3-django or python3-jwt.

const mintInPython = `
import json, sys, time, secrets
req = json.load(sys.stdin)
from django.conf import settings
settings.configure(SECRET_KEY=req["django_secret"])
from django.core import signing
import jwt
from datetime import datetime, timedelta
from cryptography.fernet import Fernet
key = open(req["bot_key"]).read()
t = datetime.utcnow()
authnz = Fernet(req["fernet_key"].encode()).encrypt(json.dumps({
  "iss": "authnzerver", "ver": 1, "uid": 7, "rol": "staff", "aud": req["aud"], "sub": "all",
  "ipa": "127.0.0.1", "tkn": secrets.token_urlsafe(32), "iat": t.isoformat(),
  "nbf": t.isoformat(), "exp": (t + timedelta(hours=1)).isoformat()}).encode()).decode()
now = int(time.time())
print(json.dumps({
  "scoped": signing.dumps({"user": 7, "max_age": 300, "endpoints": {"GET": ["/scoped"]}}),
  "asym": jwt.encode({"username": "bot", "time": now, "nonce": secrets.token_urlsafe(8)}, key, algorithm="EdDSA"),
  "bearer": jwt.encode({"iss": "tokengate-demo", "aud": "demo-api", "sub": "py", "iat": now, "exp": now + 60}, key, algorithm="EdDSA"),
  "authnz": authnz,
}))
`

func TestPythonMintedCredentialsPassTheModule(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("/usr/bin/python3 not found: interop with the Python libraries not tested")
	}
	for _, m := range []string{"django", "jwt", "cryptography"} {
		if exec.Command(py, "-c", "import "+m).Run() != nil {
			t.Skipf("python3-%s is not installed for /usr/bin/python3: interop not tested", m)
		}
	}
	wasm := wasmModule(t)
	dir := t.TempDir()
	setup, err := demo.Load(filepath.Join("..", "..", "envoy", "demo", "tokengate.template.json"), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := setup.Start(ctx, wasm, 1)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: run.Handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); run.Close(ctx) })
	base := "http://" + ln.Addr().String()

	in, _ := json.Marshal(map[string]string{"django_secret": setup.Env["TG_DEMO_DJANGO_SECRET"], "bot_key": filepath.Join(dir, "bot.key"),
		"fernet_key": setup.Env["TG_DEMO_FERNET_KEY"], "aud": ln.Addr().String()})
	cmd := exec.Command(py, "-c", mintInPython)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var toks map[string]string
	if err := json.Unmarshal(raw, &toks); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ name, path, auth string }{
		{"django signing.dumps scoped token", "/scoped/x", "TmpToken " + toks["scoped"]},
		{"PyJWT asymmetric-jwt-auth token", "/jwt/x", "JWT " + toks["asym"]},
		{"PyJWT standard bearer token", "/bearer/x", "Bearer " + toks["bearer"]},
		{"Python Fernet authnzerver key", "/authnz/x", "Bearer " + toks["authnz"]},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+c.path, nil)
			req.Header.Set("Authorization", c.auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		})
	}
}
