package introspect

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

const sec = int64(1e9)
const now = 1718200000 * sec

type counters map[string]int64

type ctr struct {
	m    counters
	name string
}

func (c ctr) Increment(d int64) { c.m[c.name] += d }

func build(t *testing.T, doc string) (*Provider, counters, *[]string) {
	t.Helper()
	m := counters{}
	var warns []string
	d := provider.Deps{
		CounterFunc: func(n string) provider.Counter { return ctr{m, n} },
		WarnFunc:    func(s string) { warns = append(warns, s) },
	}
	o, errs := conf.Root([]byte(doc), conf.MapEnv{"INTROSPECT_BASIC": "Basic Y2xpZW50OnNlY3JldA=="})
	p := FromConfig("intro", o, d)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	return p.(*Provider), m, &warns
}

func bearer(tok string) *provider.Request {
	return &provider.Request{Now: now, Headers: []provider.Header{{Name: "authorization", Value: "Bearer " + tok}}}
}

// call runs Verify and answers its callout with resp.
func call(t *testing.T, p *Provider, req *provider.Request, resp *provider.CalloutResponse) (provider.Identity, error) {
	t.Helper()
	_, err := p.Verify(req)
	var nc *provider.NeedCallout
	if !errors.As(err, &nc) {
		return provider.Identity{}, err
	}
	return nc.Resume(resp)
}

const rfcDoc = `{"cluster":"auth","authority":"auth.internal","path":"/oauth2/introspect",
 "request":{"form_extra":{"token_type_hint":"access_token"},"headers":{"authorization":{"env":"INTROSPECT_BASIC"}}},
 "response":{"claims_to_headers":{"client_id":"x-client-id"}}}`

func ok(body string) *provider.CalloutResponse {
	return &provider.CalloutResponse{Status: 200, Body: []byte(body)}
}

func TestRFC7662(t *testing.T) {
	p, _, _ := build(t, rfcDoc)
	_, err := p.Verify(bearer("2YotnFZFEjr1zCsicMWpAA+/="))
	var nc *provider.NeedCallout
	if !errors.As(err, &nc) {
		t.Fatalf("no callout: %v", err)
	}
	if string(nc.Call.Body) != "token=2YotnFZFEjr1zCsicMWpAA%2B%2F%3D&token_type_hint=access_token" {
		t.Fatalf("body %q", nc.Call.Body)
	}
	if nc.Call.TimeoutMillis != 2000 || nc.Call.Cluster != "auth" {
		t.Fatalf("call %+v", nc.Call)
	}
	var auth string
	for _, h := range nc.Call.Headers {
		if h.Name == "authorization" {
			auth = h.Value
		}
	}
	if auth != "Basic Y2xpZW50OnNlY3JldA==" {
		t.Fatalf("service credential not sent: %q", auth)
	}
	id, err := nc.Resume(ok(`{"active":true,"sub":"Z5O3upPC88QrAjx00dis","client_id":"l238j323ds-23ij4","scope":"read write","exp":1718200030}`))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "Z5O3upPC88QrAjx00dis" || strings.Join(id.Scopes, ",") != "read,write" || id.ExpiresAt != 1718200030*sec {
		t.Fatalf("identity %+v", id)
	}
	if len(id.Headers) != 1 || id.Headers[0].Value != "l238j323ds-23ij4" {
		t.Fatalf("headers %v", id.Headers)
	}
	// Cached: no callout the second time, but never past exp.
	if id, err := p.Verify(bearer("2YotnFZFEjr1zCsicMWpAA+/=")); err != nil || id.Subject == "" {
		t.Fatalf("cache miss: %v", err)
	}
	late := bearer("2YotnFZFEjr1zCsicMWpAA+/=")
	late.Now = 1718200030 * sec
	if _, err := p.Verify(late); !errors.As(err, &nc) {
		t.Fatalf("cache outlived exp: %v", err)
	}
}

func TestAnswers(t *testing.T) {
	cases := []struct {
		name string
		resp *provider.CalloutResponse
		want provider.Reason
	}{
		{"active", ok(`{"active":true,"username":"u"}`), provider.ReasonOK},
		{"inactive", ok(`{"active":false}`), provider.ReasonUnknown},
		{"expired exp", ok(`{"active":true,"sub":"u","exp":1718199999}`), provider.ReasonExpired},
		{"no answer", &provider.CalloutResponse{}, provider.ReasonCalloutFailed},
		{"nil answer", nil, provider.ReasonCalloutFailed},
		{"timeout (Envoy 504)", &provider.CalloutResponse{Status: 504}, provider.ReasonCalloutTimeout},
		{"server error", &provider.CalloutResponse{Status: 500, Body: []byte(`{"active":true,"sub":"u"}`)}, provider.ReasonCalloutFailed},
		{"unauthorized at the service", &provider.CalloutResponse{Status: 401}, provider.ReasonCalloutFailed},
		{"html", ok(`<html>ok</html>`), provider.ReasonCalloutFailed},
		{"array", ok(`[{"active":true,"sub":"u"}]`), provider.ReasonCalloutFailed},
		{"trailing data", ok(`{"active":true,"sub":"u"} {"active":false}`), provider.ReasonCalloutFailed},
		{"duplicate active", ok(`{"active":false,"active":true,"sub":"u"}`), provider.ReasonCalloutFailed},
		{"duplicate nested", ok(`{"active":true,"sub":"u","ext":{"a":1,"a":2}}`), provider.ReasonCalloutFailed},
		{"active as string", ok(`{"active":"true","sub":"u"}`), provider.ReasonCalloutFailed},
		{"active missing", ok(`{"sub":"u"}`), provider.ReasonCalloutFailed},
		{"subject missing", ok(`{"active":true}`), provider.ReasonCalloutFailed},
		{"subject with CRLF", ok(`{"active":true,"sub":"u\r\nx-admin: 1"}`), provider.ReasonCalloutFailed},
		{"exp not a number", ok(`{"active":true,"sub":"u","exp":"soon"}`), provider.ReasonCalloutFailed},
		{"oversize body", ok(`{"active":true,"sub":"u","pad":"` + strings.Repeat("x", 70000) + `"}`), provider.ReasonCalloutFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, m, _ := build(t, rfcDoc)
			_, err := call(t, p, bearer("tok"), c.resp)
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("got %s (%v)", got, err)
			}
			// Failures are metered and never cached; verdicts are cached.
			_, again := p.Verify(bearer("tok"))
			var nc *provider.NeedCallout
			isCallout := errors.As(again, &nc)
			switch c.want {
			case provider.ReasonCalloutFailed, provider.ReasonCalloutTimeout:
				if !isCallout {
					t.Fatalf("failure was cached: %v", again)
				}
				if m["callout_failed"]+m["callout_timeout"] != 1 {
					t.Fatalf("failure not metered: %v", m)
				}
			default:
				if isCallout {
					t.Fatal("verdict not cached")
				}
			}
		})
	}
}

func TestFailOpen(t *testing.T) {
	doc := strings.Replace(rfcDoc, `"cluster"`, `"failure_policy":"allow","cluster"`, 1)
	p, m, warns := build(t, doc)
	if len(*warns) != 1 {
		t.Fatalf("fail-open opt-in not logged: %v", *warns)
	}
	id, err := call(t, p, bearer("tok"), &provider.CalloutResponse{Status: 504})
	if err != nil || id.Subject != "unverified" || id.Headers[0].Name != FailOpenHeader {
		t.Fatalf("fail-open: %+v %v", id, err)
	}
	if m["fail_open"] != 1 || m["callout_timeout"] != 1 || len(*warns) != 2 {
		t.Fatalf("fail-open not metered/logged: %v %v", m, *warns)
	}
	// A definitive "inactive" is never turned into a pass.
	if _, err := call(t, p, bearer("tok2"), ok(`{"active":false}`)); provider.ReasonOf(err) != provider.ReasonUnknown {
		t.Fatalf("inactive passed with fail-open: %v", err)
	}
}

// An authnzerver-like session service: JSON request, nested answer, cookie.
func TestCustomMapping(t *testing.T) {
	doc := `{"cluster":"authnzerver","authority":"authnzerver","path":"/",
	 "source":{"cookie":"authnzerver_session"},
	 "request":{"json_template":"{\"request\":\"session-exists\",\"body\":{\"session_token\":\"{token}\"}}"},
	 "response":{"active_path":"success","subject_paths":["response.session_info.user_id"],"role_path":"response.session_info.user_role"},
	 "cache_capacity":0}`
	p, _, _ := build(t, doc)
	req := &provider.Request{Now: now, Headers: []provider.Header{{Name: "cookie", Value: "theme=dark; authnzerver_session=s3ss10n"}}}
	_, err := p.Verify(req)
	var nc *provider.NeedCallout
	if !errors.As(err, &nc) {
		t.Fatal(err)
	}
	if string(nc.Call.Body) != `{"request":"session-exists","body":{"session_token":"s3ss10n"}}` {
		t.Fatalf("body %s", nc.Call.Body)
	}
	id, err := nc.Resume(ok(`{"success":true,"response":{"session_info":{"user_id":42,"user_role":"staff"}},"messages":[]}`))
	if err != nil || id.Subject != "42" || id.Role != "staff" {
		t.Fatalf("%+v %v", id, err)
	}
	if _, err := call(t, p, req, ok(`{"success":false,"response":{}}`)); provider.ReasonOf(err) != provider.ReasonUnknown {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestCredentialExtraction(t *testing.T) {
	p, _, _ := build(t, rfcDoc)
	cookieP, _, _ := build(t, `{"cluster":"a","authority":"a","source":{"cookie":"sid"}}`)
	cases := []struct {
		name string
		p    *Provider
		hdrs []provider.Header
		want provider.Reason
	}{
		{"none", p, nil, provider.ReasonMissing},
		{"other scheme", p, []provider.Header{{Name: "authorization", Value: "Basic abc"}}, provider.ReasonMissing},
		{"scheme only", p, []provider.Header{{Name: "authorization", Value: "Bearer"}}, provider.ReasonMalformed},
		{"space in token", p, []provider.Header{{Name: "authorization", Value: "Bearer a b"}}, provider.ReasonMalformed},
		{"quote in token", p, []provider.Header{{Name: "authorization", Value: `Bearer a"b`}}, provider.ReasonMalformed},
		{"oversize", p, []provider.Header{{Name: "authorization", Value: "Bearer " + strings.Repeat("a", 5000)}}, provider.ReasonOversize},
		{"two headers", p, []provider.Header{{Name: "authorization", Value: "Bearer a"}, {Name: "authorization", Value: "Bearer b"}}, provider.ReasonAmbiguous},
		{"cookie twice", cookieP, []provider.Header{{Name: "cookie", Value: "sid=a; sid=b"}}, provider.ReasonAmbiguous},
		{"cookie absent", cookieP, []provider.Header{{Name: "cookie", Value: "other=a"}}, provider.ReasonMissing},
		{"cookie empty", cookieP, []provider.Header{{Name: "cookie", Value: "sid="}}, provider.ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.p.Verify(&provider.Request{Now: now, Headers: c.hdrs})
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("got %s (%v)", got, err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"no cluster", `{"authority":"a"}`, "cluster: is required"},
		{"bad template", `{"cluster":"a","authority":"a","request":{"json_template":"{\"t\":1}"}}`, `must contain "{token}"`},
		{"bad policy", `{"cluster":"a","authority":"a","failure_policy":"maybe"}`, "failure_policy"},
		{"unknown field", `{"cluster":"a","authority":"a","ttl":3}`, "ttl: unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, errs := conf.Root([]byte(c.doc), nil)
			p := FromConfig("x", o, provider.Deps{})
			if err := errs.Err(); err == nil || !strings.Contains(err.Error(), c.want) || p != nil {
				t.Fatalf("errors %v, want %q", err, c.want)
			}
		})
	}
}
