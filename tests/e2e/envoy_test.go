// Package e2e runs the shipped Envoy bootstrap (envoy/envoy.yaml) in a real
// Envoy, when one is on PATH, and sends requests through tokengate.
//
// Without an envoy binary every test here is skipped with the reason; the
// rest of the suite (tests/deploy, hostsim) does not need one. The package
// uses only the standard library.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/tests/internal/repo"
)

// demoKey is the API key whose hash envoy/envoy.yaml ships for the local
// demo (documented in envoy/README.md; bound to loopback sources).
const demoKey = "tg_demo_HAVc121VlHFWgpDFvb1gJbV0vfT3HSUEYV9ekO4sLRf"

// Ports written in envoy/envoy.yaml, replaced by free ones for the test.
const (
	shippedListener = "port_value: 10000 }"
	shippedAdmin    = "port_value: 9901 }"
	shippedUpstream = "port_value: 18080 }"
	shippedAuth     = "port_value: 18081 }"
)

// fakeEnvoyVar switches the tests to testdata/fakeenvoy, a stand-in built
// on hostsim that exercises this harness where no Envoy is installed. It
// proves nothing about Envoy.
const fakeEnvoyVar = "TOKENGATE_E2E_FAKE_ENVOY"

var (
	fakeOnce sync.Once
	fakeDir  string
	fakePath string
	fakeErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fakeDir != "" {
		os.RemoveAll(fakeDir)
	}
	os.Exit(code)
}

func envoyBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv(fakeEnvoyVar) == "1" {
		fakeOnce.Do(func() {
			if fakeDir, fakeErr = os.MkdirTemp("", "fakeenvoy-"); fakeErr != nil {
				return
			}
			fakePath = filepath.Join(fakeDir, "envoy")
			cmd := exec.Command("go", "build", "-o", fakePath, "./testdata/fakeenvoy")
			if out, err := cmd.CombinedOutput(); err != nil {
				fakeErr = fmt.Errorf("building testdata/fakeenvoy: %v\n%s", err, out)
			}
		})
		if fakeErr != nil {
			t.Fatal(fakeErr)
		}
		t.Logf("%s=1: running against testdata/fakeenvoy (hostsim), NOT a real Envoy", fakeEnvoyVar)
		return fakePath
	}
	path, err := exec.LookPath("envoy")
	if err != nil {
		t.Skip("envoy is not on PATH: skipping the real-Envoy end-to-end test (install Envoy >= 1.33 to run it)")
	}
	return path
}

func repoRoot(t testing.TB) string { return repo.Root(t) }

// requireModule fails (never skips) when the module is missing.
func requireModule(t *testing.T, root string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "build", "tokengate.wasm")); errors.Is(err, fs.ErrNotExist) {
		t.Fatal("build/tokengate.wasm is missing: run make wasm (make test builds it first)")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// seen is what the upstream received.
type seen struct {
	mu       sync.Mutex
	requests []http.Header
}

func (s *seen) last() (http.Header, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return nil, 0
	}
	return s.requests[len(s.requests)-1], len(s.requests)
}

// syncBuffer is an io.Writer safe to read while Envoy writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is the environment the bootstrap's host_env_keys read.
func testEnv() []string {
	return append(os.Environ(),
		"TG_BILLING_SEED=e2e-seed-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		"TG_INTROSPECT_AUTH=Basic ZTJlOmUyZS1zZWNyZXQ=")
}

// TestEnvoyValidateMode: Envoy itself accepts the shipped file as is.
func TestEnvoyValidateMode(t *testing.T) {
	bin := envoyBinary(t)
	root := repoRoot(t)
	requireModule(t, root)
	cmd := exec.Command(bin, "--mode", "validate", "-c", "envoy/envoy.yaml", "--use-dynamic-base-id")
	cmd.Dir = root
	cmd.Env = testEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("envoy --mode validate rejected envoy/envoy.yaml: %v\n%s", err, out)
	}
}

// TestEnvoyServesThroughTheGate starts Envoy with the shipped bootstrap
// (ports moved to free ones, the upstream replaced by a recorder) and checks
// what clients and the upstream see.
func TestEnvoyServesThroughTheGate(t *testing.T) {
	bin := envoyBinary(t)
	root := repoRoot(t)
	requireModule(t, root)

	up := &seen{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.mu.Lock()
		up.requests = append(up.requests, r.Header.Clone())
		up.mu.Unlock()
		w.Header().Set("content-type", "text/plain")
		io.WriteString(w, "upstream ok")
	}))
	defer upstream.Close()
	upPort := upstream.Listener.Addr().(*net.TCPAddr).Port

	// The introspection service: accepts one token, and only when the gate
	// authenticates itself with TG_INTROSPECT_AUTH.
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("content-type", "application/json")
		if r.Header.Get("authorization") != "Basic ZTJlOmUyZS1zZWNyZXQ=" || r.PostForm.Get("token") != "e2e-opaque-token" {
			io.WriteString(w, `{"active": false}`)
			return
		}
		io.WriteString(w, `{"active": true, "sub": "svc-42", "client_id": "reporting"}`)
	}))
	defer auth.Close()
	authPort := auth.Listener.Addr().(*net.TCPAddr).Port

	src, err := os.ReadFile(filepath.Join(root, "envoy", "envoy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listen, admin := freePort(t), freePort(t)
	var pairs []string
	for _, r := range []struct {
		old string
		new int
	}{{shippedListener, listen}, {shippedAdmin, admin}, {shippedUpstream, upPort}, {shippedAuth, authPort}} {
		if strings.Count(string(src), r.old) != 1 {
			t.Fatalf("envoy/envoy.yaml no longer has exactly one %q; update this test", r.old)
		}
		pairs = append(pairs, r.old, "port_value: "+strconv.Itoa(r.new)+" }")
	}
	// One pass, so a new port can never be mistaken for an old one.
	cfg := strings.NewReplacer(pairs...).Replace(string(src))
	cfgPath := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	var stderr syncBuffer
	cmd := exec.Command(bin, "-c", cfgPath, "--use-dynamic-base-id", "--concurrency", "2",
		"--log-level", "warn", "--component-log-level", "wasm:info")
	cmd.Dir = root // the bootstrap's module path is relative to the repository root
	cmd.Env = testEnv()
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("envoy output:\n%s", stderr.String())
		}
	}()
	waitReady(t, admin, exited, func() error { return waitErr }, &stderr)

	base := "http://127.0.0.1:" + strconv.Itoa(listen)
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	t.Run("anonymous health check reaches the upstream", func(t *testing.T) {
		_, before := up.last()
		resp, _ := do("/healthz", map[string]string{"x-tokengate-subject": "forged"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		h, after := up.last()
		if after != before+1 {
			t.Fatal("the upstream did not see the request")
		}
		if v := h.Get("x-tokengate-subject"); v != "" {
			t.Errorf("a client-supplied identity header reached the upstream: %q", v)
		}
	})
	t.Run("no credential is refused at the edge", func(t *testing.T) {
		_, before := up.last()
		resp, body := do("/api/orders", nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401 (body %q)", resp.StatusCode, body)
		}
		if resp.Header.Get("www-authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		var reply map[string]any
		if err := json.Unmarshal([]byte(body), &reply); err != nil || reply["error"] == nil {
			t.Errorf("body %q is not the JSON refusal", body)
		}
		if _, after := up.last(); after != before {
			t.Error("the refused request reached the upstream")
		}
	})
	t.Run("wrong key is refused", func(t *testing.T) {
		resp, _ := do("/api/orders", map[string]string{"x-api-key": demoKey[:len(demoKey)-1] + "x"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("demo key passes, identity added, key stripped", func(t *testing.T) {
		resp, body := do("/api/orders", map[string]string{"x-api-key": demoKey})
		if resp.StatusCode != http.StatusOK || body != "upstream ok" {
			t.Fatalf("status %d body %q, want 200 from the upstream", resp.StatusCode, body)
		}
		h, _ := up.last()
		if got := h.Get("x-tokengate-subject"); got != "demo-partner" {
			t.Errorf("upstream saw x-tokengate-subject %q, want demo-partner", got)
		}
		if h.Get("x-api-key") != "" {
			t.Error("the API key reached the upstream")
		}
	})
	t.Run("opaque token introspected through the auth cluster", func(t *testing.T) {
		resp, body := do("/reports/daily", map[string]string{"authorization": "Bearer e2e-opaque-token"})
		if resp.StatusCode != http.StatusOK || body != "upstream ok" {
			t.Fatalf("status %d body %q, want 200 from the upstream", resp.StatusCode, body)
		}
		h, _ := up.last()
		if got := h.Get("x-tokengate-subject"); got != "svc-42" {
			t.Errorf("upstream saw x-tokengate-subject %q, want svc-42", got)
		}
		resp, _ = do("/reports/daily", map[string]string{"authorization": "Bearer some-other-token"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("inactive token: status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("unlisted path is denied by default", func(t *testing.T) {
		_, before := up.last()
		resp, _ := do("/elsewhere", map[string]string{"x-api-key": demoKey})
		if resp.StatusCode < 400 {
			t.Fatalf("status %d, want a refusal", resp.StatusCode)
		}
		if _, after := up.last(); after != before {
			t.Error("the refused request reached the upstream")
		}
	})
}

// waitReady polls Envoy's admin /ready until it answers LIVE, failing with
// Envoy's output if the process exits or never gets there.
func waitReady(t *testing.T, admin int, exited <-chan struct{}, waitErr func() error, out fmt.Stringer) {
	t.Helper()
	url := "http://127.0.0.1:" + strconv.Itoa(admin) + "/ready"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("envoy exited before it was ready (%v):\n%s", waitErr(), out.String())
		default:
		}
		if resp, err := client.Get(url); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "LIVE" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("envoy admin %s not LIVE after 60s:\n%s", url, out.String())
}
