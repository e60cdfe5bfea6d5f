package session

import (
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

var vectorDir = filepath.Join("..", "..", "..", "tests", "testdata", "vectors")

// store is a fake auth service implementing the documented contract.
type store struct {
	sessions map[string]answer
	calls    int
	last     map[string]string
}

type answer struct {
	Valid     bool    `json:"valid"`
	Subject   string  `json:"subject,omitempty"`
	Role      string  `json:"role,omitempty"`
	ExpiresAt float64 `json:"expires_at,omitempty"`
	BoundIP   string  `json:"bound_ip,omitempty"`
}

func (s *store) serve(t *testing.T, call provider.Callout) *provider.CalloutResponse {
	t.Helper()
	s.calls++
	var req map[string]string
	if err := json.Unmarshal(call.Body, &req); err != nil {
		t.Fatalf("call-out body is not the documented JSON: %v: %s", err, call.Body)
	}
	s.last = req
	a, ok := s.sessions[req["token"]]
	if !ok {
		a = answer{Valid: false}
	}
	b, _ := json.Marshal(a)
	return &provider.CalloutResponse{Status: 200, Body: b}
}

// run verifies r, answering any call-out from s.
func run(t *testing.T, p provider.Provider, s *store, r *provider.Request) (provider.Identity, error) {
	t.Helper()
	id, err := p.Verify(r)
	if nc, ok := err.(*provider.NeedCallout); ok {
		if nc.Call.TimeoutMillis == 0 || nc.Call.Cluster == "" {
			t.Fatalf("unbounded or unnamed call-out %+v", nc.Call)
		}
		return nc.Resume(s.serve(t, nc.Call))
	}
	return id, err
}

func build(t testing.TB, cfg string) provider.Provider {
	t.Helper()
	o, errs := conf.Root([]byte(cfg), nil)
	p := FromConfig("sessions", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	return p
}

func ns(s float64) int64 { return int64(math.Round(s*1e6)) * 1000 }

// TestBottleshipSessionVectors replays bottleship's session cases: the
// fake service answers from the case's real token table.
func TestBottleshipSessionVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "bottleship.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name   string `json:"name"`
			Config struct {
				Kind       string `json:"kind"`
				TokenStore []struct {
					Token, Username, Expiry string
				} `json:"token_store"`
			} `json:"config"`
			Steps []struct {
				Now     float64 `json:"now"`
				Request struct {
					Query      string            `json:"query"`
					Headers    map[string]string `json:"headers"`
					RemoteAddr string            `json:"remote_addr"`
				} `json:"request"`
				Expected struct {
					Valid    bool                      `json:"valid"`
					Reason   string                    `json:"reason"`
					Identity struct{ Username string } `json:"identity"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, c := range v.Cases {
		if c.Config.Kind != "session" {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			s := &store{sessions: map[string]answer{}}
			for _, row := range c.Config.TokenStore {
				exp, err := strconv.ParseFloat(row.Expiry, 64)
				if err != nil {
					t.Fatal(err)
				}
				s.sessions[row.Token] = answer{Valid: true, Subject: row.Username, ExpiresAt: exp}
			}
			p := build(t, `{"cluster":"auth","sources":[{"cookie":"Token"},{"query":"Token"}]}`)
			for i, st := range c.Steps {
				r := &provider.Request{Method: "GET", Path: "/whoami", Query: st.Request.Query, Now: ns(st.Now)}
				for k, val := range st.Request.Headers {
					r.Headers = append(r.Headers, provider.Header{Name: strings.ToLower(k), Value: val})
				}
				if st.Request.RemoteAddr != "" {
					r.Source = netip.MustParseAddr(st.Request.RemoteAddr)
				}
				id, err := run(t, p, s, r)
				want := map[string][]provider.Reason{
					"ok":                       {provider.ReasonOK},
					"missing_token":            {provider.ReasonMissing},
					"unknown_or_expired_token": {provider.ReasonUnknown, provider.ReasonExpired},
				}[st.Expected.Reason]
				got := provider.ReasonOf(err)
				if (err == nil) != st.Expected.Valid || !contains(want, got) {
					t.Fatalf("step %d: %v, want %s", i, err, st.Expected.Reason)
				}
				if err == nil && id.Subject != st.Expected.Identity.Username {
					t.Fatalf("step %d: subject %q", i, id.Subject)
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no session cases")
	}
}

// TestAuthnzerverSessionVectors replays authnzerver's session-exists cases;
// the fake service holds the sessions the valid steps reveal.
func TestAuthnzerverSessionVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "authnzerver.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name   string `json:"name"`
			Config struct {
				Kind string `json:"kind"`
			} `json:"config"`
			Steps []struct {
				Now      float64 `json:"now"`
				Token    string  `json:"token"`
				Expected struct {
					Valid    bool   `json:"valid"`
					Reason   string `json:"reason"`
					Identity struct {
						UserID   int64  `json:"user_id"`
						UserRole string `json:"user_role"`
					} `json:"identity"`
					Session struct {
						IP      string `json:"ip_address"`
						Expires string `json:"expires"`
					} `json:"session"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, c := range v.Cases {
		if c.Config.Kind != "session" {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			s := &store{sessions: map[string]answer{}}
			for _, st := range c.Steps {
				if st.Expected.Valid {
					exp, err := time.Parse("2006-01-02T15:04:05.999999", st.Expected.Session.Expires)
					if err != nil {
						t.Fatal(err)
					}
					// authnzerver: valid while expires > now, so the last
					// valid instant is just before.
					s.sessions[st.Token] = answer{Valid: true, Subject: strconv.FormatInt(st.Expected.Identity.UserID, 10),
						Role: st.Expected.Identity.UserRole, ExpiresAt: float64(exp.UnixMicro()-1) / 1e6, BoundIP: st.Expected.Session.IP}
				}
			}
			p := build(t, `{"cluster":"authnzerver","sources":[{"header":"X-Session"}],"cache_seconds":0}`)
			for i, st := range c.Steps {
				r := &provider.Request{Now: ns(st.Now), Source: netip.MustParseAddr("203.0.113.7"),
					Headers: []provider.Header{{Name: "x-session", Value: st.Token}}}
				id, err := run(t, p, s, r)
				if (err == nil) != st.Expected.Valid {
					t.Fatalf("step %d: %v, want %s", i, err, st.Expected.Reason)
				}
				if err == nil && (id.Subject != strconv.FormatInt(st.Expected.Identity.UserID, 10) || id.Role != st.Expected.Identity.UserRole) {
					t.Fatalf("step %d: identity %+v", i, id)
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no session cases")
	}
}

func contains(rs []provider.Reason, r provider.Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

const tokA = "e7d0373b-cd5a-4202-af6a-0735d0f06603"

func TestCalloutAndCache(t *testing.T) {
	s := &store{sessions: map[string]answer{
		tokA:  {Valid: true, Subject: "svc", Role: "bot", ExpiresAt: 1000},
		"ipb": {Valid: true, Subject: "bound", ExpiresAt: 1000, BoundIP: "192.0.2.10"},
	}}
	p := build(t, `{"cluster":"auth","authority":"auth.internal","path":"/check","timeout_ms":150,
		"sources":[{"cookie":"Token"},{"header":"x-session"},{"query":"Token"}],"cache_seconds":5,"negative_cache_seconds":2,"cache_size":2}`)
	from := func(ip string, now int64, hdr ...string) *provider.Request {
		r := &provider.Request{Now: now * 1e9, Source: netip.MustParseAddr(ip)}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Headers = append(r.Headers, provider.Header{Name: hdr[i], Value: hdr[i+1]})
		}
		return r
	}
	// First request calls out with the documented request.
	r := from("192.0.2.1", 100, "cookie", "a=b; Token="+tokA, "user-agent", "bot/1")
	_, err := p.Verify(r)
	nc, ok := err.(*provider.NeedCallout)
	if !ok {
		t.Fatalf("want a call-out, got %v", err)
	}
	wantHeaders := []provider.Header{{Name: ":method", Value: "POST"}, {Name: ":path", Value: "/check"}, {Name: ":authority", Value: "auth.internal"}, {Name: "content-type", Value: "application/json"}}
	for i, h := range wantHeaders {
		if nc.Call.Headers[i] != h {
			t.Fatalf("header %d = %v, want %v", i, nc.Call.Headers[i], h)
		}
	}
	if nc.Call.Cluster != "auth" || nc.Call.TimeoutMillis != 150 {
		t.Fatalf("call %+v", nc.Call)
	}
	id, err := nc.Resume(s.serve(t, nc.Call))
	if err != nil || id.Subject != "svc" || id.Role != "bot" || id.ExpiresAt != 1000e9 {
		t.Fatalf("resume: %+v %v", id, err)
	}
	if s.last["token"] != tokA || s.last["client_ip"] != "192.0.2.1" || s.last["user_agent"] != "bot/1" {
		t.Fatalf("request body %v", s.last)
	}
	// Cached: no call-out within cache_seconds.
	if id, err := p.Verify(from("192.0.2.1", 104, "cookie", "Token="+tokA)); err != nil || id.Subject != "svc" {
		t.Fatalf("cached: %v", err)
	}
	// After cache_seconds: asked again.
	if _, err := p.Verify(from("192.0.2.1", 106, "cookie", "Token="+tokA)); func() bool { _, ok := err.(*provider.NeedCallout); return !ok }() {
		t.Fatalf("after cache: %v", err)
	}
	// Negative answers are cached too.
	if _, err := run(t, p, s, from("192.0.2.1", 100, "x-session", "nope")); provider.ReasonOf(err) != provider.ReasonUnknown {
		t.Fatalf("unknown: %v", err)
	}
	calls := s.calls
	if _, err := p.Verify(from("192.0.2.1", 101, "x-session", "nope")); provider.ReasonOf(err) != provider.ReasonUnknown || s.calls != calls {
		t.Fatalf("negative cache: %v", err)
	}
	// IP binding.
	if _, err := run(t, p, s, from("192.0.2.10", 100, "x-session", "ipb")); err != nil {
		t.Fatalf("bound, same address: %v", err)
	}
	if _, err := run(t, p, s, from("198.51.100.1", 100, "x-session", "ipb")); provider.ReasonOf(err) != provider.ReasonBinding {
		t.Fatalf("bound, other address: %v", err)
	}
	if n := len(p.(*Provider).cache); n > 2 {
		t.Fatalf("cache holds %d entries, bound is 2", n)
	}
}

func TestFailuresDeny(t *testing.T) {
	tests := []struct {
		name string
		resp *provider.CalloutResponse
	}{
		{"no answer / timeout", &provider.CalloutResponse{}},
		{"nil", nil},
		{"500", &provider.CalloutResponse{Status: 500, Body: []byte(`{"valid":true}`)}},
		{"not JSON", &provider.CalloutResponse{Status: 200, Body: []byte(`yes`)}},
		{"valid without subject", &provider.CalloutResponse{Status: 200, Body: []byte(`{"valid":true,"expires_at":2000}`)}},
		{"valid without expiry", &provider.CalloutResponse{Status: 200, Body: []byte(`{"valid":true,"subject":"a"}`)}},
		{"string valid", &provider.CalloutResponse{Status: 200, Body: []byte(`{"valid":"true","subject":"a","expires_at":2000}`)}},
		{"bad bound_ip", &provider.CalloutResponse{Status: 200, Body: []byte(`{"valid":true,"subject":"a","expires_at":2000,"bound_ip":"nope"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := build(t, `{"cluster":"auth"}`)
			r := &provider.Request{Now: 100e9, Query: "Token=abc"}
			_, err := p.Verify(r)
			nc := err.(*provider.NeedCallout)
			if _, err := nc.Resume(tt.resp); provider.ReasonOf(err) != provider.ReasonCalloutFailed {
				t.Fatalf("got %v, want callout_failed", err)
			}
			// Failures are not cached: the next request asks again.
			if _, err := p.Verify(r); func() bool { _, ok := err.(*provider.NeedCallout); return !ok }() {
				t.Fatalf("failure was cached: %v", err)
			}
		})
	}
}

func TestTokenSources(t *testing.T) {
	p := build(t, `{"cluster":"auth"}`)
	tests := []struct {
		name   string
		r      *provider.Request
		reason provider.Reason // ReasonOK means "a call-out was requested"
	}{
		{"none", &provider.Request{}, provider.ReasonMissing},
		{"empty cookie falls back to query", &provider.Request{Query: "Token=abc", Headers: []provider.Header{{Name: "cookie", Value: "Token="}}}, provider.ReasonOK},
		{"two cookies", &provider.Request{Headers: []provider.Header{{Name: "cookie", Value: "Token=a"}, {Name: "cookie", Value: "Token=b"}}}, provider.ReasonAmbiguous},
		{"two query params", &provider.Request{Query: "Token=a&Token=b"}, provider.ReasonAmbiguous},
		{"quote in token", &provider.Request{Query: "Token=a%22b"}, provider.ReasonMalformed},
		{"control char", &provider.Request{Query: "Token=a%0Ab"}, provider.ReasonMalformed},
		{"bad escape", &provider.Request{Query: "Token=a%zz"}, provider.ReasonMalformed},
		{"oversize", &provider.Request{Query: "Token=" + strings.Repeat("a", 9000)}, provider.ReasonOversize},
		{"just over max_token_bytes", &provider.Request{Query: "Token=" + strings.Repeat("a", 257)}, provider.ReasonOversize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(tt.r)
			if _, ok := err.(*provider.NeedCallout); ok {
				err = nil
			}
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
		})
	}
	var e provider.Edits
	p.(provider.Stripper).Strip(&provider.Request{Query: "Token=abc"}, &e)
	if len(e.RemoveQueryParams) != 1 || e.RemoveQueryParams[0] != "Token" {
		t.Fatalf("edits %+v", e)
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"valid":true,"subject":"a","expires_at":2000,"bound_ip":"192.0.2.1","role":"x"}`))
	f.Add([]byte(`{"valid":false}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, ok := parseAnswer(&provider.CalloutResponse{Status: 200, Body: body})
		if ok && e.valid && (e.subject == "" || e.expiresAt <= 0) {
			t.Fatalf("accepted an answer without subject or expiry: %q", body)
		}
	})
}

func BenchmarkVerifyCached(b *testing.B) {
	p := build(b, `{"cluster":"auth","cache_seconds":60}`).(*Provider)
	r := &provider.Request{Now: 100e9, Headers: []provider.Header{{Name: "cookie", Value: "Token=" + tokA}}}
	_, err := p.Verify(r)
	nc := err.(*provider.NeedCallout)
	if _, err := nc.Resume(&provider.CalloutResponse{Status: 200, Body: []byte(`{"valid":true,"subject":"svc","expires_at":1000}`)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify feeds arbitrary cookies and query strings. Properties: no
// panic; a refusal is a *provider.Error; a call-out carries valid JSON
// whose token is printable ASCII within the configured bound.
func FuzzVerify(f *testing.F) {
	f.Add("Token="+tokA, "Token="+tokA)
	f.Add(`a=1; Token="x y"`, "Token=%22")
	f.Add("", "Token=a&Token=b")
	// Seeds from the bottleship vectors: every token and query they send.
	if data, err := os.ReadFile(filepath.Join(vectorDir, "bottleship.json")); err == nil {
		var v struct {
			Cases []struct {
				Steps []struct {
					Token   *string `json:"token"`
					Request struct {
						Query   string            `json:"query"`
						Headers map[string]string `json:"headers"`
					} `json:"request"`
				} `json:"steps"`
			} `json:"cases"`
		}
		if json.Unmarshal(data, &v) == nil {
			for _, c := range v.Cases {
				for _, s := range c.Steps {
					f.Add(s.Request.Headers["Cookie"], s.Request.Query)
				}
			}
		}
	}
	p := build(f, `{"cluster":"auth","max_token_bytes":64}`)
	f.Fuzz(func(t *testing.T, cookieHdr, query string) {
		r := &provider.Request{Now: 1e18, Query: query, Headers: []provider.Header{{Name: "cookie", Value: cookieHdr}}}
		_, err := p.Verify(r)
		switch e := err.(type) {
		case *provider.NeedCallout:
			var body map[string]string
			if json.Unmarshal(e.Call.Body, &body) != nil {
				t.Fatalf("call-out body is not JSON: %q", e.Call.Body)
			}
			tok := body["token"]
			if tok == "" || len(tok) > 64 {
				t.Fatalf("token %q sent", tok)
			}
			for i := 0; i < len(tok); i++ {
				if tok[i] <= ' ' || tok[i] >= 0x7f || tok[i] == '"' || tok[i] == '\\' {
					t.Fatalf("token %q sent", tok)
				}
			}
		case *provider.Error:
		default:
			t.Fatalf("result %T", err)
		}
	})
}
