package authnz

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

const testKey = "PMU2mDMVtwrV_LHYSMeg1HF262jMvQdDVwcfiXPi6BA="

// issuedAt is 2024-06-13T17:33:37.5Z.
const issuedAt = int64(1718300017500000000)

func keyJSON(mod func(m map[string]any)) []byte {
	m := map[string]any{
		"iss": "authnzerver", "ver": 1, "uid": 4, "rol": "staff", "aud": "api.example.org",
		"sub": "all", "ipa": "203.0.113.7", "tkn": "xcsmjrvSHRkRaejspaKrjTL_ZNL8i3Jv048MuEyajf8",
		"iat": "2024-06-13T17:33:37.500000", "nbf": "2024-06-13T17:33:37.500000", "exp": "2024-06-13T17:48:37",
	}
	if mod != nil {
		mod(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func seal(t testing.TB, plain []byte, atNs int64) string {
	t.Helper()
	k, _ := ParseFernetKey(testKey)
	f, _ := NewFernet(k, 1<<16)
	tok, err := f.Encrypt(plain, atNs)
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func newProvider(t testing.TB, extra string) *Provider {
	t.Helper()
	o, errs := conf.Root([]byte(`{"fernet_key":"`+testKey+`","issuer":"authnzerver","api_version":1,"ttl_seconds":900`+extra+`}`), nil)
	p := FromConfig("authnz", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	return p.(*Provider)
}

func request(tok string, now int64) *provider.Request {
	return &provider.Request{Method: "GET", Path: "/api/v1/data", Authority: "api.example.org", Now: now,
		Source:  netip.MustParseAddr("203.0.113.7"),
		Headers: []provider.Header{{Name: "authorization", Value: "Bearer " + tok}, {Name: "user-agent", Value: "bot/1"}}}
}

func TestHostile(t *testing.T) {
	p := newProvider(t, "")
	good := seal(t, keyJSON(nil), issuedAt)
	later := issuedAt + 30e9
	raw, _ := base64.URLEncoding.DecodeString(good)
	tests := []struct {
		name   string
		r      *provider.Request
		reason provider.Reason
	}{
		{"valid", request(good, later), provider.ReasonOK},
		{"expired exp", request(seal(t, keyJSON(nil), issuedAt), issuedAt+901e9), provider.ReasonExpired},
		{"fernet ttl", request(seal(t, keyJSON(func(m map[string]any) { m["exp"] = "2030-01-01T00:00:00" }), issuedAt), issuedAt+902e9), provider.ReasonExpired},
		{"stamped in the future beyond 60 s", request(seal(t, keyJSON(nil), issuedAt+120e9), later), provider.ReasonNotYetValid},
		{"nbf in the future", request(seal(t, keyJSON(func(m map[string]any) { m["nbf"] = "2024-06-13T17:40:00" }), issuedAt), later), provider.ReasonNotYetValid},
		{"truncated", request(good[:len(good)-4], later), provider.ReasonBadSignature},
		{"padding removed", request(strings.TrimRight(good, "="), later), provider.ReasonMalformed},
		{"extra padding", request(good+"==", later), provider.ReasonMalformed},
		{"re-encoded as std base64", request(base64.StdEncoding.EncodeToString(raw), later), provider.ReasonMalformed},
		{"oversize", request(strings.Repeat("A", 9000), later), provider.ReasonOversize},
		{"duplicate claim", request(seal(t, []byte(strings.Replace(string(keyJSON(nil)), `"uid":4`, `"uid":4,"uid":5`, 1)), issuedAt), later), provider.ReasonClaims},
		{"string version", request(seal(t, keyJSON(func(m map[string]any) { m["ver"] = "1" }), issuedAt), later), provider.ReasonClaims},
		{"bad date", request(seal(t, keyJSON(func(m map[string]any) { m["exp"] = "2024-02-30T00:00:00" }), issuedAt), later), provider.ReasonClaims},
		{"missing tkn", request(seal(t, keyJSON(func(m map[string]any) { delete(m, "tkn") }), issuedAt), later), provider.ReasonClaims},
		{"not JSON", request(seal(t, []byte("hello"), issuedAt), later), provider.ReasonClaims},
		{"ipv6 source", func() *provider.Request {
			r := request(good, later)
			r.Source = netip.MustParseAddr("2001:db8::1")
			return r
		}(), provider.ReasonBinding},
		{"unknown source", func() *provider.Request { r := request(good, later); r.Source = netip.Addr{}; return r }(), provider.ReasonBinding},
		{"escaped user agent unescaped", func() *provider.Request {
			r := request(seal(t, []byte(strings.Replace(string(keyJSON(nil)), `"iss"`, `"usa":"bot \"\u00e9\"/1","iss"`, 1)), issuedAt), later)
			r.Headers[1].Value = "bot \"é\"/1"
			return r
		}(), provider.ReasonOK},
		{"subject path", request(seal(t, keyJSON(func(m map[string]any) { m["sub"] = "/api/v1/other" }), issuedAt), later), provider.ReasonScope},
		{"other scheme", &provider.Request{Now: later, Headers: []provider.Header{{Name: "authorization", Value: "Basic eDp5"}}}, provider.ReasonMissing},
		{"scheme without key", &provider.Request{Now: later, Headers: []provider.Header{{Name: "authorization", Value: "Bearer"}}}, provider.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(tt.r)
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
			if err != nil && strings.Contains(err.Error(), good[:20]) {
				t.Fatal("error leaks the key")
			}
		})
	}
}

// fakeAuthnzerver answers a revocation call-out like authnzerver would,
// decrypting the request envelope and encrypting its reply.
func fakeAuthnzerver(t *testing.T, call provider.Callout, live bool, reqidOverride string) *provider.CalloutResponse {
	t.Helper()
	k, _ := ParseFernetKey(testKey)
	f, _ := NewFernet(k, 1<<16)
	raw, err := base64.StdEncoding.DecodeString(string(call.Body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := f.Decrypt(raw, issuedAt, 0)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Request string `json:"request"`
		Body    struct {
			APIKey map[string]any `json:"apikey_dict"`
			UserID int            `json:"user_id"`
			Role   string         `json:"user_role"`
		} `json:"body"`
		Reqid string `json:"reqid"`
	}
	if err := json.Unmarshal(plain, &msg); err != nil {
		t.Fatalf("request is not JSON: %v: %s", err, plain)
	}
	if msg.Request != "apikey-verify-nosession" || msg.Body.APIKey["tkn"] == nil || msg.Body.UserID != 4 || msg.Body.Role != "staff" {
		t.Fatalf("request %+v", msg)
	}
	if reqidOverride != "" {
		msg.Reqid = reqidOverride
	}
	reply, _ := json.Marshal(map[string]any{"success": live, "response": map[string]any{"success": live}, "messages": []string{}, "reqid": msg.Reqid})
	tok, _ := f.Encrypt(reply, issuedAt)
	return &provider.CalloutResponse{Status: 200, Body: []byte(base64.StdEncoding.EncodeToString(tok))}
}

func TestRevocation(t *testing.T) {
	good := seal(t, keyJSON(nil), issuedAt)
	later := issuedAt + 30e9
	tests := []struct {
		name   string
		resp   func(call provider.Callout) *provider.CalloutResponse
		reason provider.Reason
	}{
		{"live", func(c provider.Callout) *provider.CalloutResponse { return fakeAuthnzerver(t, c, true, "") }, provider.ReasonOK},
		{"revoked", func(c provider.Callout) *provider.CalloutResponse { return fakeAuthnzerver(t, c, false, "") }, provider.ReasonRevoked},
		{"wrong reqid", func(c provider.Callout) *provider.CalloutResponse { return fakeAuthnzerver(t, c, true, "other") }, provider.ReasonCalloutFailed},
		{"no answer", func(provider.Callout) *provider.CalloutResponse { return &provider.CalloutResponse{} }, provider.ReasonCalloutFailed},
		{"500", func(provider.Callout) *provider.CalloutResponse { return &provider.CalloutResponse{Status: 500} }, provider.ReasonCalloutFailed},
		{"garbage body", func(provider.Callout) *provider.CalloutResponse {
			return &provider.CalloutResponse{Status: 200, Body: []byte("bm90IGZlcm5ldA==")}
		}, provider.ReasonCalloutFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, `,"revocation":{"cluster":"authnzerver","timeout_ms":250,"cache_seconds":10}`)
			_, err := p.Verify(request(good, later))
			nc, ok := err.(*provider.NeedCallout)
			if !ok {
				t.Fatalf("want a call-out, got %v", err)
			}
			if nc.Call.Cluster != "authnzerver" || nc.Call.TimeoutMillis != 250 {
				t.Fatalf("call %+v", nc.Call)
			}
			id, err := nc.Resume(tt.resp(nc.Call))
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
			if err == nil && (id.Subject != "4" || id.Role != "staff") {
				t.Fatalf("identity %+v", id)
			}
			// Usable answers are cached; failures are asked again.
			_, err2 := p.Verify(request(good, later+1e9))
			_, asked := err2.(*provider.NeedCallout)
			if cached := tt.reason == provider.ReasonOK || tt.reason == provider.ReasonRevoked; cached == asked || (cached && provider.ReasonOf(err2) != tt.reason) {
				t.Fatalf("second request: %v", err2)
			}
			// After cache_seconds the server is asked again.
			if _, err3 := p.Verify(request(good, later+11e9)); func() bool { _, ok := err3.(*provider.NeedCallout); return !ok }() {
				t.Fatalf("after the cache: %v", err3)
			}
		})
	}
}

// TestAgainstCryptography wraps keys with python3-cryptography's own Fernet
// (/usr/bin/python3) and checks them here.
func TestAgainstCryptography(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import cryptography.fernet").Run(); err != nil {
		t.Skip("/usr/bin/python3 with python3-cryptography is not available: skipping the live Fernet cross-check")
	}
	script := `
import sys, json, base64
from cryptography.fernet import Fernet
f = Fernet(sys.argv[1].encode())
key = {"iss": "authnzerver", "ver": 1, "uid": 4, "rol": "staff", "aud": "api.example.org", "sub": ["/api/v1/data"],
       "ipa": "203.0.113.7", "tkn": "abc", "iat": "2024-06-13T17:33:37.500000", "nbf": "2024-06-13T17:33:37.500000",
       "exp": "2024-06-13T17:48:37.500000"}
t = f.encrypt_at_time(json.dumps(key).encode(), int(sys.argv[2]))
print(t.decode())
print(base64.b64encode(t).decode())
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, testKey, strconv.FormatInt(issuedAt/1e9, 10)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	toks := strings.Fields(string(out))
	if len(toks) != 2 {
		t.Fatalf("python output %q", out)
	}
	for i, extra := range []string{"", `,"envelope":"b64-fernet"`} {
		p := newProvider(t, extra)
		id, err := p.Verify(request(toks[i], issuedAt+60e9))
		if err != nil || id.Subject != "4" || id.Role != "staff" {
			t.Fatalf("envelope %d: %+v %v", i, id, err)
		}
		if _, err := p.Verify(request(toks[i], issuedAt+901e9)); provider.ReasonOf(err) != provider.ReasonExpired {
			t.Fatalf("envelope %d after ttl: %v", i, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, cfg, want string }{
		{"no key", `{"issuer":"a","api_version":1}`, "fernet_key: is required"},
		{"short key", `{"fernet_key":"` + strings.Repeat("A", 44) + `x","issuer":"a","api_version":1}`, "fernet_key: fernet key must be 32 bytes"},
		{"no issuer", `{"fernet_key":"` + testKey + `","api_version":1}`, "issuer: is required"},
		{"bool version", `{"fernet_key":"` + testKey + `","issuer":"a","api_version":true}`, "api_version: must be a number or a string"},
		{"bad envelope", `{"fernet_key":"` + testKey + `","issuer":"a","api_version":1,"envelope":"jwe"}`, "envelope:"},
		{"revocation without cluster", `{"fernet_key":"` + testKey + `","issuer":"a","api_version":1,"revocation":{}}`, "revocation.cluster: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, errs := conf.Root([]byte(tt.cfg), nil)
			if FromConfig("a", o, provider.Deps{}) != nil {
				t.Fatal("built despite errors")
			}
			if !strings.Contains(errs.Error(), tt.want) || strings.Contains(errs.Error(), testKey) {
				t.Fatalf("errors %q, want %q (and no key)", errs.Error(), tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	for _, c := range loadVectors(f) {
		for _, s := range c.Steps {
			f.Add(s.Token)
		}
	}
	o, _ := conf.Root([]byte(`{"fernet_key":"`+testKey+`","issuer":"authnzerver-edge-public","api_version":1,"ttl_seconds":900}`), nil)
	p := FromConfig("authnz", o, provider.Deps{})
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := p.Verify(request(tok, 1718300047500000000))
		if err != nil {
			if _, ok := err.(*provider.Error); !ok {
				t.Fatalf("refusal is %T", err)
			}
			if id.Subject != "" || id.Role != "" {
				t.Fatal("identity with an error")
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	p := newProvider(b, "")
	r := request(seal(b, keyJSON(nil), issuedAt), issuedAt+30e9)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyAllocations(t *testing.T) {
	p := newProvider(t, "")
	r := request(seal(t, keyJSON(nil), issuedAt), issuedAt+30e9)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Verify(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per verification, want 0", allocs)
	}
}

func TestSingleUseAcrossVMs(t *testing.T) {
	store := &provider.MemSharedData{}
	mk := func() provider.Provider {
		o, errs := conf.Root([]byte(`{"fernet_key":"`+testKey+`","issuer":"authnzerver","api_version":1,"single_use":true}`), nil)
		p := FromConfig("authnz", o, provider.Deps{Shared: store, Replay: replay.New(store, replay.Config{Namespace: "az"})})
		if errs.Err() != nil {
			t.Fatal(errs.Err())
		}
		return p
	}
	vm1, vm2 := mk(), mk()
	tok := seal(t, keyJSON(nil), issuedAt)
	if _, err := vm1.Verify(request(tok, issuedAt+1e9)); err != nil {
		t.Fatal(err)
	}
	if _, err := vm2.Verify(request(tok, issuedAt+2e9)); provider.ReasonOf(err) != provider.ReasonReplayed {
		t.Fatalf("replay on another VM: %v", err)
	}
	other := seal(t, keyJSON(func(m map[string]any) { m["tkn"] = "another-token" }), issuedAt)
	if _, err := vm2.Verify(request(other, issuedAt+2e9)); err != nil {
		t.Fatalf("another key: %v", err)
	}
}

func TestUserAgentBinding(t *testing.T) {
	p := newProvider(t, `,"check_user_agent":true`)
	withUA := seal(t, []byte(strings.Replace(string(keyJSON(nil)), `"iss"`, `"usa":"bot \"\u00e9\"/1","iss"`, 1)), issuedAt)
	tests := []struct {
		name, tok, ua string
		reason        provider.Reason
	}{
		{"same (escaped in JSON)", withUA, "bot \"é\"/1", provider.ReasonOK},
		{"other", withUA, "curl/8.0", provider.ReasonBinding},
		{"key without usa", seal(t, keyJSON(nil), issuedAt), "bot/1", provider.ReasonBinding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.tok, issuedAt+30e9)
			r.Headers[1].Value = tt.ua
			if _, err := p.Verify(r); provider.ReasonOf(err) != tt.reason {
				t.Fatalf("%v, want %v", err, tt.reason)
			}
		})
	}
}
