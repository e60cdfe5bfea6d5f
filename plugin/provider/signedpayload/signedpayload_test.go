package signedpayload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// vectorFile is the public bottleship set, copied unchanged from
// shared/vectors; its "session" cases run in plugin/provider/session.
var vectorFile = filepath.Join("..", "..", "..", "tests", "testdata", "vectors", "bottleship.json")

type vecCase struct {
	Name   string `json:"name"`
	Config struct {
		Kind string `json:"kind"`
		Key  string `json:"key"`
	} `json:"config"`
	Steps []struct {
		Token    string `json:"token"`
		Expected struct {
			Valid   bool   `json:"valid"`
			Reason  string `json:"reason"`
			Decoded string `json:"decoded"`
		} `json:"expected"`
	} `json:"steps"`
}

func loadVectors(t testing.TB) []vecCase {
	t.Helper()
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v struct {
		Cases []vecCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &v); err != nil || len(v.Cases) == 0 {
		t.Fatalf("parse vectors: %v", err)
	}
	return v.Cases
}

var reasons = map[string]provider.Reason{
	"ok":            provider.ReasonOK,
	"bad_signature": provider.ReasonBadSignature,
	"not_encoded":   provider.ReasonMalformed,
}

func TestVectors(t *testing.T) {
	for _, c := range loadVectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			if c.Config.Kind != "signed_data" {
				t.Skip("session cases: plugin/provider/session TestBottleshipSessionVectors")
			}
			v := NewVerifier([][]byte{[]byte(c.Config.Key)}, 8192)
			for i, s := range c.Steps {
				_, data, err := v.Verify(0, []byte(s.Token))
				if got := provider.ReasonOf(err); got != reasons[s.Expected.Reason] || (err == nil) != s.Expected.Valid {
					t.Fatalf("step %d: %v, want %s", i, err, s.Expected.Reason)
				}
				if s.Expected.Valid && string(data) != s.Expected.Decoded {
					t.Fatalf("step %d: decoded %q, want %q", i, data, s.Expected.Decoded)
				}
			}
		})
	}
}

func build(t testing.TB, cfg string) provider.Provider {
	t.Helper()
	o, errs := conf.Root([]byte(cfg), conf.MapEnv{"K2": "second-client-key-0123"})
	p := FromConfig("signed", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	return p
}

func TestProvider(t *testing.T) {
	key1 := []byte("first-client-key-0123")
	good := string(Sign([]byte(`{"job": 42}`), key1))
	hdr := func(v ...string) *provider.Request {
		r := &provider.Request{}
		for i := 0; i+1 < len(v); i += 2 {
			r.Headers = append(r.Headers, provider.Header{Name: v[i], Value: v[i+1]})
		}
		return r
	}
	anyKey := build(t, `{"clients":{"one":{"key":"first-client-key-0123"},"two":{"key":{"env":"K2"}}}}`)
	named := build(t, `{"client_header":"x-client","clients":{"one":{"key":"first-client-key-0123"},"two":{"key":{"env":"K2"}}}}`)
	body := build(t, `{"source":"body","max_bytes":64,"clients":{"one":{"key":"first-client-key-0123"}}}`)
	sig := good[1:strings.IndexByte(good, '?')]
	tests := []struct {
		name    string
		p       provider.Provider
		r       *provider.Request
		subject string
		reason  provider.Reason
	}{
		{"any key", anyKey, hdr("x-signed-payload", good), "one", provider.ReasonOK},
		{"second key", anyKey, hdr("x-signed-payload", string(Sign([]byte("x"), []byte("second-client-key-0123")))), "two", provider.ReasonOK},
		{"named client", named, hdr("x-signed-payload", good, "x-client", "one"), "one", provider.ReasonOK},
		{"named other client (wrong key)", named, hdr("x-signed-payload", good, "x-client", "two"), "", provider.ReasonBadSignature},
		{"unknown client", named, hdr("x-signed-payload", good, "x-client", "three"), "", provider.ReasonUnknown},
		{"missing", anyKey, hdr(), "", provider.ReasonMissing},
		{"repeated", anyKey, hdr("x-signed-payload", good, "x-signed-payload", good), "", provider.ReasonAmbiguous},
		{"truncated signature", anyKey, hdr("x-signed-payload", strings.Replace(good, sig, sig[:40], 1)), "", provider.ReasonBadSignature},
		{"signature without padding", anyKey, hdr("x-signed-payload", strings.Replace(good, sig, strings.TrimRight(sig, "="), 1)), "", provider.ReasonBadSignature},
		{"re-encoded signature (url-safe)", anyKey, hdr("x-signed-payload", strings.Replace(good, sig, strings.NewReplacer("+", "-", "/", "_").Replace(sig), 1)), "", provider.ReasonBadSignature},
		{"data padded further", anyKey, hdr("x-signed-payload", good+"=="), "", provider.ReasonBadSignature},
		{"oversize", anyKey, hdr("x-signed-payload", "!"+strings.Repeat("A", 9000)), "", provider.ReasonOversize},
		{"body", body, &provider.Request{Body: Sign([]byte("hi"), key1)}, "one", provider.ReasonOK},
		{"empty body", body, &provider.Request{}, "", provider.ReasonMissing},
		{"oversize body", body, &provider.Request{Body: Sign([]byte(strings.Repeat("x", 100)), key1)}, "", provider.ReasonOversize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.p.Verify(tt.r)
			if got := provider.ReasonOf(err); got != tt.reason || id.Subject != tt.subject {
				t.Fatalf("got %q %v (%v), want %q %v", id.Subject, got, err, tt.subject, tt.reason)
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
	key := []byte("5f04ee43-83bb-46c0-96aa-65a2c5-public")
	v := NewVerifier([][]byte{key}, 8192)
	f.Fuzz(func(t *testing.T, tok string) {
		_, data, err := v.Verify(-1, []byte(tok))
		if err != nil {
			if _, ok := err.(*provider.Error); !ok || data != nil {
				t.Fatalf("refusal %T with data %q", err, data)
			}
			return
		}
		// Non-malleable: an accepted value is exactly what Sign makes.
		if string(Sign(data, key)) != tok {
			t.Fatalf("accepted %q, which Sign does not produce", tok)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	p := build(b, `{"client_header":"x-client","clients":{"one":{"key":"first-client-key-0123"}}}`)
	r := &provider.Request{Headers: []provider.Header{
		{Name: "x-signed-payload", Value: string(Sign([]byte(`{"job": 42}`), []byte("first-client-key-0123")))},
		{Name: "x-client", Value: "one"}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyAllocations(t *testing.T) {
	p := build(t, `{"clients":{"one":{"key":"first-client-key-0123"}}}`)
	r := &provider.Request{Headers: []provider.Header{{Name: "x-signed-payload", Value: string(Sign([]byte("data"), []byte("first-client-key-0123")))}}}
	if a := testing.AllocsPerRun(100, func() {
		if _, err := p.Verify(r); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocations per verification", a)
	}
}
