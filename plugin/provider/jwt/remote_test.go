package jwt

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/replay"
)

// metrics records counters and gauges by name.
type metrics struct {
	mu sync.Mutex
	c  map[string]int64
	g  map[string]int64
}

type mc struct {
	m    *metrics
	name string
}

func (x mc) Increment(d int64) { x.m.mu.Lock(); x.m.c[x.name] += d; x.m.mu.Unlock() }
func (x mc) Set(v int64)       { x.m.mu.Lock(); x.m.g[x.name] = v; x.m.mu.Unlock() }

func (m *metrics) deps(shared provider.SharedData) provider.Deps {
	return provider.Deps{
		Shared:      shared,
		Replay:      replay.New(shared, replay.Config{Namespace: "t"}),
		CounterFunc: func(n string) provider.Counter { return mc{m, n} },
		GaugeFunc:   func(n string) provider.Gauge { return mc{m, n} },
	}
}

func newMetrics() *metrics { return &metrics{c: map[string]int64{}, g: map[string]int64{}} }

// TestReplayAcrossVMs: two provider instances (two VMs) share one store; a
// token accepted by one is refused by the other.
func TestReplayAcrossVMs(t *testing.T) {
	f := newFixture(t, nil)
	shared := &provider.MemSharedData{}
	d := provider.Deps{Shared: shared, Replay: replay.New(shared, replay.Config{Namespace: "r"})}
	vm1 := build(t, f.doc, d)
	d2 := provider.Deps{Shared: shared, Replay: replay.New(shared, replay.Config{Namespace: "r"})}
	vm2 := build(t, f.doc, d2)
	tok := mint(t, f.rsa, "RS512", `{"alg":"RS512"}`, claimsJSON("svc-rsa", ""))
	if _, err := vm1.Verify(authReq(tok)); err != nil {
		t.Fatal(err)
	}
	if _, err := vm2.Verify(authReq(tok)); !errors.Is(err, replay.ErrReplayed) {
		t.Fatalf("second VM accepted a replay: %v", err)
	}
}

const (
	sec = int64(1e9)
)

type remoteFixture struct {
	f     *fixture
	jwks  []byte
	doc   []byte
	token string // signed by the JWKS key (kid matches)
}

// newRemoteFixture: issuer mode, keys only from a remote JWKS holding the
// vector RSA client key under kid "k1".
func newRemoteFixture(t *testing.T, remote map[string]any) remoteFixture {
	f := newFixture(t, nil)
	jwk := `{"kty":"RSA","kid":"k1","alg":"RS256","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}`
	base := map[string]any{"cluster": "idp", "authority": "idp.test", "path": "/jwks.json",
		"refresh_seconds": 60, "min_refresh_seconds": 10, "max_stale_seconds": 600}
	for k, v := range remote {
		base[k] = v
	}
	doc, _ := json.Marshal(map[string]any{"profile": "standard", "remote_jwks": base, "cache_capacity": 0})
	tok := mint(t, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, `{"sub":"svc","exp":1900000000}`)
	return remoteFixture{f: f, jwks: []byte(`{"keys":[` + jwk + `]}`), doc: doc, token: tok}
}

func bearer(tok string, now int64) *provider.Request {
	return &provider.Request{Now: now, Headers: []provider.Header{{Name: "authorization", Value: "Bearer " + tok}}}
}

func TestRemoteJWKSLifecycle(t *testing.T) {
	rf := newRemoteFixture(t, map[string]any{"max_stale_seconds": 3600})
	shared := &provider.MemSharedData{}
	m := newMetrics()
	vm1 := build(t, rf.doc, m.deps(shared))
	vm2 := build(t, rf.doc, m.deps(shared))
	now := int64(t0) * sec

	// Start: VM1's tick fetches; VM2 sees the lease and does not.
	calls := vm1.Tick(now)
	if len(calls) != 1 || calls[0].Call.Headers[1].Value != "/jwks.json" {
		t.Fatalf("tick callouts %v", calls)
	}
	if c := vm2.Tick(now); len(c) != 0 {
		t.Fatal("second VM fetched while the first held the lease")
	}
	if _, err := calls[0].Resume(&provider.CalloutResponse{Status: 200, Body: rf.jwks}); err != nil {
		t.Fatal(err)
	}
	// VM2 uses the shared document without fetching.
	if id, err := vm2.Verify(bearer(rf.token, now+sec)); err != nil || id.Subject != "svc" {
		t.Fatalf("VM2: %v", err)
	}
	if m.c["jwks_fetch_ok"] != 1 || m.c["jwks_kid_hit"] == 0 {
		t.Fatalf("metrics %v", m.c)
	}

	// Outage: every refresh fails; keys keep serving until max_stale.
	due := now + 61*sec
	for i, bad := range []*provider.CalloutResponse{
		{Status: 0},                                // no answer
		{Status: 504},                              // Envoy's callout timeout
		{Status: 500, Body: []byte("oops")},        // server error
		{Status: 200, Body: []byte("<html>")},      // garbage
		{Status: 200, Body: []byte(`{"keys":[]}`)}, // no usable key
		{Status: 200, Body: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}, // HMAC secret as a key
	} {
		calls := vm1.Tick(due)
		if len(calls) != 1 {
			t.Fatalf("outage step %d: no refresh attempted", i)
		}
		if _, err := calls[0].Resume(bad); err == nil {
			t.Fatalf("outage step %d: bad answer accepted", i)
		}
		if id, err := vm1.Verify(bearer(rf.token, due)); err != nil || id.Subject != "svc" {
			t.Fatalf("outage step %d: cached keys not served: %v", i, err)
		}
		due += 301 * sec // past any back-off
	}
	if m.c["jwks_fetch_failed"] != 6 || m.c["jwks_fetch_timeout"] != 1 {
		t.Fatalf("failure metrics %v", m.c)
	}
	if m.g["jwks_key_age_seconds"] <= 0 {
		t.Fatalf("key age gauge %v", m.g)
	}
	// Past max_stale: fail closed.
	_, err := vm1.Verify(bearer(rf.token, now+3601*sec))
	if provider.ReasonOf(err) != provider.ReasonCalloutFailed {
		// A refresh callout is also acceptable only if it then fails closed.
		var nc *provider.NeedCallout
		if !errors.As(err, &nc) {
			t.Fatalf("stale keys still used: %v", err)
		}
		if _, err := nc.Resume(&provider.CalloutResponse{Status: 0}); provider.ReasonOf(err) != provider.ReasonCalloutFailed {
			t.Fatalf("after failed refresh: %v", err)
		}
	}
}

func TestBackoffAfterFailure(t *testing.T) {
	rf := newRemoteFixture(t, nil)
	shared := &provider.MemSharedData{}
	vm := build(t, rf.doc, newMetrics().deps(shared))
	now := int64(t0) * sec
	c := vm.Tick(now)
	_, _ = c[0].Resume(&provider.CalloutResponse{Status: 503})
	if len(vm.Tick(now+sec)) != 0 {
		t.Fatal("retried inside the back-off")
	}
	c = vm.Tick(now + 3*sec)
	if len(c) != 1 {
		t.Fatal("no retry after the back-off")
	}
	_, _ = c[0].Resume(&provider.CalloutResponse{Status: 503})
	if len(vm.Tick(now+6*sec)) != 0 {
		t.Fatal("back-off did not grow")
	}
}

func TestUnknownKidRefreshesOnceRateLimited(t *testing.T) {
	rf := newRemoteFixture(t, nil)
	shared := &provider.MemSharedData{}
	m := newMetrics()
	vm := build(t, rf.doc, m.deps(shared))
	now := int64(t0) * sec
	c := vm.Tick(now)
	_, _ = c[0].Resume(&provider.CalloutResponse{Status: 200, Body: rf.jwks})

	rotated := mint(t, rf.f.rsa, "RS256", `{"alg":"RS256","kid":"k2"}`, `{"sub":"svc","exp":1900000000}`)
	_, err := vm.Verify(bearer(rotated, now+20*sec))
	var nc *provider.NeedCallout
	if !errors.As(err, &nc) {
		t.Fatalf("unknown kid did not trigger a refresh: %v", err)
	}
	// The refreshed set has k2: the paused request is verified on Resume.
	k2 := strings.Replace(string(rf.jwks), `"k1"`, `"k2"`, 1)
	id, err := nc.Resume(&provider.CalloutResponse{Status: 200, Body: []byte(k2)})
	if err != nil || id.Subject != "svc" {
		t.Fatalf("after refresh: %v", err)
	}
	// Another unknown kid right away: no second refresh (rate limit), refused.
	other := mint(t, rf.f.rsa, "RS256", `{"alg":"RS256","kid":"k3"}`, `{"sub":"svc","exp":1900000000}`)
	if _, err := vm.Verify(bearer(other, now+21*sec)); provider.ReasonOf(err) != provider.ReasonUnknown {
		t.Fatalf("rate limit ignored: %v", err)
	}
	// A refresh that still lacks the kid refuses the request, with no loop.
	_, err = vm.Verify(bearer(other, now+40*sec))
	if !errors.As(err, &nc) {
		t.Fatalf("no refresh after the rate-limit interval: %v", err)
	}
	if _, err := nc.Resume(&provider.CalloutResponse{Status: 200, Body: []byte(k2)}); provider.ReasonOf(err) != provider.ReasonUnknown {
		t.Fatalf("kid still unknown: %v", err)
	}
}

func TestOIDCDiscovery(t *testing.T) {
	rf := newRemoteFixture(t, map[string]any{"path": "", "issuer": "https://idp.test/realms/a", "authority": ""})
	shared := &provider.MemSharedData{}
	vm := build(t, rf.doc, newMetrics().deps(shared))
	now := int64(t0) * sec
	c := vm.Tick(now)
	if len(c) != 1 || c[0].Call.Headers[1].Value != "/realms/a/.well-known/openid-configuration" || c[0].Call.Headers[2].Value != "idp.test" {
		t.Fatalf("discovery call %+v", c)
	}
	_, err := c[0].Resume(&provider.CalloutResponse{Status: 200, Body: []byte(`{"issuer":"https://idp.test/realms/a","jwks_uri":"https://idp.test/realms/a/certs"}`)})
	var nc *provider.NeedCallout
	if !errors.As(err, &nc) || nc.Call.Headers[1].Value != "/realms/a/certs" {
		t.Fatalf("no JWKS fetch after discovery: %v", err)
	}
	if _, err := nc.Resume(&provider.CalloutResponse{Status: 200, Body: rf.jwks}); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Verify(bearer(rf.token, now)); err != nil {
		t.Fatal(err)
	}

	// A discovery document naming another issuer is refused.
	rf2 := newRemoteFixture(t, map[string]any{"path": "", "issuer": "https://idp.test/realms/a", "authority": ""})
	vm2 := build(t, rf2.doc, newMetrics().deps(&provider.MemSharedData{}))
	c = vm2.Tick(now)
	_, err = c[0].Resume(&provider.CalloutResponse{Status: 200, Body: []byte(`{"issuer":"https://evil.test","jwks_uri":"https://evil.test/certs"}`)})
	if provider.ReasonOf(err) != provider.ReasonCalloutFailed {
		t.Fatalf("foreign issuer accepted: %v", err)
	}
}

// The provider's algorithm list applies to fetched keys too: an RSA key in
// a remote JWKS (no "alg") does not verify PS256 under the
// asymmetric_jwt_auth profile.
func TestRemoteKeysRestrictedToProviderAlgorithms(t *testing.T) {
	f := newFixture(t, nil)
	doc, _ := json.Marshal(map[string]any{
		"profile": "asymmetric_jwt_auth",
		"clients": map[string]any{"svc-rsa": map[string]any{"remote_jwks": map[string]any{"cluster": "idp", "authority": "idp", "path": "/jwks"}}},
	})
	vm := build(t, doc, newMetrics().deps(&provider.MemSharedData{}))
	now := int64(t0) * sec
	c := vm.Tick(now)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	if _, err := c[0].Resume(&provider.CalloutResponse{Status: 200, Body: []byte(jwks)}); err != nil {
		t.Fatal(err)
	}
	ps := mint(t, f.rsa, "PS256", `{"alg":"PS256","kid":"k1"}`, claimsJSON("svc-rsa", ""))
	if _, err := vm.Verify(authReq(ps)); provider.ReasonOf(err) != provider.ReasonAlgorithm {
		t.Fatalf("PS256 accepted from a remote key: %v", err)
	}
	rs := mint(t, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, claimsJSON("svc-rsa", ""))
	if _, err := vm.Verify(authReq(rs)); err != nil {
		t.Fatalf("RS256 refused: %v", err)
	}
}
