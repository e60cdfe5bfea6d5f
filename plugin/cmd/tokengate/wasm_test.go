package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/envoy/demo"
	"github.com/tokengate/tokengate/hostsim"
)

// These tests run the built module: a missing build/tokengate.wasm fails
// them (make test builds it first).

var repoRoot = filepath.Join("..", "..", "..")

func wasmPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot, "build", "tokengate.wasm")
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		t.Fatal("build/tokengate.wasm is missing: run make wasm")
	}
	return p
}

// demoFiles loads the demo setup into a temporary directory; its secrets
// are files there, so the CLI can read them with file:PATH.
func demoFiles(t *testing.T) (*demo.Setup, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := demo.Load(filepath.Join(repoRoot, "envoy", "demo", "tokengate.template.json"), dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("tokengate %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// headerLines reads "Name: value" lines as mint prints them.
func headerLines(t *testing.T, s string) [][2]string {
	t.Helper()
	var h [][2]string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		n, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("not a header line: %q", l)
		}
		h = append(h, [2]string{strings.ToLower(n), v})
	}
	return h
}

func TestMintOutputPassesThePlugin(t *testing.T) {
	wasm, err := os.ReadFile(wasmPath(t))
	if err != nil {
		t.Fatal(err)
	}
	s, dir := demoFiles(t)
	f := func(name string) string { return "file:" + filepath.Join(dir, name) }
	ctx := context.Background()
	now := time.Now()
	g, err := startGate(ctx, wasm, s.Config, s.Env, nil, now, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)

	cases := []struct {
		name, method, path, provider string
		args                         []string
	}{
		{"api-key", "GET", "/apikey/x", "demo_keys", []string{"api-key", "--key", f("api_key")}},
		{"api-key header", "GET", "/apikey/x", "demo_keys", []string{"api-key", "--key", f("api_key"), "--header", "x-api-key"}},
		{"rolling-code", "GET", "/rolling/x", "rolling", []string{"rolling-code", "--seed", f("tg_demo_rolling_seed"), "--client", "billing"}},
		{"m2m-code", "GET", "/m2m/x", "legacy_codes", []string{"m2m-code", "--seed", f("tg_demo_m2m_seed"), "--client", "reporter"}},
		{"scoped-token", "GET", "/scoped/x", "tmp_tokens", []string{"scoped-token", "--secret-key", f("tg_demo_django_secret"), "--user", "7", "--endpoint", "GET:/scoped"}},
		{"jwt", "GET", "/jwt/x", "bots", []string{"jwt", "--key", filepath.Join(dir, "bot.key"), "--username", "bot"}},
		{"jwt standard", "GET", "/bearer/x", "partner_jwt", []string{"jwt", "--standard", "--key", filepath.Join(dir, "bot.key"), "--iss", "tokengate-demo", "--sub", "p", "--aud", "demo-api"}},
		{"authnzerver-key", "GET", "/authnz/x", "authnz_keys", []string{"authnzerver-key", "--fernet-key", f("tg_demo_fernet_key"), "--user-id", "7", "--audience", "demo.test", "--ip", "127.0.0.1"}},
		{"signed-payload", "GET", "/signed/x", "reports", []string{"signed-payload", "--key", f("tg_demo_reporting_key"), "--data", `{"a":1}`}},
		{"http-signature hmac", "GET", "/httpsig/x?y=1", "signed_requests", []string{"http-signature", "--secret", f("tg_demo_httpsig_secret"), "--keyid", "partner-hmac", "http://demo.test/httpsig/x?y=1"}},
		{"http-signature ed25519", "DELETE", "/httpsig/x", "signed_requests", []string{"http-signature", "--key", filepath.Join(dir, "bot.key"), "--keyid", "bot-ed25519", "--nonce", "--alg", "ed25519", "-X", "DELETE", "http://demo.test/httpsig/x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := headerLines(t, cli(t, append([]string{"mint"}, c.args...)...))
			req := hostsim.Request{Method: c.method, Path: c.path, Authority: "demo.test", Headers: h, SourceAddress: "127.0.0.1:40000"}
			res, dec := g.do(ctx, req, time.Now())
			if res.Outcome != hostsim.OutcomeForwarded || dec == nil || dec.Provider != c.provider || dec.Outcome != "allowed" {
				t.Fatalf("outcome %s %d %s, decision %+v", res.Outcome, res.Status, res.Body, dec)
			}
			// The same request without the minted headers is refused.
			res, _ = g.do(ctx, hostsim.Request{Method: c.method, Path: c.path, Authority: "demo.test", SourceAddress: "127.0.0.1:40000"}, time.Now())
			if res.Outcome != hostsim.OutcomeLocalReply || res.Status != 401 {
				t.Fatalf("without the credential: %s %d", res.Outcome, res.Status)
			}
		})
	}
}

func TestExplainNamesRuleProviderAndReason(t *testing.T) {
	wp := wasmPath(t)
	_, dir := demoFiles(t)
	cfg := filepath.Join(dir, "tokengate.json")
	env := []string{"--env-file", filepath.Join(dir, "vm_env.json")}
	key, err := os.ReadFile(filepath.Join(dir, "api_key"))
	if err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	scopedOld := strings.TrimSpace(cli(t, "mint", "scoped-token", "--raw", "--secret-key", "file:"+filepath.Join(dir, "tg_demo_django_secret"),
		"--user", "7", "--max-age", "300", "--endpoint", "GET:/scoped", "--at", hourAgo))

	scopedNow := strings.TrimSpace(cli(t, "mint", "scoped-token", "--raw", "--secret-key", "file:"+filepath.Join(dir, "tg_demo_django_secret"),
		"--user", "7", "--max-age", "300", "--endpoint", "GET:/scoped"))
	inAnHour := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	cases := []struct {
		name    string
		flags   []string
		request []string
		want    []string
	}{
		{"expired by moving the clock", []string{"--at", inAnHour}, []string{"-H", "Authorization: TmpToken " + scopedNow, "http://demo.test/scoped/x"},
			[]string{"decision: denied (401)", "rule:     scoped_token", "provider: tmp_tokens", "reason:   expired"}},
		{"fresh token allowed", nil, []string{"-H", "Authorization: TmpToken " + scopedNow, "http://demo.test/scoped/x"},
			[]string{"decision: allowed", "provider: tmp_tokens", "reason:   ok"}},
		{"allowed", nil, []string{"curl", "-H", "x-api-key: " + string(key), "http://demo.test/apikey/orders"},
			[]string{"decision: allowed", "rule:     api_key", "provider: demo_keys", "reason:   ok", "upstream sees x-tokengate-subject: demo-bot"}},
		{"unauthenticated", nil, []string{"http://demo.test/apikey/orders"},
			[]string{"decision: denied (401)", "rule:     api_key", "reason:   credential_missing", "rule asks: demo_keys (api_key)", `reply body: {"error":"credential_missing"}`}},
		{"forbidden by scope", nil, []string{"-H", "Authorization: ApiKey " + string(key), "http://demo.test/admin/users"},
			[]string{"decision: denied (403)", "rule:     admin", "reason:   insufficient_scope", "rule asks: demo_keys (api_key)"}},
		{"expired", nil, []string{"-H", "Authorization: TmpToken " + scopedOld, "http://demo.test/scoped/x"},
			[]string{"decision: denied (401)", "rule:     scoped_token", "provider: tmp_tokens", "reason:   expired"}},
		{"rate limited", []string{"--repeat", "2"}, []string{"-H", "x-api-key: " + string(key), "http://demo.test/limited/x"},
			[]string{"request 1: GET http://demo.test/limited/x\n  decision: allowed", "request 2: GET http://demo.test/limited/x\n  decision: denied (429)",
				"reason:   rate_limited", "reply header retry-after: "}},
		{"no rule", nil, []string{"-X", "POST", "http://demo.test/healthz"},
			[]string{"decision: denied (403)", "rule:     _none", "reason:   no_matching_rule"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"explain", "--wasm", wp, "--config", cfg}, env...)
			args = append(append(args, c.flags...), "--")
			out := cli(t, append(args, c.request...)...)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, string(key)) || strings.Contains(out, scopedOld) {
				t.Errorf("output repeats the credential:\n%s", out)
			}
		})
	}
}

func TestExplainFailsWithoutModule(t *testing.T) {
	var out, errb bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(cfg, []byte(`{}`), 0o644)
	code := run([]string{"explain", "--wasm", filepath.Join(t.TempDir(), "none.wasm"), "--config", cfg, "--", "http://h/"}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "run make wasm") {
		t.Fatalf("exit %d, stderr %q; want a 'run make wasm' hint", code, errb.String())
	}
}

// A configuration the module refuses is reported with the module's own
// start-up messages.
func TestExplainReportsRefusedConfiguration(t *testing.T) {
	wp := wasmPath(t)
	cfg := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(cfg, []byte(`{"rules":[{"name":"a","any_of":["nope"]}]}`), 0o644)
	var out, errb bytes.Buffer
	code := run([]string{"explain", "--wasm", wp, "--config", cfg, "--", "http://h/"}, &out, &errb)
	if code == 0 {
		t.Fatal("explain ran with a refused configuration")
	}
	for _, w := range []string{"the plugin refused to start", "refusing to start", `rules[0].any_of[0]: unknown provider "nope"`} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errb.String())
		}
	}
}

func TestParseCurl(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // method path authority body
		err  bool
	}{
		{"plain", []string{"curl", "http://h:8080/a?b=1"}, "GET /a?b=1 h:8080 ", false},
		{"data implies POST", []string{"-d", "x=1", "http://h/p"}, "POST /p h x=1", false},
		{"explicit method", []string{"-X", "PUT", "-H", "A: b", "http://h/"}, "PUT / h ", false},
		{"no url", []string{"-H", "a: b"}, "", true},
		{"two urls", []string{"http://a/", "http://b/"}, "", true},
		{"unknown option", []string{"--proxy", "x", "http://a/"}, "", true},
		{"header without colon", []string{"-H", "nocolon", "http://a/"}, "", true},
		{"relative url", []string{"/path"}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := parseCurl(c.args)
			if c.err {
				if err == nil {
					t.Fatalf("accepted: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Method + " " + r.Path + " " + r.Authority + " " + string(r.Body); got != c.want {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
}

// The demo prints a mint command next to each short-lived credential; its
// output, put in place of the printed credential, passes the module.
func TestDemoFreshCommandsPass(t *testing.T) {
	wasm, err := os.ReadFile(wasmPath(t))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := demoFiles(t)
	ctx := context.Background()
	g, err := startGate(ctx, wasm, s.Config, s.Env, nil, time.Now(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	examples, err := s.Examples("http://demo.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ex := range examples {
		if len(ex.Fresh) == 0 {
			continue
		}
		n++
		t.Run(ex.Kind, func(t *testing.T) {
			fresh := headerLines(t, cli(t, ex.Fresh...))
			headers := append([][2]string(nil), fresh...)
			for _, h := range ex.Headers {
				if !hasHeader(fresh, h[0]) {
					headers = append(headers, h)
				}
			}
			path := strings.TrimPrefix(ex.URL, "http://demo.test")
			res, dec := g.do(ctx, hostsim.Request{Method: ex.Method, Path: path, Authority: "demo.test", Headers: headers,
				SourceAddress: "127.0.0.1:40000"}, time.Now())
			if res.Outcome != hostsim.OutcomeForwarded {
				t.Fatalf("%s %d %s (%+v)\nfrom: tokengate %s", res.Outcome, res.Status, res.Body, dec, strings.Join(ex.Fresh, " "))
			}
		})
	}
	if n < 5 {
		t.Fatalf("only %d examples carry a fresh-credential command", n)
	}
}

// `tokengate demo` (what make run starts) serves, prints where, answers the
// printed lines, and stops cleanly on an interrupt.
func TestDemoCommandServesUntilInterrupted(t *testing.T) {
	wp := wasmPath(t)
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join(repoRoot, "envoy", "demo", "tokengate.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokengate.template.json"), tmpl, 0o644)
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- run([]string{"demo", "--wasm", wp, "--dir", dir, "--listen", "127.0.0.1:0"}, pw, &errb)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var base, healthz string
	for sc.Scan() {
		l := sc.Text()
		if b, ok := strings.CutPrefix(l, "tokengate demo: the plugin (hostsim) listens on "); ok {
			base = b
		}
		if strings.HasPrefix(l, "curl -i ") && strings.HasSuffix(l, "/healthz'") && healthz == "" {
			healthz = strings.Trim(strings.TrimPrefix(l, "curl -i "), "'")
		}
		if strings.HasPrefix(l, "serving until interrupted") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" || healthz != base+"/healthz" {
		t.Fatalf("listen line %q, health line %q; stderr %s", base, healthz, errb.String())
	}
	resp, err := http.Get(healthz)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets", "vm_env.json")); err != nil {
		t.Fatalf("secrets not generated: %v", err)
	}
	// The demo has registered for SIGINT by the time it prints (it prints
	// after starting), so this reaches it and not the test binary's default.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("demo exit %d: %s", code, errb.String())
	}
}
