// Package faults drives the built module (build/tokengate.wasm) in hostsim
// through the failures a proxy meets in production: auth services that time
// out, fail, reset, answer garbage or drip slowly; a JWKS endpoint that goes
// down and comes back; workers racing on shared data; clock jumps; and
// reconfiguration with a bad and with a good document. Each test states the
// documented behaviour (SECURITY.md, "Behaviour under faults"); every result
// is scanned for secrets.
package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/token"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

var cache = wazero.NewCompilationCache()

func load(t *testing.T) (*fixture.Fixture, []byte) {
	t.Helper()
	fx, err := fixture.Get()
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := fixture.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	return fx, wasm
}

// start loads the module on hc with cfg on workers VMs; the host is closed
// and its logs leak-scanned at the end of the test.
func start(t *testing.T, fx *fixture.Fixture, wasm []byte, hc hostsim.Config, cfg []byte, workers int) (*hostsim.Host, *hostsim.Plugin) {
	t.Helper()
	ctx := context.Background()
	h, err := hostsim.New(ctx, wasm, hc.WithCompilationCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fx.Scan.CheckLogs(t, "host", h.Logs())
		h.Close(ctx)
	})
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: cfg, Workers: workers})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return h, p
}

type decision struct {
	status int
	reason string
}

func decide(t *testing.T, fx *fixture.Fixture, r *hostsim.Result) decision {
	t.Helper()
	fx.Scan.Check(t, "request", r)
	switch r.Outcome {
	case hostsim.OutcomeForwarded:
		return decision{status: 200, reason: "forwarded"}
	case hostsim.OutcomeLocalReply:
		var b struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &b)
		return decision{status: r.Status, reason: b.Error}
	}
	return decision{status: -1, reason: string(r.Outcome) + " " + r.Trap}
}

type obj = map[string]any

// oneProvider is a configuration with p on every path.
func oneProvider(p obj) []byte {
	p["name"] = "p"
	b, _ := json.Marshal(obj{"providers": []any{p}, "rules": []any{obj{"name": "all", "any_of": []string{"p"}}}})
	return b
}

func req(headers ...[2]string) hostsim.Request {
	return hostsim.Request{Method: "GET", Path: "/x", Authority: fixture.Authority, SourceAddress: fixture.ClientIP + ":1", Headers: headers}
}

func sessionHandler(fx *fixture.Fixture) http.Handler { return fx.NewServices().Handler("auth") }

// TestCalloutFaults: the session provider's auth service fails in every
// way a cluster can; the request is refused 503 and never forwarded, and
// the next request (service healthy again) is served.
func TestCalloutFaults(t *testing.T) {
	fx, wasm := load(t)
	tok := fx.AnySession()
	cfg := oneProvider(obj{"type": "session", "cluster": "auth", "timeout_ms": 200, "cache_seconds": 0, "negative_cache_seconds": 0})
	ok := sessionHandler(fx)
	cases := []struct {
		name    string
		hc      hostsim.Config
		reasons []string
	}{
		{"timeout", hostsim.Config{}.WithSlowCluster("auth", ok, 2*time.Second), []string{"callout_timeout", "callout_failed"}},
		{"5xx", hostsim.Config{}.WithCannedCluster("auth", hostsim.CannedResponse{Status: 503, Body: []byte("down")}), []string{"callout_failed"}},
		{"reset", hostsim.Config{}.WithCannedCluster("auth", hostsim.CannedResponse{Reset: true}), []string{"callout_failed"}},
		{"malformed-body", hostsim.Config{}.WithCannedCluster("auth", hostsim.CannedResponse{Status: 200,
			Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"valid":true,"subject":`)}), []string{"callout_failed"}},
		{"valid-without-subject", hostsim.Config{}.WithCannedCluster("auth", hostsim.CannedResponse{Status: 200,
			Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"valid":true}`)}), []string{"callout_failed"}},
		{"huge-body", hostsim.Config{}.WithCannedCluster("auth", hostsim.CannedResponse{Status: 200,
			Body: []byte(`{"valid":true,"subject":"` + strings.Repeat("a", 1<<20) + `"}`)}), []string{"callout_failed"}},
		{"slow-drip-past-timeout", hostsim.Config{}.WithSlowCluster("auth", ok, 201*time.Millisecond), []string{"callout_timeout", "callout_failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, p := start(t, fx, wasm, c.hc, cfg, 1)
			d := decide(t, fx, p.Worker(0).HTTP(context.Background(), req([2]string{"cookie", "Token=" + tok})))
			if d.status != 503 || !contains(c.reasons, d.reason) {
				t.Fatalf("got %v, want 503 %v", d, c.reasons)
			}
			t.Logf("refused: %d %s", d.status, d.reason)
		})
	}
	t.Run("slow-drip-within-timeout", func(t *testing.T) {
		_, p := start(t, fx, wasm, hostsim.Config{}.WithSlowCluster("auth", ok, 150*time.Millisecond), cfg, 1)
		if d := decide(t, fx, p.Worker(0).HTTP(context.Background(), req([2]string{"cookie", "Token=" + tok}))); d.reason != "forwarded" {
			t.Fatalf("got %v, want forwarded: an answer inside timeout_ms is used", d)
		}
	})
	t.Run("recovers", func(t *testing.T) {
		svc := fx.NewServices()
		_, p := start(t, fx, wasm, hostsim.Config{}.WithCluster("auth", svc.Handler("auth")), cfg, 1)
		svc.SetMode("auth", "500")
		if d := decide(t, fx, p.Worker(0).HTTP(context.Background(), req([2]string{"cookie", "Token=" + tok}))); d.status != 503 {
			t.Fatalf("failing service: %v, want 503", d)
		}
		svc.SetMode("auth", "")
		if d := decide(t, fx, p.Worker(0).HTTP(context.Background(), req([2]string{"cookie", "Token=" + tok}))); d.reason != "forwarded" {
			t.Fatalf("healthy again: %v, want forwarded (failures are not cached)", d)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// jwksServer serves a JWKS of the fixture's key, or fails.
type jwksServer struct {
	mu   sync.Mutex
	down bool
	doc  []byte
	hits int
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.down {
		http.Error(w, "outage", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("content-type", "application/json")
	w.Write(s.doc)
}

func (s *jwksServer) setDown(v bool) { s.mu.Lock(); s.down = v; s.mu.Unlock() }

// TestJWKSOutageAndRecovery: the remote key set serves the last good keys
// while the endpoint fails, up to max_stale_seconds after the last success;
// then it fails closed (503 callout_failed); when the endpoint recovers the
// next refresh restores service.
func TestJWKSOutageAndRecovery(t *testing.T) {
	fx, wasm := load(t)
	jwk, err := token.PublicJWK(fx.EdKey.Public(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	srv := &jwksServer{doc: []byte(`{"keys":[` + jwk + `]}`)}
	cfg := oneProvider(obj{"type": "jwt", "issuer": fixture.Issuer, "audiences": []string{fixture.Audience}, "algorithms": []string{"EdDSA"},
		"cache_capacity": 0,
		"remote_jwks": obj{"cluster": "jwks", "authority": "idp.test", "path": "/jwks.json", "refresh_seconds": 60,
			"min_refresh_seconds": 5, "max_stale_seconds": 300, "max_backoff_seconds": 10, "timeout_ms": 500}})
	h, p := start(t, fx, wasm, hostsim.Config{}.WithStartTime(fixture.T0).WithCluster("jwks", srv), cfg, 2)
	ctx := context.Background()
	send := func(w int) decision {
		tok := fx.JWT(h.Now(), func(s *token.JWTSigner) { s.KeyID = "k1" })
		return decide(t, fx, p.Worker(w).HTTP(ctx, req([2]string{"authorization", "Bearer " + tok})))
	}
	h.Advance(ctx, time.Second)
	for w := 0; w < 2; w++ {
		if d := send(w); d.reason != "forwarded" {
			t.Fatalf("healthy JWKS, worker %d: %v, want forwarded", w, d)
		}
	}
	srv.setDown(true)
	// Inside max_stale: the last good set keeps serving on both VMs.
	h.Advance(ctx, 120*time.Second)
	for w := 0; w < 2; w++ {
		if d := send(w); d.reason != "forwarded" {
			t.Errorf("outage inside max_stale, worker %d: %v, want forwarded with the last good keys", w, d)
		}
	}
	// Past max_stale: fail closed.
	h.Advance(ctx, 300*time.Second)
	for w := 0; w < 2; w++ {
		if d := send(w); d.status != 503 {
			t.Errorf("outage past max_stale, worker %d: %v, want 503", w, d)
		}
	}
	// Recovery: the next refresh (back-off at most 10 s) restores service.
	srv.setDown(false)
	h.Advance(ctx, 30*time.Second)
	send(0) // may trigger the refresh on demand
	h.Advance(ctx, 5*time.Second)
	for w := 0; w < 2; w++ {
		if d := send(w); d.reason != "forwarded" {
			t.Errorf("after recovery, worker %d: %v, want forwarded", w, d)
		}
	}
	if srv.hits < 2 {
		t.Errorf("JWKS fetched %d times; the outage should have caused retries", srv.hits)
	}
}

// TestSharedDataContention: two workers race on the same single-use
// rolling code and on one rate-limit bucket. Exactly one use of the code
// wins, and exactly burst requests pass the bucket: compare-and-swap holds
// under contention, and a lost race refuses instead of letting through.
func TestSharedDataContention(t *testing.T) {
	fx, wasm := load(t)
	h, p := start(t, fx, wasm, fx.NewServices().HostConfig(fixture.T0).WithLogLevel(hostsim.LogWarn), fx.Config, 2)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		h.Advance(ctx, 30*time.Second) // a fresh rolling-code window
		code := fx.RollingCode(h.Now())
		r := hostsim.Request{Method: "GET", Path: "/rc/x", Authority: fixture.Authority, SourceAddress: fixture.ClientIP + ":1",
			Headers: [][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", code}}}
		var wg sync.WaitGroup
		results := make([]decision, 8)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = decide(t, fx, p.Worker(i%2).HTTP(ctx, r))
			}(i)
		}
		wg.Wait()
		wins := 0
		for _, d := range results {
			switch {
			case d.reason == "forwarded":
				wins++
			case d.status == 401 && d.reason == "replayed", d.status == 503 && d.reason == "replay_store_full":
			default:
				t.Errorf("round %d: unexpected %v", round, d)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of 8 racing uses of one single-use code were accepted, want exactly 1", round, wins)
		}
	}
	// Rate limit: burst 2 per subject across both VMs.
	for round := 0; round < 10; round++ {
		h.Advance(ctx, 10*time.Minute) // bucket full again (0.01/s refills 6 > burst)
		var wg sync.WaitGroup
		results := make([]decision, 10)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = decide(t, fx, p.Worker(i%2).HTTP(ctx, hostsim.Request{Method: "GET", Path: "/rl/x", Authority: fixture.Authority,
					SourceAddress: fixture.ClientIP + ":1", Headers: [][2]string{{"x-api-key", fx.Read.Key}}}))
			}(i)
		}
		wg.Wait()
		passed := 0
		for _, d := range results {
			switch {
			case d.reason == "forwarded":
				passed++
			case d.status == 429:
			default:
				t.Errorf("rate-limit round %d: unexpected %v", round, d)
			}
		}
		if passed > 2 || passed < 1 {
			t.Fatalf("rate-limit round %d: %d of 10 racing requests passed a bucket of burst 2", round, passed)
		}
	}
}

// TestClockJumps: a forward jump expires what was valid (rolling codes,
// tokens, keys) and refills rate-limit buckets only up to their burst; a
// credential minted by a client whose clock is ahead of the proxy's (the
// proxy's clock jumped back relative to it) is refused as not yet valid.
func TestClockJumps(t *testing.T) {
	fx, wasm := load(t)
	h, p := start(t, fx, wasm, fx.NewServices().HostConfig(fixture.T0).WithLogLevel(hostsim.LogWarn), fx.Config, 2)
	ctx := context.Background()
	get := func(w int, path string, hs ...[2]string) decision {
		return decide(t, fx, p.Worker(w).HTTP(ctx, hostsim.Request{Method: "GET", Path: path, Authority: fixture.Authority,
			SourceAddress: fixture.ClientIP + ":1", Headers: hs}))
	}
	h.Advance(ctx, time.Second)
	code := fx.RollingCode(h.Now())
	jwt := fx.JWT(h.Now(), nil)
	scoped := fx.Scoped(7, "GET", "/st", 300, h.Now())
	if d := get(0, "/jwt/x", [2]string{"authorization", "Bearer " + jwt}); d.reason != "forwarded" {
		t.Fatalf("before the jump: %v", d)
	}
	// Forward one day.
	h.Advance(ctx, 24*time.Hour)
	for name, d := range map[string]decision{
		"rolling code": get(1, "/rc/x", [2]string{"x-rolling-code-client", "billing"}, [2]string{"x-rolling-code", code}),
		"jwt":          get(1, "/jwt/x", [2]string{"authorization", "Bearer " + jwt}),
		"scoped":       get(0, "/st/x", [2]string{"authorization", "TmpToken " + scoped}),
	} {
		if d.status != 401 {
			t.Errorf("%s after a one-day jump: %v, want 401", name, d)
		}
	}
	// A year forward: the bucket holds burst (2) requests, not a year's worth.
	h.Advance(ctx, 365*24*time.Hour)
	passed := 0
	for i := 0; i < 6; i++ {
		if get(i%2, "/rl/x", [2]string{"x-api-key", fx.Read.Key}).reason == "forwarded" {
			passed++
		}
	}
	if passed != 2 {
		t.Errorf("after a one-year jump %d of 6 requests passed a bucket of burst 2", passed)
	}
	// Client clock ahead of the proxy (equivalently, the proxy's clock
	// jumped back): refused, never accepted early.
	ahead := h.Now().Add(10 * time.Minute)
	for name, d := range map[string]decision{
		"jwt":          get(0, "/jwt/x", [2]string{"authorization", "Bearer " + fx.JWT(ahead, nil)}),
		"scoped":       get(1, "/st/x", [2]string{"authorization", "TmpToken " + fx.Scoped(7, "GET", "/st", 300, ahead)}),
		"rolling code": get(0, "/rc/x", [2]string{"x-rolling-code-client", "billing"}, [2]string{"x-rolling-code", fx.RollingCode(ahead)}),
		"http sig":     get(1, "/hs/x", fx.HTTPSig("GET", "/hs/x", ahead, nil)...),
	} {
		if d.status != 401 {
			t.Errorf("%s minted 10 minutes ahead: %v, want 401", name, d)
		}
	}
}

// TestReconfiguration: Envoy starts a new plugin instance for a new
// configuration. A bad document fails to start (every problem logged at
// critical, no secret in the log) and the running configuration keeps
// serving; a good one takes effect on its own instance.
func TestReconfiguration(t *testing.T) {
	fx, wasm := load(t)
	ctx := context.Background()
	h, old := start(t, fx, wasm, fx.NewServices().HostConfig(fixture.T0), fx.Config, 2)
	keyReq := hostsim.Request{Method: "GET", Path: "/k/x", Authority: fixture.Authority, SourceAddress: fixture.ClientIP + ":1",
		Headers: [][2]string{{"x-api-key", fx.Read.Key}}}
	bad := strings.Replace(string(fx.Config), `"type":"ip_rule"`, `"type":"ip_rul"`, 1)
	bad = strings.Replace(bad, `"rules":[`, `"rules":[{"name":"x","any_of":["nope"]},`, 1)
	if bad == string(fx.Config) {
		t.Fatal("could not break the configuration")
	}
	if _, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: "bad", Configuration: []byte(bad), Workers: 2}); err == nil {
		t.Fatal("a bad configuration started")
	}
	crit := false
	for _, l := range h.Logs() {
		if l.Level == hostsim.LogCritical && strings.Contains(l.Message, "invalid configuration") {
			crit = true
		}
	}
	if !crit {
		t.Error("no critical log line for the refused configuration")
	}
	fx.Scan.CheckLogs(t, "bad configuration", h.Logs())
	for w := 0; w < 2; w++ {
		if d := decide(t, fx, old.Worker(w).HTTP(ctx, keyReq)); d.reason != "forwarded" {
			t.Errorf("old configuration after a refused update, worker %d: %v", w, d)
		}
	}
	// A good update that removes the read key: on the new instance the key
	// is refused, while the old instance (until Envoy drains it) still has it.
	good := strings.Replace(string(fx.Config), fx.Read.Hash, "sha256:"+strings.Repeat("0", 64), 1)
	np, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: "new", Configuration: []byte(good), Workers: 2})
	if err != nil {
		t.Fatalf("good configuration: %v", err)
	}
	old.Stop(ctx)
	for w := 0; w < 2; w++ {
		if d := decide(t, fx, np.Worker(w).HTTP(ctx, keyReq)); d.status != 401 || d.reason != "credential_unknown" {
			t.Errorf("new configuration, worker %d: %v, want 401 credential_unknown (key revoked)", w, d)
		}
		adminReq := keyReq
		adminReq.Headers = [][2]string{{"x-api-key", fx.Admin.Key}}
		if d := decide(t, fx, np.Worker(w).HTTP(ctx, adminReq)); d.reason != "forwarded" {
			t.Errorf("new configuration, worker %d, admin key: %v, want forwarded", w, d)
		}
	}
}

// TestWallClockStepsBack: the proxy's own wall clock steps backward (an NTP
// step) while single-use values and rate-limit buckets hold state stamped
// with the later time. A code already used stays used, an emptied bucket
// does not refill by going back in time, and the gate keeps serving other
// credentials.
func TestWallClockStepsBack(t *testing.T) {
	fx, wasm := load(t)
	h, p := start(t, fx, wasm, fx.NewServices().HostConfig(fixture.T0).WithLogLevel(hostsim.LogWarn), fx.Config, 2)
	ctx := context.Background()
	get := func(w int, path string, hs ...[2]string) decision {
		return decide(t, fx, p.Worker(w).HTTP(ctx, hostsim.Request{Method: "GET", Path: path, Authority: fixture.Authority,
			SourceAddress: fixture.ClientIP + ":1", Headers: hs}))
	}
	h.Advance(ctx, time.Second)
	code := fx.RollingCode(h.Now())
	rc := [][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", code}}
	if d := get(0, "/rc/x", rc...); d.reason != "forwarded" {
		t.Fatalf("fresh single-use code: %v", d)
	}
	for _, back := range []time.Duration{time.Second, 2 * time.Second} {
		h.StepWallClock(-back)
		if d := get(1, "/rc/x", rc...); d.reason == "forwarded" {
			t.Errorf("single-use code accepted again after the clock stepped back %v", back)
		}
		h.StepWallClock(back)
	}

	passed := 0
	for i := 0; i < 4; i++ {
		if get(i%2, "/rl/x", [2]string{"x-api-key", fx.Read.Key}).reason == "forwarded" {
			passed++
		}
	}
	if passed != 2 {
		t.Fatalf("%d of 4 requests passed a bucket of burst 2", passed)
	}
	h.StepWallClock(-time.Hour)
	for i := 0; i < 4; i++ {
		if d := get(i%2, "/rl/x", [2]string{"x-api-key", fx.Read.Key}); d.reason == "forwarded" {
			t.Fatalf("the emptied bucket admitted request %d after the clock stepped back an hour", i)
		}
	}
	if d := get(0, "/k/x", [2]string{"x-api-key", fx.Read.Key}); d.reason != "forwarded" {
		t.Fatalf("the gate stopped serving after the clock stepped back: %v", d)
	}
	if d := get(1, "/jwt/x", [2]string{"authorization", "Bearer " + fx.JWT(h.Now(), nil)}); d.reason != "forwarded" {
		t.Fatalf("a JWT minted at the stepped-back time: %v", d)
	}
}

// TestLateCalloutAfterClientLeft: a client goes away while its stream
// waits for the auth service, and the next stream on the worker waits for
// its own answer. The first stream's late answer must reach nobody: the
// second stream, with a session the service does not know, is refused,
// never forwarded on the first client's identity. (A context pool tried on
// 2026-11-24 failed exactly this when it reused a context whose callout
// was still out.)
func TestLateCalloutAfterClientLeft(t *testing.T) {
	fx, wasm := load(t)
	ctx := context.Background()
	cfg := oneProvider(obj{"type": "session", "cluster": "auth", "timeout_ms": 1000, "cache_seconds": 0, "negative_cache_seconds": 0})
	hc := hostsim.Config{}.WithSlowCluster("auth", sessionHandler(fx), 100*time.Millisecond)
	_, p := start(t, fx, wasm, hc, cfg, 1)
	vm := p.Worker(0)
	// Warm the spare contexts: a completed stream gives its context back.
	if d := decide(t, fx, vm.HTTP(ctx, req([2]string{"cookie", "Token=" + fx.AnySession()}))); d.reason != "forwarded" {
		t.Fatalf("warm-up: %v", d)
	}
	first := vm.NewStream(req([2]string{"cookie", "Token=" + fx.AnySession()}))
	if a := first.SendRequestHeaders(ctx, true); a != hostsim.ActionPause {
		t.Fatalf("first stream did not wait for the auth service: %v", a)
	}
	first.Complete(ctx) // the client went away; its callout is still out
	second := vm.NewStream(req([2]string{"cookie", "Token=unknown-session-0123456789"}))
	if a := second.SendRequestHeaders(ctx, true); a != hostsim.ActionPause {
		t.Fatalf("second stream did not wait for the auth service: %v", a)
	}
	second.RunPending(ctx) // delivers the first answer, then its own
	st := second.State()
	if !st.Ended || st.Result == nil {
		t.Fatalf("second stream not decided: %+v", st)
	}
	if d := decide(t, fx, st.Result); d.status != 401 {
		t.Fatalf("second stream: %v, want 401 (the first stream's answer must not decide it)", d)
	}
	if failed, msg := vm.Failed(); failed {
		t.Fatalf("VM failed: %s", msg)
	}
}
