package scopedtoken

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

const testSecret = "test-secret-key-0123456789-abcdef"

const issued = int64(1718100000)

// mint signs a payload like django.core.signing.dumps, independently of
// the verifier (its own key derivation and encoders).
func mint(t testing.TB, payload any, ts int64, compress bool) string {
	t.Helper()
	js, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	seg := base64.RawURLEncoding.EncodeToString(js)
	if compress {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(js)
		w.Close()
		seg = "." + base64.RawURLEncoding.EncodeToString(b.Bytes())
	}
	value := seg + ":" + b62(ts)
	k := sha256.Sum256([]byte(DefaultSalt + "signer" + testSecret))
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(value))
	return value + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func b62(n int64) string {
	if n == 0 {
		return "0"
	}
	var out []byte
	for n > 0 {
		out = append([]byte{b62Alphabet[n%62]}, out...)
		n /= 62
	}
	return string(out)
}

func newProvider(t testing.TB, extra string) provider.Provider {
	t.Helper()
	o, errs := conf.Root([]byte(`{"secret_key":"`+testSecret+`"`+extra+`}`), nil)
	p := FromConfig("scoped", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	return p
}

func get(method, path, token string, now int64) *provider.Request {
	return &provider.Request{Method: method, Path: path, RawPath: path, Now: now * 1e9,
		Headers: []provider.Header{{Name: "authorization", Value: "TmpToken " + token}}}
}

// normalised is a request as the filter builds it: RawPath as received,
// Path as plugin/policy.NormalisePath leaves it (decoded once, ";params"
// cut, dot-segments resolved, "//" merged, no trailing slash).
func normalised(method, raw, path, token string, now int64) *provider.Request {
	r := get(method, path, token, now)
	r.RawPath = raw
	return r
}

func TestHostile(t *testing.T) {
	p := newProvider(t, "")
	payload := map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{
		"GET": {"/api/v1/foo", "/api/v1/reports/", "/caf%C3%A9/"}, "POST": {"/api/v1/upload"}}}
	tok := mint(t, payload, issued, false)
	sig := tok[strings.LastIndexByte(tok, ':')+1:]
	tests := []struct {
		name   string
		r      *provider.Request
		reason provider.Reason
	}{
		{"valid", get("GET", "/api/v1/foo/1", tok, issued+10), provider.ReasonOK},
		{"valid compressed", get("GET", "/api/v1/foo/1", mint(t, payload, issued, true), issued+10), provider.ReasonOK},
		{"lower-case method still GET", get("get", "/api/v1/foo/1", tok, issued+10), provider.ReasonOK},
		{"expired", get("GET", "/api/v1/foo", tok, issued+361), provider.ReasonExpired},
		{"future-dated beyond skew", get("GET", "/api/v1/foo", mint(t, payload, issued+120, false), issued), provider.ReasonNotYetValid},
		{"future-dated within skew", get("GET", "/api/v1/foo", mint(t, payload, issued+30, false), issued), provider.ReasonOK},
		{"wrong key", get("GET", "/api/v1/foo", strings.Replace(tok, sig, "A"+sig[1:], 1), issued), provider.ReasonBadSignature},
		{"truncated signature", get("GET", "/api/v1/foo", tok[:len(tok)-1], issued), provider.ReasonBadSignature},
		{"truncated payload", get("GET", "/api/v1/foo", tok[1:], issued), provider.ReasonBadSignature},
		{"padded signature", get("GET", "/api/v1/foo", tok+"=", issued), provider.ReasonBadSignature},
		{"re-encoded signature (std base64)", get("GET", "/api/v1/foo", strings.NewReplacer("-", "+", "_", "/").Replace(tok), issued), provider.ReasonBadSignature},
		{"oversize", get("GET", "/api/v1/foo", strings.Repeat("a", 9000), issued), provider.ReasonOversize},
		{"no signature at all", get("GET", "/api/v1/foo", "abc", issued), provider.ReasonBadSignature},
		// Scope on the normalised path the policy engine hands over
		// (plugin/policy.NormalisePath): raw path as sent, then what we see.
		{"dot-dot resolved out of prefix", normalised("GET", "/api/v1/foo/../../admin", "/api/admin", tok, issued), provider.ReasonScope},
		{"dot-dot inside the prefix", normalised("GET", "/api/v1/foo/x/../y", "/api/v1/foo/y", tok, issued), provider.ReasonOK},
		{"encoded dot-dot resolved", normalised("GET", "/api/v1/foo/%2e%2e/%2e%2e/admin", "/api/admin", tok, issued), provider.ReasonScope},
		{"encoded dot-dot left as text is no escape", get("GET", "/api/v1/fo%2e%2e/x", tok, issued), provider.ReasonScope},
		{"double slash merged", normalised("GET", "/api//v1/foo", "/api/v1/foo", tok, issued), provider.ReasonOK},
		{"double slash kept does not match", get("GET", "/api//v1/foo", tok, issued), provider.ReasonScope},
		{"case differs", normalised("GET", "/API/v1/foo", "/API/v1/foo", tok, issued), provider.ReasonScope},
		{"missing trailing slash", normalised("GET", "/api/v1/reports", "/api/v1/reports", tok, issued), provider.ReasonScope},
		{"trailing slash present (restored from the raw path)", normalised("GET", "/api/v1/reports/", "/api/v1/reports", tok, issued), provider.ReasonOK},
		{"trailing slash after dot-dot", normalised("GET", "/api/v1/reports/x/../", "/api/v1/reports", tok, issued), provider.ReasonOK},
		{"trailing slash on a query only", normalised("GET", "/api/v1/reports?x=/", "/api/v1/reports", tok, issued), provider.ReasonScope},
		{";params cut by the normaliser", normalised("GET", "/api/v1/foo;x=1", "/api/v1/foo", tok, issued), provider.ReasonOK},
		{";params inside the prefix cut", normalised("GET", "/api/v1;x=1/foo", "/api/v1/foo", tok, issued), provider.ReasonOK},
		{";params left as text (plain prefix)", get("GET", "/api/v1/foo;x=1", tok, issued), provider.ReasonOK},
		{"plain prefix has no segment boundary (original)", normalised("GET", "/api/v1/foobar", "/api/v1/foobar", tok, issued), provider.ReasonOK},
		{"decoded non-ASCII re-encoded like iri_to_uri", normalised("GET", "/caf%c3%a9/menu", "/café/menu", tok, issued), provider.ReasonOK},
		{"lower-case percent-encoding of non-ASCII", get("GET", "/caf%c3%a9/menu", tok, issued), provider.ReasonOK},
		{"encoded slash decoded like Django", get("GET", "/api%2Fv1%2Ffoo", tok, issued), provider.ReasonOK},
		{"double-encoded is not decoded twice", get("GET", "/api%252Fv1%252Ffoo", tok, issued), provider.ReasonScope},
		{"HEAD not implied by GET", get("HEAD", "/api/v1/foo", tok, issued), provider.ReasonScope},
		{"POST prefix", get("POST", "/api/v1/upload/x", tok, issued), provider.ReasonOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(tt.r)
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
			if err != nil && strings.Contains(err.Error(), sig) {
				t.Fatal("error leaks the signature")
			}
		})
	}
}

func TestBadPayloads(t *testing.T) {
	p := newProvider(t, `,"users":[7]`)
	tests := []struct {
		name    string
		payload any
		reason  provider.Reason
	}{
		{"string max_age", map[string]any{"user": 7, "max_age": "360", "endpoints": map[string]any{}}, provider.ReasonClaims},
		{"unknown method", map[string]any{"user": 7, "max_age": 360, "endpoints": map[string]any{"TRACE": []string{"/"}}}, provider.ReasonClaims},
		{"relative prefix", map[string]any{"user": 7, "max_age": 360, "endpoints": map[string]any{"GET": []string{"api"}}}, provider.ReasonClaims},
		{"prefix not a string", map[string]any{"user": 7, "max_age": 360, "endpoints": map[string]any{"GET": []any{1}}}, provider.ReasonClaims},
		{"no endpoints", map[string]any{"user": 7, "max_age": 360}, provider.ReasonClaims},
		{"unknown user", map[string]any{"user": 9, "max_age": 360, "endpoints": map[string]any{}}, provider.ReasonUnknown},
		{"not an object", []int{1, 2}, provider.ReasonClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(get("GET", "/x", mint(t, tt.payload, issued, false), issued))
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
		})
	}
}

func TestQueryCarrierAndStrip(t *testing.T) {
	p := newProvider(t, `,"query_param":"tok"`)
	tok := mint(t, map[string]any{"user": 3, "max_age": 60, "endpoints": map[string][]string{"GET": {"/"}}, "recipient": "ops@example.org"}, issued, false)
	r := &provider.Request{Method: "GET", Path: "/a", Query: "x=1&tok=" + strings.ReplaceAll(tok, ":", "%3A"), Now: issued * 1e9}
	id, err := p.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "3" || len(id.Headers) != 1 || id.Headers[0] != (provider.Header{Name: "x-api-token-recipient", Value: "ops@example.org"}) {
		t.Fatalf("identity %+v", id)
	}
	var e provider.Edits
	p.(provider.Stripper).Strip(r, &e)
	if len(e.RemoveQueryParams) != 1 || e.RemoveQueryParams[0] != "tok" || len(e.RemoveHeaders) != 0 {
		t.Fatalf("edits %+v", e)
	}
	r.Query = "tok=a&tok=b"
	if _, err := p.Verify(r); provider.ReasonOf(err) != provider.ReasonAmbiguous {
		t.Fatalf("repeated query param: %v", err)
	}
	// Header and query parameter together: refused, whichever is valid,
	// so an upstream that reads the other carrier cannot be confused.
	both := get("GET", "/a", tok, issued)
	both.Query = "tok=" + strings.ReplaceAll(tok, ":", "%3A")
	if _, err := p.Verify(both); provider.ReasonOf(err) != provider.ReasonAmbiguous {
		t.Fatalf("header and query parameter: %v", err)
	}
	both.Query = "other=1"
	if _, err := p.Verify(both); err != nil {
		t.Fatalf("header with an unrelated query parameter: %v", err)
	}
	h := get("GET", "/a", tok, issued)
	e = provider.Edits{}
	p.(provider.Stripper).Strip(h, &e)
	if len(e.RemoveHeaders) != 1 || e.RemoveHeaders[0] != "authorization" {
		t.Fatalf("edits %+v", e)
	}
	if p.Challenge() != `TmpToken realm="tokengate"` {
		t.Fatalf("challenge %q", p.Challenge())
	}
}

// TestAgainstDjango mints tokens with the real django.core.signing (Debian
// python3-django under /usr/bin/python3) — the call drf-tmp-scoped-token's
// TokenManager makes — and verifies them here.
func TestAgainstDjango(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import django.core.signing").Run(); err != nil {
		t.Skip("/usr/bin/python3 with python3-django is not available: skipping the live Django cross-check")
	}
	script := `
import sys, json
from django.conf import settings
settings.configure(SECRET_KEY=sys.argv[1])
from django.core import signing
from unittest import mock
payload = {"user": 42, "max_age": 120, "endpoints": {"GET": ["/api/v1/caf%C3%A9/"] + ["/p/%04d/" % i for i in range(40)], "DELETE": ["/api/v1/x"]}, "recipient": "partner \u00e9"}
with mock.patch("time.time", return_value=float(sys.argv[2])):
    print(signing.dumps(payload))
    print(signing.dumps(payload, compress=True))
    print(signing.TimestampSigner(salt="django.core.signing", algorithm="sha1").sign_object(payload))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, testSecret, strconv.FormatInt(issued, 10)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	toks := strings.Fields(string(out))
	if len(toks) != 3 || !strings.HasPrefix(toks[1], ".") {
		t.Fatalf("unexpected python output %q", out)
	}
	legacy := newProvider(t, `,"accept_legacy_sha1":true`)
	modern := newProvider(t, "")
	for i, tok := range toks {
		for _, p := range []provider.Provider{legacy, modern} {
			id, err := p.Verify(get("GET", "/api/v1/caf%c3%a9/menu", tok, issued+120))
			if i == 2 && p == modern {
				if provider.ReasonOf(err) != provider.ReasonBadSignature {
					t.Errorf("sha1 token on a Django>=4 verifier: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("token %d: %v", i, err)
			}
			if id.Subject != "42" || id.Headers[0].Value != "partner é" {
				t.Errorf("token %d: identity %+v", i, id)
			}
			if _, err := p.Verify(get("GET", "/api/v1/x", tok, issued)); provider.ReasonOf(err) != provider.ReasonScope {
				t.Errorf("token %d: GET on a DELETE prefix: %v", i, err)
			}
			if _, err := p.Verify(get("GET", "/p/0001/x", tok, issued+121)); provider.ReasonOf(err) != provider.ReasonExpired {
				t.Errorf("token %d: after max_age: %v", i, err)
			}
		}
	}
}

func FuzzVerify(f *testing.F) {
	for _, c := range loadVectors(f).Cases {
		for _, s := range c.Steps {
			if s.Token != nil {
				f.Add(*s.Token, s.Request.Method, s.Request.Path)
			}
		}
	}
	v := NewVerifier(Config{SecretKey: []byte("public-set: fn)t*+$)ugeyip6-#txyy$5wf2ervc0d2n#h)qb"), LegacySHA1: true, MaxFutureSkewNs: -1})
	f.Fuzz(func(t *testing.T, token, method, path string) {
		c, err := v.Verify([]byte(token), method, path, 1718100782e9)
		if err != nil {
			if _, ok := err.(*provider.Error); !ok {
				t.Fatalf("refusal is %T", err)
			}
			if c.User != 0 || c.MaxAge != 0 || c.Recipient != nil {
				t.Fatal("claims returned with an error")
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	p := newProvider(b, `,"users":[7]`)
	tok := mint(b, map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{"GET": {"/api/v1/foo"}, "POST": {"/api/v1/foo/upload"}}}, issued, false)
	r := get("GET", "/api/v1/foo/items/1", tok, issued+5)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyAllocations(t *testing.T) {
	p := newProvider(t, `,"users":[7]`)
	tok := mint(t, map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{"GET": {"/api/v1/foo"}}}, issued, false)
	r := get("GET", "/api/v1/foo/items/1", tok, issued+5)
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
		o, errs := conf.Root([]byte(`{"secret_key":"`+testSecret+`","single_use":true}`), nil)
		p := FromConfig("scoped", o, provider.Deps{Shared: store, Replay: replay.New(store, replay.Config{Namespace: "st"})})
		if errs.Err() != nil {
			t.Fatal(errs.Err())
		}
		return p
	}
	vm1, vm2 := mk(), mk()
	payload := map[string]any{"user": 7, "max_age": 60, "endpoints": map[string][]string{"GET": {"/"}}}
	tok := mint(t, payload, issued, false)
	if _, err := vm1.Verify(get("GET", "/a", tok, issued)); err != nil {
		t.Fatal(err)
	}
	if _, err := vm2.Verify(get("GET", "/a", tok, issued+1)); provider.ReasonOf(err) != provider.ReasonReplayed {
		t.Fatalf("replay on another VM: %v", err)
	}
	if _, err := vm2.Verify(get("GET", "/a", mint(t, payload, issued+1, false), issued+1)); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	o, errs := conf.Root([]byte(`{"secret_key":"`+testSecret+`","single_use":true}`), nil)
	if FromConfig("x", o, provider.Deps{}) != nil || !strings.Contains(errs.Error(), "single_use: needs the shared replay store") {
		t.Fatalf("single_use without a store: %v", errs.Err())
	}
}
