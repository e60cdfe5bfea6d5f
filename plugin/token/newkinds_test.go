package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/httpsig"
	"github.com/tokengate/tokengate/plugin/provider/rollingcode"
)

// The verifiers are used here only as the other, independently written side
// of each format: minting and verifying agree, or this test fails.

func buildProvider(t *testing.T, from func(string, *conf.Object, provider.Deps) provider.Provider, doc string, env map[string]string) provider.Provider {
	t.Helper()
	o, errs := conf.Root([]byte(doc), conf.MapEnv(env))
	if errs != nil && errs.Err() != nil {
		t.Fatal(errs)
	}
	p := from("p", o, provider.Deps{Shared: &provider.MemSharedData{}})
	if err := o.Errs().Err(); err != nil || p == nil {
		t.Fatalf("provider config refused: %v", err)
	}
	return p
}

func TestRollingCodeVerifiesWithProvider(t *testing.T) {
	seed := "0123456789abcdef-billing"
	cases := []struct {
		name     string
		alphabet string
		length   int
		ttl      int
	}{
		{"defaults", "", 0, 0},
		{"digits", "0123456789", 8, 30},
		{"long hex", "0123456789abcdef", 40, 60},
		{"unicode", "αβγδεζηθ", 12, 10},
		{"max length", "", 64, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"mode":"hmac","client_header":"x-client","clients":{"billing":{"seed":` + strconv.Quote(seed) + `}}`
			if c.alphabet != "" {
				doc += `,"alphabet":` + strconv.Quote(c.alphabet)
			}
			if c.length != 0 {
				doc += `,"length":` + strconv.Itoa(c.length)
			}
			if c.ttl != 0 {
				doc += `,"ttl_seconds":` + strconv.Itoa(c.ttl)
			}
			doc += `,"max_past_seconds":0,"max_future_seconds":0}`
			p := buildProvider(t, rollingcode.FromConfig, doc, nil)
			for _, now := range []time.Time{time.Unix(1767225600, 0), time.Unix(1800000017, 5e8), time.Unix(59, 0)} {
				code, err := RollingCode(RollingConfig{Seed: []byte(seed), TTL: c.ttl, Alphabet: c.alphabet, Length: c.length}, now)
				if err != nil {
					t.Fatal(err)
				}
				req := &provider.Request{Method: "GET", Path: "/", RawPath: "/", Now: now.UnixNano(),
					Headers: []provider.Header{{Name: "x-rolling-code", Value: code}, {Name: "x-client", Value: "billing"}}}
				id, err := p.Verify(req)
				if err != nil {
					t.Fatalf("at %v code %q refused: %v", now, code, err)
				}
				if id.Subject != "billing" {
					t.Fatalf("subject %q", id.Subject)
				}
				// The next window's code must not pass now (the test can fail).
				next, _ := RollingCode(RollingConfig{Seed: []byte(seed), TTL: c.ttl, Alphabet: c.alphabet, Length: c.length}, now.Add(time.Duration(max(c.ttl, 30))*time.Second*2))
				req.Headers[0].Value = next
				if _, err := p.Verify(req); err == nil {
					t.Fatalf("code of a later window accepted")
				}
			}
		})
	}
}

func TestRollingCodeRefusesBadParameters(t *testing.T) {
	now := time.Unix(1767225600, 0)
	for name, c := range map[string]RollingConfig{
		"no seed":        {},
		"negative ttl":   {Seed: []byte("x"), TTL: -1},
		"too long":       {Seed: []byte("x"), Length: 65},
		"alphabet of 1":  {Seed: []byte("x"), Alphabet: "a"},
		"invalid utf8":   {Seed: []byte("x"), Alphabet: "ab\xff"},
		"negative count": {Seed: []byte("x"), Length: -3},
	} {
		t.Run(name, func(t *testing.T) {
			if code, err := RollingCode(c, now); err == nil {
				t.Fatalf("accepted, code %q", code)
			}
		})
	}
}

func TestNewAPIKeyMatchesProviderFormat(t *testing.T) {
	k, err := NewAPIKey("ci-bot", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Key, "tg_ci-bot_") || len(k.Key) != len("tg_ci-bot_")+43 {
		t.Fatalf("key shape %q", k.Key)
	}
	if k.Hash != apikey.Hash(k.Key) {
		t.Fatalf("hash %s, provider says %s", k.Hash, apikey.Hash(k.Key))
	}
	// The entry is accepted by the provider and the key verifies against it.
	doc := `{"keys":[` + k.ConfigEntry("ci", []string{"deploy"}, "2099-01-01T00:00:00Z") + `]}`
	p := buildProvider(t, apikey.FromConfig, doc, nil)
	id, err := p.Verify(&provider.Request{Now: time.Unix(1767225600, 0).UnixNano(), Source: netip.MustParseAddr("192.0.2.1"),
		Headers: []provider.Header{{Name: "authorization", Value: "ApiKey " + k.Key}}})
	if err != nil || id.Subject != "ci" {
		t.Fatalf("verify: %v %+v", err, id)
	}
	other, _ := NewAPIKey("ci-bot", nil)
	if _, err := p.Verify(&provider.Request{Now: time.Unix(1767225600, 0).UnixNano(),
		Headers: []provider.Header{{Name: "x-api-key", Value: other.Key}}}); err == nil {
		t.Fatal("another key accepted")
	}
}

func TestNewAPIKeyDeterministicFromRandom(t *testing.T) {
	src := bytes.Repeat([]byte{0, 61, 62, 255, 247}, 40)
	k, err := NewAPIKey("a", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want, err := apikey.Generate("a", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if k.Key != want {
		t.Fatalf("got %q, provider's generator %q", k.Key, want)
	}
}

func TestNewAPIKeyRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		id  string
		src io.Reader
	}{
		"underscore id": {"a_b", nil},
		"empty id":      {"", nil},
		"long id":       {strings.Repeat("a", 65), nil},
		"dead random":   {"ok", bytes.NewReader(bytes.Repeat([]byte{255}, 2000))},
		"short random":  {"ok", bytes.NewReader([]byte{1, 2})},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewAPIKey(c.id, c.src); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestHTTPSignerVerifiesWithProvider(t *testing.T) {
	now := time.Unix(1767225600, 0)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPEM, _ := PublicPEM(edPub)
	ecPEM, _ := PublicPEM(&ecPriv.PublicKey)
	rsaPEM, _ := PublicPEM(&rsaPriv.PublicKey)
	secret := []byte("0123456789abcdef0123456789abcdef!")
	keys := `{"h":{"alg":"hmac-sha256","secret":` + strconv.Quote(string(secret)) + `},` +
		`"e":{"alg":"ed25519","key":` + strconv.Quote(edPEM) + `,"subject":"bot"},` +
		`"c":{"alg":"ecdsa-p256-sha256","key":` + strconv.Quote(ecPEM) + `},` +
		`"r":{"alg":"rsa-pss-sha512","key":` + strconv.Quote(rsaPEM) + `},` +
		`"r15":{"alg":"rsa-v1_5-sha256","key":` + strconv.Quote(rsaPEM) + `}}`
	p := buildProvider(t, httpsig.FromConfig, `{"keys":`+keys+`}`, nil)

	cases := []struct {
		name   string
		signer HTTPSigner
		method string
		url    string
		body   string
		extra  [][2]string
	}{
		{"hmac GET", HTTPSigner{KeyID: "h", Key: secret}, "GET", "http://api.example.test/orders?id=7", "", nil},
		{"ed25519 POST with digest", HTTPSigner{KeyID: "e", Key: edPriv, Nonce: true}, "POST", "http://API.example.test:8080/orders", `{"n":1}`, nil},
		{"ecdsa alg param", HTTPSigner{KeyID: "c", Key: ecPriv, Algorithm: "ecdsa-p256-sha256"}, "DELETE", "http://a.test/x/y", "", nil},
		{"rsa pss expires", HTTPSigner{KeyID: "r", Key: rsaPriv, Expires: time.Minute}, "GET", "http://a.test/", "", nil},
		{"rsa v1.5", HTTPSigner{KeyID: "r15", Key: rsaPriv, Algorithm: "rsa-v1_5-sha256"}, "GET", "http://a.test/", "", nil},
		{"header and query components", HTTPSigner{KeyID: "h", Key: secret,
			Components: []string{"@method", "@path", "@authority", "@query", "@request-target", "x-tenant"}},
			"PUT", "http://a.test/p%20q?a=1&b=2", "", [][2]string{{"X-Tenant", " acme "}, {"X-Tenant", "beta"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			hreq, _ := http.NewRequest(c.method, c.url, body)
			for _, h := range c.extra {
				hreq.Header.Add(h[0], h[1])
			}
			if err := c.signer.Sign(hreq, now); err != nil {
				t.Fatal(err)
			}
			var got []byte
			if hreq.Body != nil {
				got, _ = io.ReadAll(hreq.Body)
			}
			if string(got) != c.body {
				t.Fatalf("body changed to %q", got)
			}
			req := toProviderRequest(hreq, got, now)
			if _, err := p.Verify(req); err != nil {
				t.Fatalf("refused: %v\nSignature-Input: %s", err, hreq.Header.Get("Signature-Input"))
			}
			// Change the method: the signature must no longer verify.
			req = toProviderRequest(hreq, got, now)
			req.Method = "PATCH"
			var perr *provider.Error
			if _, err := p.Verify(req); !errors.As(err, &perr) || perr.Reason != provider.ReasonBadSignature {
				t.Fatalf("tampered request: %v", err)
			}
		})
	}
}

func TestHTTPSignerRefuses(t *testing.T) {
	now := time.Unix(1767225600, 0)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for name, s := range map[string]HTTPSigner{
		"wrong alg for key": {KeyID: "k", Key: ed, Algorithm: "hmac-sha256"},
		"unknown key type":  {KeyID: "k", Key: "secret"},
		"missing header":    {KeyID: "k", Key: ed, Components: []string{"@method", "x-absent"}},
		"unsupported":       {KeyID: "k", Key: ed, Components: []string{"@target-uri"}},
		"keyid control":     {KeyID: "k\n", Key: ed},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://a.test/", nil)
			if err := s.Sign(req, now); err == nil {
				t.Fatal("signed")
			}
		})
	}
}

// toProviderRequest is the request as the plugin would see it: pseudo
// headers, lower-case names, one entry per field line.
func toProviderRequest(r *http.Request, body []byte, now time.Time) *provider.Request {
	pr := &provider.Request{Method: r.Method, Authority: r.Host, RawPath: r.URL.RequestURI(), Path: r.URL.Path,
		Query: r.URL.RawQuery, Now: now.UnixNano(), Body: body}
	if pr.Authority == "" {
		pr.Authority = r.URL.Host
	}
	pr.Headers = append(pr.Headers, provider.Header{Name: ":method", Value: r.Method},
		provider.Header{Name: ":path", Value: pr.RawPath}, provider.Header{Name: ":authority", Value: pr.Authority})
	for name, vals := range r.Header {
		for _, v := range vals {
			pr.Headers = append(pr.Headers, provider.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	return pr
}
