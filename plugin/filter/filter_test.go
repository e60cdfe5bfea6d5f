package filter

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// tkey is the test provider: it reads its header ("header"), accepts
// "ok:<subject>", refuses anything else, can panic, and can insist on a
// callout to "callout" first (answer 200 = go on).
type tkey struct {
	name, header, cluster string
	scopes                []string
	panics                bool
}

var errTBad = provider.NewError(provider.ReasonBadSignature, "key does not verify")

func (k *tkey) Name() string      { return k.name }
func (k *tkey) Kind() string      { return "tkey" }
func (k *tkey) Challenge() string { return `TKey realm="` + k.name + `"` }
func (k *tkey) Verify(r *provider.Request) (provider.Identity, error) {
	if k.panics {
		panic("secret-token-in-panic")
	}
	v, n := r.Header(k.header)
	if n == 0 {
		return provider.Identity{}, provider.ErrNoCredential
	}
	decide := func() (provider.Identity, error) {
		if strings.HasPrefix(v, "ok:") {
			return provider.Identity{Subject: v[3:], Scopes: k.scopes,
				Headers: []provider.Header{{Name: "x-key-owner", Value: v[3:]}}}, nil
		}
		return provider.Identity{}, errTBad
	}
	if k.cluster == "" {
		return decide()
	}
	return provider.Identity{}, &provider.NeedCallout{
		Call: provider.Callout{Cluster: k.cluster, TimeoutMillis: 500,
			Headers: []provider.Header{{Name: ":method", Value: "GET"}, {Name: ":path", Value: "/check"}, {Name: ":authority", Value: "auth"}}},
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			if resp.Status != 200 {
				return provider.Identity{}, provider.NewError(provider.ReasonCalloutFailed, "auth service unavailable")
			}
			return decide()
		},
	}
}

func (k *tkey) Strip(_ *provider.Request, e *provider.Edits) {
	e.RemoveHeaders = append(e.RemoveHeaders, k.header)
	e.RemoveQueryParams = append(e.RemoveQueryParams, "key")
}

func tkeyFromConfig(name string, o *conf.Object, _ provider.Deps) provider.Provider {
	k := &tkey{name: name, header: o.String("header", "x-key"), cluster: o.String("callout", ""),
		scopes: o.Strings("scopes"), panics: o.Bool("panic", false)}
	o.Done()
	return k
}

var testKinds = map[string]config.Constructor{"tkey": tkeyFromConfig}

const filterConfig = `{
  "providers": [
    {"name": "keys", "type": "tkey", "scopes": ["read", "write"]},
    {"name": "reader", "type": "tkey", "header": "x-reader", "scopes": ["read"]},
    {"name": "remote", "type": "tkey", "header": "x-remote", "callout": "auth"},
    {"name": "boom", "type": "tkey", "header": "x-boom", "panic": true}
  ],
  "rules": [
    {"name": "health", "paths": [{"exact": "/healthz"}], "anonymous": true},
    {"name": "write", "paths": [{"prefix": "/api"}], "methods": ["POST"], "any_of": ["keys", "reader"],
     "scopes": {"all_of": ["write"]}, "cors_preflight": true},
    {"name": "api", "paths": [{"prefix": "/api"}], "any_of": ["keys", "reader"],
     "rate_limit": {"by": "subject", "per_second": 1, "burst": 2}},
    {"name": "trial", "paths": [{"prefix": "/trial"}], "any_of": ["keys"], "mode": "shadow"},
    {"name": "remote", "paths": [{"prefix": "/remote"}], "any_of": ["remote"]},
    {"name": "boom", "paths": [{"prefix": "/boom"}], "any_of": ["boom"]}
  ],
  "identity_headers": {"remove": ["x-user"]},
  "deny_log_level": "warn"
}`

var testNow int64 = 1764000000 * 1e9

func newHost(t *testing.T, cfg string) proxytest.HostEmulator {
	t.Helper()
	opt := proxytest.NewEmulatorOption().
		WithPluginConfiguration([]byte(cfg)).
		WithVMContext(NewVMContextWith(Options{Kinds: testKinds, Env: conf.MapEnv{}, Now: func() int64 { return testNow }}))
	host, reset := proxytest.NewHostEmulator(opt)
	t.Cleanup(reset)
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("plugin start failed: %v", host.GetCriticalLogs())
	}
	return host
}

func request(method, path string, extra ...[2]string) [][2]string {
	hs := [][2]string{{":method", method}, {":path", path}, {":authority", "api.example.test"}, {":scheme", "https"}}
	return append(hs, extra...)
}

func header(hs [][2]string, name string) []string {
	var out []string
	for _, h := range hs {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

func TestForwardWithIdentity(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	act := host.CallOnRequestHeaders(id, request("GET", "/api/items?key=secret&limit=5",
		[2]string{"x-key", "ok:bot-7"},
		[2]string{"x-tokengate-subject", "admin"},   // forged
		[2]string{"x-tokengate-anything", "forged"}, // forged by prefix
		[2]string{"x-user", "root"},                 // in the remove list
		[2]string{"x-key-owner", "someone-else"},    // a provider header
	), true)
	if act != types.ActionContinue {
		t.Fatalf("action %v, local reply %+v", act, host.GetSentLocalResponse(id))
	}
	hs := host.GetCurrentRequestHeaders(id)
	checks := map[string][]string{
		"x-tokengate-subject":  {"bot-7"},
		"x-tokengate-provider": {"keys"},
		"x-tokengate-scopes":   {"read write"},
		"x-tokengate-anything": nil,
		"x-user":               nil,
		"x-key":                nil, // stripped
		"x-key-owner":          {"bot-7"},
		":path":                {"/api/items?limit=5"},
	}
	for name, want := range checks {
		if got := header(hs, name); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if v, _ := host.GetCounterMetric("tokengate.requests.rule.api.provider.keys.outcome.allowed.reason.ok"); v != 1 {
		t.Errorf("allowed counter = %d", v)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name      string
		headers   [][2]string
		status    uint32
		body      string
		challenge []string
		metric    string
	}{
		{"no credential", request("GET", "/api/x"), 401, `{"error":"credential_missing"}`,
			[]string{`TKey realm="keys"`, `TKey realm="reader"`},
			"tokengate.requests.rule.api.provider._none.outcome.denied.reason.credential_missing"},
		{"bad credential", request("GET", "/api/x", [2]string{"x-key", "wrong-secret-value"}), 401, `{"error":"bad_signature"}`,
			[]string{`TKey realm="keys"`, `TKey realm="reader"`},
			"tokengate.requests.rule.api.provider.keys.outcome.denied.reason.bad_signature"},
		{"insufficient scope", request("POST", "/api/x", [2]string{"x-reader", "ok:r"}), 403, `{"error":"insufficient_scope"}`, nil,
			"tokengate.requests.rule.write.provider.reader.outcome.denied.reason.insufficient_scope"},
		{"no rule", request("GET", "/other"), 403, `{"error":"no_matching_rule"}`, nil,
			"tokengate.requests.rule._none.provider._none.outcome.denied.reason.no_matching_rule"},
		{"encoded slash", request("GET", "/api%2fx"), 400, `{"error":"bad_request"}`, nil,
			"tokengate.requests.rule._none.provider._none.outcome.denied.reason.bad_request"},
		{"NUL in path", request("GET", "/api/x%00"), 400, `{"error":"bad_request"}`, nil, ""},
		{"invalid UTF-8", request("GET", "/api/\xff"), 400, `{"error":"bad_request"}`, nil, ""},
		{"dot-dot escape to unprotected", request("GET", "/healthz/../api/x"), 401, `{"error":"credential_missing"}`,
			[]string{`TKey realm="keys"`, `TKey realm="reader"`}, ""},
		{"two paths", append(request("GET", "/healthz"), [2]string{":path", "/api"}), 400, `{"error":"bad_request"}`, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := newHost(t, filterConfig)
			id := host.InitializeHttpContext()
			if act := host.CallOnRequestHeaders(id, c.headers, true); act != types.ActionPause {
				t.Fatalf("action %v", act)
			}
			r := host.GetSentLocalResponse(id)
			if r == nil || r.StatusCode != c.status || string(r.Data) != c.body {
				t.Fatalf("reply %+v", r)
			}
			if got := header(r.Headers, "content-type"); len(got) != 1 || got[0] != "application/json" {
				t.Fatalf("content-type %q", got)
			}
			if got := header(r.Headers, "www-authenticate"); strings.Join(got, "|") != strings.Join(c.challenge, "|") {
				t.Fatalf("www-authenticate %q, want %q", got, c.challenge)
			}
			if strings.Contains(string(r.Data), "wrong-secret-value") || logsContain(host, "wrong-secret-value") {
				t.Fatal("credential leaked into the reply or logs")
			}
			if c.metric != "" {
				if v, err := host.GetCounterMetric(c.metric); err != nil || v != 1 {
					t.Fatalf("metric %s = %d, %v", c.metric, v, err)
				}
			}
			if warn := host.GetWarnLogs(); len(warn) == 0 || !strings.HasPrefix(warn[len(warn)-1], "tokengate: denied status=") {
				t.Fatalf("denial not logged at warn: %q", warn)
			}
		})
	}
}

func logsContain(host proxytest.HostEmulator, s string) bool {
	for _, logs := range [][]string{host.GetTraceLogs(), host.GetDebugLogs(), host.GetInfoLogs(), host.GetWarnLogs(), host.GetErrorLogs(), host.GetCriticalLogs()} {
		for _, l := range logs {
			if strings.Contains(l, s) {
				return true
			}
		}
	}
	return false
}

func TestRateLimit(t *testing.T) {
	host := newHost(t, filterConfig)
	statuses := []uint32{}
	for i := 0; i < 3; i++ {
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, request("GET", "/api/x", [2]string{"x-key", "ok:bot"}), true)
		if r := host.GetSentLocalResponse(id); r != nil {
			statuses = append(statuses, r.StatusCode)
			if i == 2 && (string(r.Data) != `{"error":"rate_limited","retry_after":1}` || strings.Join(header(r.Headers, "retry-after"), "") != "1") {
				t.Fatalf("429 reply %+v %s", r, r.Data)
			}
		} else {
			statuses = append(statuses, 200)
		}
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Fatalf("statuses %v (burst 2)", statuses)
	}
	// Another subject has its own bucket.
	id := host.InitializeHttpContext()
	if act := host.CallOnRequestHeaders(id, request("GET", "/api/x", [2]string{"x-key", "ok:other"}), true); act != types.ActionContinue {
		t.Fatal("other subject limited")
	}
}

func TestShadowMode(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	act := host.CallOnRequestHeaders(id, request("GET", "/trial/x", [2]string{"x-tokengate-subject", "forged"}), true)
	if act != types.ActionContinue || host.GetSentLocalResponse(id) != nil {
		t.Fatal("shadow rule blocked")
	}
	if len(header(host.GetCurrentRequestHeaders(id), "x-tokengate-subject")) != 0 {
		t.Fatal("forged identity header kept on a shadow denial")
	}
	if !logsContain(host, "tokengate: shadow: would deny status=401 rule=trial reason=credential_missing") {
		t.Fatalf("no would-deny log: %q", host.GetWarnLogs())
	}
	if v, _ := host.GetCounterMetric("tokengate.requests.rule.trial.provider._none.outcome.shadow_denied.reason.credential_missing"); v != 1 {
		t.Fatal("shadow counter not incremented")
	}
	// A shadow rule that verifies adds identity but does not strip.
	id = host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("GET", "/trial/x", [2]string{"x-key", "ok:bot"}), true)
	hs := host.GetCurrentRequestHeaders(id)
	if len(header(hs, "x-key")) != 1 || strings.Join(header(hs, "x-tokengate-subject"), "") != "bot" {
		t.Fatalf("shadow allow headers %q", hs)
	}
}

func TestAnonymousAndPreflight(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	act := host.CallOnRequestHeaders(id, request("GET", "/healthz", [2]string{"x-tokengate-subject", "forged"}), true)
	if act != types.ActionContinue || len(header(host.GetCurrentRequestHeaders(id), "x-tokengate-subject")) != 0 {
		t.Fatal("anonymous rule: not forwarded or forged header kept")
	}
	id = host.InitializeHttpContext()
	act = host.CallOnRequestHeaders(id, request("OPTIONS", "/api/x",
		[2]string{"origin", "https://app.example.test"}, [2]string{"access-control-request-method", "POST"}), true)
	if act != types.ActionContinue || host.GetSentLocalResponse(id) != nil {
		t.Fatal("preflight not let through")
	}
	if v, _ := host.GetCounterMetric("tokengate.requests.rule.write.provider._preflight.outcome.allowed.reason.ok"); v != 1 {
		t.Fatal("preflight counter")
	}
	// The announced method decides the rule: GET goes to "api", which does
	// not let preflights through.
	id = host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("OPTIONS", "/api/x",
		[2]string{"origin", "https://app.example.test"}, [2]string{"access-control-request-method", "GET"}), true)
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 401 {
		t.Fatalf("preflight on a rule without cors_preflight: %+v", r)
	}
}

func TestPanicIsContained(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	act := host.CallOnRequestHeaders(id, request("GET", "/boom", [2]string{"x-boom", "x"}), true)
	if act != types.ActionPause {
		t.Fatalf("action %v", act)
	}
	r := host.GetSentLocalResponse(id)
	if r == nil || r.StatusCode != 500 || string(r.Data) != `{"error":"internal_error"}` {
		t.Fatalf("reply %+v", r)
	}
	if crit := host.GetCriticalLogs(); len(crit) != 1 || crit[0] != "tokengate: panic in on_request_headers; request denied" {
		t.Fatalf("critical logs %q", crit)
	}
	if logsContain(host, "secret-token-in-panic") {
		t.Fatal("panic value logged")
	}
	// The VM keeps serving.
	id = host.InitializeHttpContext()
	if host.CallOnRequestHeaders(id, request("GET", "/healthz"), true) != types.ActionContinue {
		t.Fatal("VM unusable after a contained panic")
	}
}

func TestCallout(t *testing.T) {
	cases := []struct {
		name    string
		headers [][2]string
		status  uint32 // 0: forwarded
	}{
		{"answered 200", [][2]string{{":status", "200"}}, 0},
		{"answered 503", [][2]string{{":status", "503"}}, 503},
		{"reset", nil, 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := newHost(t, filterConfig)
			id := host.InitializeHttpContext()
			if act := host.CallOnRequestHeaders(id, request("GET", "/remote", [2]string{"x-remote", "ok:svc"}), true); act != types.ActionPause {
				t.Fatalf("action %v", act)
			}
			calls := host.GetCalloutAttributesFromContext(id)
			if len(calls) != 1 || calls[0].Upstream != "auth" {
				t.Fatalf("callouts %+v", calls)
			}
			host.CallOnHttpCallResponse(calls[0].CalloutID, c.headers, nil, nil)
			r := host.GetSentLocalResponse(id)
			if c.status == 0 {
				if r != nil || host.GetCurrentHttpStreamAction(id) != types.ActionContinue {
					t.Fatalf("not resumed: %+v", r)
				}
				if strings.Join(header(host.GetCurrentRequestHeaders(id), "x-tokengate-subject"), "") != "svc" {
					t.Fatal("identity missing after callout")
				}
				return
			}
			if r == nil || r.StatusCode != c.status || string(r.Data) != `{"error":"callout_failed"}` {
				t.Fatalf("reply %+v", r)
			}
		})
	}
}

func TestCalloutAfterStreamEnded(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("GET", "/remote", [2]string{"x-remote", "ok:svc"}), true)
	calls := host.GetCalloutAttributesFromContext(id)
	host.CompleteHttpContext(id)
	host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
	if len(host.GetCriticalLogs()) != 0 {
		t.Fatalf("late answer caused %q", host.GetCriticalLogs())
	}
}

func TestStartRefusesBadConfiguration(t *testing.T) {
	opt := proxytest.NewEmulatorOption().
		WithPluginConfiguration([]byte(`{"providers": [{"name": "k", "type": "tkey"}], "rules": [{"name": "r", "any_of": ["k", "nope"]}], "x": 1}`)).
		WithVMContext(NewVMContextWith(Options{Kinds: testKinds}))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if st := host.StartPlugin(); st != types.OnPluginStartStatusFailed {
		t.Fatal("bad configuration accepted")
	}
	crit := host.GetCriticalLogs()
	want := "tokengate: invalid configuration; refusing to start:\nrules[0].any_of[1]: unknown provider \"nope\"\nx: unknown field"
	if len(crit) != 1 || crit[0] != want {
		t.Fatalf("critical logs %q", crit)
	}
	// Requests on a plugin that failed to start are refused, never passed.
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("GET", "/"), true)
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 500 {
		t.Fatalf("unconfigured plugin reply %+v", r)
	}
}

func TestStartWarnings(t *testing.T) {
	host := newHost(t, `{"providers": [{"name": "k", "type": "tkey"}, {"name": "spare", "type": "tkey"}],
		"rules": [{"name": "r", "any_of": ["k"], "mode": "shadow"}]}`)
	warn := strings.Join(host.GetWarnLogs(), "\n")
	for _, w := range []string{`configuration warning: provider "spare" is not used by any rule`, `rule "r" is in shadow mode`} {
		if !strings.Contains(warn, w) {
			t.Errorf("missing warning %q in %q", w, warn)
		}
	}
}

func TestTrustedHops(t *testing.T) {
	cfg := `{"providers": [{"name": "k", "type": "tkey"}], "rules": [{"name": "r", "anonymous": true, "rate_limit": {"by": "source", "per_second": 1, "burst": 1}}], "trusted_xff_hops": 1}`
	host := newHost(t, cfg)
	if err := host.SetProperty([]string{"source", "address"}, []byte("10.0.0.1:5000")); err != nil {
		t.Fatal(err)
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("GET", "/"), true)
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 400 {
		t.Fatalf("missing x-forwarded-for with a trusted hop: %+v", r)
	}
	// Two clients behind the same proxy get separate buckets.
	for _, client := range []string{"203.0.113.1", "203.0.113.2"} {
		id = host.InitializeHttpContext()
		if act := host.CallOnRequestHeaders(id, request("GET", "/", [2]string{"x-forwarded-for", "198.51.100.7, " + client}), true); act != types.ActionContinue {
			t.Fatalf("client %s limited: %+v", client, host.GetSentLocalResponse(id))
		}
	}
	id = host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("GET", "/", [2]string{"x-forwarded-for", "203.0.113.1"}), true)
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 429 {
		t.Fatalf("same client twice: %+v", r)
	}
}

func TestRemoveQueryParams(t *testing.T) {
	cases := []struct{ in, out string }{
		{"/a?key=1&b=2", "/a?b=2"},
		{"/a?b=2&key=1", "/a?b=2"},
		{"/a?key=1", "/a"},
		{"/a?key", "/a"},
		{"/a?keys=1", "/a?keys=1"},
		{"/a", "/a"},
		{"/a?b=1&key=1&key=2&c", "/a?b=1&c"},
	}
	for _, c := range cases {
		if got, _ := RemoveQueryParams(c.in, []string{"key"}); got != c.out {
			t.Errorf("RemoveQueryParams(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

// While a callout is out, body and trailer callbacks must not let the
// request through (Envoy delivers them to a paused filter when
// allow_on_headers_stop_iteration is on).
func TestBodyHeldWhileDeciding(t *testing.T) {
	host := newHost(t, filterConfig)
	id := host.InitializeHttpContext()
	if act := host.CallOnRequestHeaders(id, request("POST", "/remote", [2]string{"x-remote", "ok:svc"}), false); act != types.ActionPause {
		t.Fatalf("headers: %v", act)
	}
	if act := host.CallOnRequestBody(id, []byte("payload"), false); act != types.ActionPause {
		t.Fatalf("body passed while a callout was out: %v", act)
	}
	if act := host.CallOnRequestTrailers(id, [][2]string{{"x-t", "1"}}); act != types.ActionPause {
		t.Fatalf("trailers passed while a callout was out: %v", act)
	}
	calls := host.GetCalloutAttributesFromContext(id)
	host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, nil)
	if act := host.CallOnRequestBody(id, []byte("more"), true); act != types.ActionContinue {
		t.Fatalf("body after the verdict: %v", act)
	}
	// A refused request never lets its body through either.
	id = host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("POST", "/api/x"), false)
	if act := host.CallOnRequestBody(id, []byte("x"), true); act != types.ActionPause {
		t.Fatalf("body of a refused request: %v", act)
	}
}
