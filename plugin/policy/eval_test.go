package policy

import (
	"net/netip"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// fake is a provider whose answer depends on a request header: the header
// "x-<name>" carries "ok:<subject>" (verifies), "bad" (bad credential) or is
// absent (no credential). Scopes, role and claims come from the struct.
type fake struct {
	name   string
	scopes []string
	role   string
	claims map[string][]string
	call   bool // ask for a callout first
}

var errBadFake = provider.NewError(provider.ReasonBadSignature, "fake says bad")

func (f *fake) Name() string      { return f.name }
func (f *fake) Kind() string      { return "fake" }
func (f *fake) Challenge() string { return "Fake realm=\"" + f.name + "\"" }
func (f *fake) Verify(req *provider.Request) (provider.Identity, error) {
	v, n := req.Header("x-" + f.name)
	if n == 0 {
		return provider.Identity{}, provider.ErrNoCredential
	}
	decide := func(v string) (provider.Identity, error) {
		if len(v) >= 3 && v[:3] == "ok:" {
			return provider.Identity{Subject: v[3:], Scopes: f.scopes, Role: f.role, Claims: f.claims,
				Headers: []provider.Header{{Name: "x-from-" + f.name, Value: v[3:]}}}, nil
		}
		return provider.Identity{}, errBadFake
	}
	if f.call {
		return provider.Identity{}, &provider.NeedCallout{
			Call: provider.Callout{Cluster: "auth", TimeoutMillis: 100},
			Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
				if resp.Status != 200 {
					return provider.Identity{}, provider.NewError(provider.ReasonCalloutFailed, "auth service said no")
				}
				return decide(v)
			},
		}
	}
	return decide(v)
}

func (f *fake) Strip(req *provider.Request, e *provider.Edits) {
	e.RemoveHeaders = append(e.RemoveHeaders, "x-"+f.name)
}

type fakeLimiter struct {
	keys  []string
	allow bool
}

func (l *fakeLimiter) Take(key string, perSecond float64, burst int64, now int64) (bool, int64) {
	l.keys = append(l.keys, key)
	return l.allow, 7
}

func req(method, path string, headers ...string) *provider.Request {
	r := &provider.Request{Method: method, Authority: "api.example.test", RawPath: path, Now: 1}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, provider.Header{Name: headers[i], Value: headers[i+1]})
	}
	return r
}

func TestEvaluate(t *testing.T) {
	key := &fake{name: "key", scopes: []string{"read", "write"}, role: "robot",
		claims: map[string][]string{"org.team": {"blue", "green"}}}
	jwt := &fake{name: "jwt", scopes: []string{"read"}}
	ip := &fake{name: "ip"}
	rules := []*Rule{
		{Name: "health", Paths: []PathMatch{{Exact: "/healthz"}}, Methods: []string{"GET"}, Anonymous: true},
		{Name: "admin", Paths: []PathMatch{{Prefix: "/admin"}}, AllOf: []provider.Provider{ip}, AnyOf: []provider.Provider{key},
			Roles: []string{"robot"}},
		{Name: "write", Paths: []PathMatch{{Prefix: "/api"}}, Methods: []string{"POST"}, AnyOf: []provider.Provider{key, jwt},
			Scopes: Requirement{AllOf: []string{"write"}}},
		{Name: "team", Paths: []PathMatch{{Prefix: "/team"}}, AnyOf: []provider.Provider{key, jwt},
			Claims: []ClaimRequirement{{Claim: "org.team", Requirement: Requirement{AnyOf: []string{"green"}}}}},
		{Name: "cors", Paths: []PathMatch{{Prefix: "/api"}}, AnyOf: []provider.Provider{key, jwt}, CORSPreflight: true},
		{Name: "other-host", Hosts: []string{"*.internal.test"}, Anonymous: true},
		{Name: "trial", Paths: []PathMatch{{Prefix: "/trial"}}, AnyOf: []provider.Provider{jwt}, Shadow: true},
	}
	pol := New(rules, Options{})
	cases := []struct {
		name      string
		req       *provider.Request
		allow     bool
		shadow    bool
		rule      string
		reason    provider.Reason
		subject   string
		provider  string
		errorFrom string
	}{
		{"anonymous health", req("GET", "/healthz"), true, false, "health", provider.ReasonOK, "", "", ""},
		{"health wrong method falls to default deny", req("DELETE", "/healthz"), false, false, "", provider.ReasonNoRule, "", "", ""},
		{"no rule", req("GET", "/nothing"), false, false, "", provider.ReasonNoRule, "", "", ""},
		{"bad path", req("GET", "/a%2fb"), false, false, "", provider.ReasonBadRequest, "", "", ""},
		{"missing method", req("", "/healthz"), false, false, "", provider.ReasonBadRequest, "", "", ""},
		{"any-of first verifies", req("POST", "/api/x", "x-key", "ok:bot"), true, false, "write", provider.ReasonOK, "bot", "key", ""},
		{"any-of second verifies", req("GET", "/api/x", "x-jwt", "ok:svc"), true, false, "cors", provider.ReasonOK, "svc", "jwt", ""},
		{"any-of bad then good passes", req("GET", "/api/x", "x-key", "bad", "x-jwt", "ok:svc"), true, false, "cors", provider.ReasonOK, "svc", "jwt", ""},
		{"any-of bad reported over missing", req("GET", "/api/x", "x-jwt", "bad"), false, false, "cors", provider.ReasonBadSignature, "", "", "jwt"},
		{"any-of nothing presented", req("GET", "/api/x"), false, false, "cors", provider.ReasonMissing, "", "", ""},
		{"scope missing", req("POST", "/api/x", "x-jwt", "ok:svc"), false, false, "write", provider.ReasonScope, "", "", "jwt"},
		{"all-of and any-of", req("GET", "/admin/x", "x-ip", "ok:office", "x-key", "ok:bot"), true, false, "admin", provider.ReasonOK, "bot", "key", ""},
		{"all-of fails first", req("GET", "/admin/x", "x-ip", "bad", "x-key", "ok:bot"), false, false, "admin", provider.ReasonBadSignature, "", "", "ip"},
		{"all-of missing", req("GET", "/admin/x", "x-key", "ok:bot"), false, false, "admin", provider.ReasonMissing, "", "", "ip"},
		{"all-of ok any-of missing", req("GET", "/admin/x", "x-ip", "ok:office"), false, false, "admin", provider.ReasonMissing, "", "", ""},
		{"claim ok", req("GET", "/team", "x-key", "ok:bot"), true, false, "team", provider.ReasonOK, "bot", "key", ""},
		{"claim missing", req("GET", "/team", "x-jwt", "ok:svc"), false, false, "team", provider.ReasonScope, "", "", "jwt"},
		{"preflight let through", req("OPTIONS", "/api/x", "origin", "https://a.test", "access-control-request-method", "PUT"), true, false, "cors", provider.ReasonOK, "", "", ""},
		{"preflight matched with announced method", req("OPTIONS", "/api/x", "origin", "https://a.test", "access-control-request-method", "POST"), false, false, "write", provider.ReasonMissing, "", "", ""},
		{"options without origin is not preflight", req("OPTIONS", "/api/x", "access-control-request-method", "PUT"), false, false, "cors", provider.ReasonMissing, "", "", ""},
		{"host wildcard", &provider.Request{Method: "GET", Authority: "a.Internal.test:443", RawPath: "/x"}, true, false, "other-host", provider.ReasonOK, "", "", ""},
		{"host wildcard not apex", &provider.Request{Method: "GET", Authority: "internal.test", RawPath: "/x"}, false, false, "", provider.ReasonNoRule, "", "", ""},
		{"shadow denial lets through", req("GET", "/trial"), true, true, "trial", provider.ReasonMissing, "", "", ""},
		{"shadow allow", req("GET", "/trial", "x-jwt", "ok:svc"), true, false, "trial", provider.ReasonOK, "svc", "jwt", ""},
		{"dot-dot bypass lands on admin", req("GET", "/healthz/../admin", "x-key", "ok:bot"), false, false, "admin", provider.ReasonMissing, "", "", "ip"},
		{"case bypass finds no rule", req("GET", "/ADMIN", "x-key", "ok:bot"), false, false, "", provider.ReasonNoRule, "", "", ""},
		{"prefix is segment aware", req("GET", "/administrator"), false, false, "", provider.ReasonNoRule, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := pol.Start(c.req)
			if !ev.Done() {
				t.Fatal("evaluation paused without a callout provider")
			}
			v := ev.Verdict()
			rule := ""
			if v.Rule != nil {
				rule = v.Rule.Name
			}
			if v.Allow != c.allow || v.Shadow != c.shadow || rule != c.rule || v.Reason != c.reason {
				t.Fatalf("verdict allow=%v shadow=%v rule=%q reason=%q (%v); want %v %v %q %q",
					v.Allow, v.Shadow, rule, v.Reason, v.Err, c.allow, c.shadow, c.rule, c.reason)
			}
			if c.allow && !c.shadow && (v.Identity.Subject != c.subject || v.Identity.Provider != c.provider) {
				t.Fatalf("identity %q from %q, want %q from %q", v.Identity.Subject, v.Identity.Provider, c.subject, c.provider)
			}
			if v.Provider != c.errorFrom {
				t.Fatalf("refusal attributed to %q, want %q", v.Provider, c.errorFrom)
			}
		})
	}
}

func TestAllOfIdentityAndHeaders(t *testing.T) {
	ip, key := &fake{name: "ip"}, &fake{name: "key"}
	pol := New([]*Rule{{Name: "r", AllOf: []provider.Provider{ip, key}}}, Options{})
	v := pol.Start(req("GET", "/", "x-ip", "ok:", "x-key", "ok:bot")).Verdict()
	if !v.Allow || v.Identity.Subject != "bot" || v.Identity.Provider != "key" {
		t.Fatalf("primary identity %+v", v.Identity)
	}
	if len(v.Headers) != 2 || len(v.Verified) != 2 {
		t.Fatalf("headers %v verified %d", v.Headers, len(v.Verified))
	}
}

func TestCalloutResume(t *testing.T) {
	remote := &fake{name: "remote", call: true}
	pol := New([]*Rule{{Name: "r", AnyOf: []provider.Provider{remote}}}, Options{})
	cases := []struct {
		name   string
		status int
		value  string
		reason provider.Reason
	}{
		{"answer ok", 200, "ok:bot", provider.ReasonOK},
		{"answer refuses", 403, "ok:bot", provider.ReasonCalloutFailed},
		{"call failed (zero response)", 0, "ok:bot", provider.ReasonCalloutFailed},
		{"ok answer but bad credential", 200, "bad", provider.ReasonBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := pol.Start(req("GET", "/", "x-remote", c.value))
			if ev.Done() || ev.Callout() == nil || ev.Callout().Cluster != "auth" {
				t.Fatal("expected a pending callout")
			}
			var resp *provider.CalloutResponse
			if c.status != 0 {
				resp = &provider.CalloutResponse{Status: c.status}
			}
			ev.Resume(resp)
			if !ev.Done() || ev.Verdict().Reason != c.reason {
				t.Fatalf("done=%v reason=%q", ev.Done(), ev.Verdict().Reason)
			}
		})
	}
}

// loop asks for callouts forever.
type loop struct{ fake }

func (l *loop) Verify(*provider.Request) (provider.Identity, error) { return l.again() }
func (l *loop) again() (provider.Identity, error) {
	return provider.Identity{}, &provider.NeedCallout{Call: provider.Callout{Cluster: "c", TimeoutMillis: 1},
		Resume: func(*provider.CalloutResponse) (provider.Identity, error) { return l.again() }}
}

func TestCalloutLoopIsBounded(t *testing.T) {
	pol := New([]*Rule{{Name: "r", AnyOf: []provider.Provider{&loop{fake{name: "l"}}}}}, Options{MaxCallouts: 3})
	ev := pol.Start(req("GET", "/"))
	n := 0
	for !ev.Done() {
		n++
		if n > 10 {
			t.Fatal("callouts not bounded")
		}
		ev.Resume(&provider.CalloutResponse{Status: 200})
	}
	if n != 3 || ev.Verdict().Reason != provider.ReasonCalloutFailed {
		t.Fatalf("after %d callouts: %q", n, ev.Verdict().Reason)
	}
}

func TestRateLimit(t *testing.T) {
	key := &fake{name: "key"}
	lim := &fakeLimiter{allow: true}
	rules := []*Rule{
		{Name: "subj", Paths: []PathMatch{{Prefix: "/s"}}, AnyOf: []provider.Provider{key}, RateLimit: &RateLimit{By: BySubject, PerSecond: 1, Burst: 1}},
		{Name: "cred", Paths: []PathMatch{{Prefix: "/c"}}, AnyOf: []provider.Provider{key}, RateLimit: &RateLimit{By: ByCredential, PerSecond: 1, Burst: 1}},
		{Name: "src", Paths: []PathMatch{{Prefix: "/a"}}, Anonymous: true, RateLimit: &RateLimit{By: BySource, PerSecond: 1, Burst: 1}},
	}
	pol := New(rules, Options{Limiter: lim})
	r := req("GET", "/s", "x-key", "ok:bot")
	if v := pol.Start(r).Verdict(); !v.Allow {
		t.Fatalf("denied: %v", v.Err)
	}
	pol.Start(req("GET", "/c", "x-key", "ok:bot"))
	a := req("GET", "/a")
	a.Source = netip.MustParseAddr("203.0.113.9")
	pol.Start(a)
	pol.Start(req("GET", "/a"))
	a6 := req("GET", "/a")
	a6.Source = netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	pol.Start(a6)
	want := []string{"subj|s|key|bot", "", "src|a|203.0.113.9", "src|a|unknown", "src|a|2001:db8:1:2::/64"}
	if len(lim.keys) != 5 || lim.keys[0] != want[0] || lim.keys[2] != want[2] || lim.keys[3] != want[3] || lim.keys[4] != want[4] {
		t.Fatalf("keys %q", lim.keys)
	}
	if k := lim.keys[1]; len(k) != len("cred|c|key|")+32 || k[:11] != "cred|c|key|" {
		t.Fatalf("credential key %q", k)
	}
	lim.allow = false
	v := pol.Start(req("GET", "/s", "x-key", "ok:bot")).Verdict()
	if v.Allow || v.Reason != provider.ReasonRateLimited || v.RetryAfter != 7 || v.Status() != 429 {
		t.Fatalf("rate limited verdict %+v", v)
	}
}

func TestRateLimitWithoutLimiterFailsClosed(t *testing.T) {
	pol := New([]*Rule{{Name: "r", Anonymous: true, RateLimit: &RateLimit{By: BySource, PerSecond: 1, Burst: 1}}}, Options{})
	if v := pol.Start(req("GET", "/")).Verdict(); v.Allow || v.Reason != provider.ReasonInternal {
		t.Fatalf("verdict %+v", v)
	}
}

func TestCovers(t *testing.T) {
	r := func(methods, hosts []string, paths ...PathMatch) *Rule {
		return &Rule{Methods: methods, Hosts: hosts, Paths: paths}
	}
	cases := []struct {
		name string
		a, b *Rule
		want bool
	}{
		{"catch-all covers all", r(nil, nil), r([]string{"GET"}, []string{"a.test"}, PathMatch{Exact: "/x"}), true},
		{"prefix / covers", r(nil, nil, PathMatch{Prefix: "/"}), r(nil, nil), true},
		{"prefix covers exact below", r(nil, nil, PathMatch{Prefix: "/api"}), r(nil, nil, PathMatch{Exact: "/api/x"}), true},
		{"prefix covers deeper prefix", r(nil, nil, PathMatch{Prefix: "/api"}), r(nil, nil, PathMatch{Prefix: "/api/v1"}), true},
		{"exact does not cover prefix", r(nil, nil, PathMatch{Exact: "/api"}), r(nil, nil, PathMatch{Prefix: "/api"}), false},
		{"sibling prefix", r(nil, nil, PathMatch{Prefix: "/api"}), r(nil, nil, PathMatch{Prefix: "/apis"}), false},
		{"fewer methods", r([]string{"GET"}, nil), r([]string{"GET", "POST"}, nil), false},
		{"more methods", r([]string{"GET", "POST"}, nil), r([]string{"GET"}, nil), true},
		{"methods vs any", r([]string{"GET"}, nil), r(nil, nil), false},
		{"wildcard host covers sub", r(nil, []string{"*.a.test"}), r(nil, []string{"x.a.test", "*.b.a.test"}), true},
		{"wildcard host not apex", r(nil, []string{"*.a.test"}), r(nil, []string{"a.test"}), false},
		{"host vs any", r(nil, []string{"a.test"}), r(nil, nil), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Covers(c.a, c.b); got != c.want {
				t.Fatalf("Covers = %v, want %v", got, c.want)
			}
		})
	}
}

func TestBeginWantsBody(t *testing.T) {
	key := &fake{name: "key"}
	pol := New([]*Rule{
		{Name: "signed", Paths: []PathMatch{{Prefix: "/signed"}}, AnyOf: []provider.Provider{key}, BufferBody: true, MaxBodyBytes: 10},
		{Name: "plain", AnyOf: []provider.Provider{key}},
	}, Options{})
	ev := pol.Begin(req("POST", "/signed", "x-key", "ok:bot"))
	if !ev.WantsBody() || ev.Done() {
		t.Fatal("buffering rule does not want the body")
	}
	ev.Run()
	if !ev.Done() || !ev.Verdict().Allow || ev.WantsBody() {
		t.Fatalf("after Run: done=%v verdict=%+v", ev.Done(), ev.Verdict())
	}
	if ev := pol.Begin(req("POST", "/other", "x-key", "ok:bot")); ev.WantsBody() {
		t.Fatal("plain rule wants the body")
	}
	if ev := pol.Begin(req("POST", "/%2f")); ev.WantsBody() || !ev.Done() {
		t.Fatal("refused path must be decided at Begin")
	}
}

func TestRateLimitSourceKeyOption(t *testing.T) {
	lim := &fakeLimiter{allow: true}
	rules := []*Rule{{Name: "src", Paths: []PathMatch{{Prefix: "/a"}}, Anonymous: true, RateLimit: &RateLimit{By: BySource, PerSecond: 1, Burst: 1}}}
	pol := New(rules, Options{Limiter: lim, SourceKey: func(a netip.Addr) string { return "slot-of-" + a.String() }})
	a := req("GET", "/a")
	a.Source = netip.MustParseAddr("203.0.113.9")
	pol.Start(a)
	if len(lim.keys) != 1 || lim.keys[0] != "src|a|slot-of-203.0.113.9" {
		t.Fatalf("keys %q", lim.keys)
	}
}
