package jwt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

func TestConfigErrors(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	cases := []struct {
		name, doc, want string
		env             conf.MapEnv
	}{
		{"no keys", `{"profile":"standard"}`, "needs keys, jwks or remote_jwks", nil},
		{"hmac algorithm", `{"jwks":` + jwks + `,"algorithms":["HS256"]}`, `algorithms[0]: "HS256" is not an asymmetric JWS algorithm`, nil},
		{"none algorithm", `{"jwks":` + jwks + `,"algorithms":["none"]}`, `algorithms[0]: "none"`, nil},
		{"key loses all algorithms", `{"jwks":` + jwks + `,"algorithms":["EdDSA"],"keys":[` + strings.ReplaceAll(strings.ReplaceAll(jsonString(f.rsaPEM), "\n", `\n`), "\t", "") + `]}`, "keys[0]: RSA key has no algorithm left", nil},
		{"private key", `{"keys":["-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFTcTDzodQaOOKB+OIkc0x6Xa4PTavgkfq7uOABfUcRU\n-----END PRIVATE KEY-----\n"]}`, "keys[0]: private key material", nil},
		{"env key missing", `{"keys":[{"env":"JWT_KEY"}]}`, `keys[0]: environment variable "JWT_KEY" is not set`, nil},
		{"cache with single use", `{"profile":"asymmetric_jwt_auth","clients":{},"cache_capacity":10}`, "cache_capacity: must be 0 with single_use", nil},
		{"clients without client claim", `{"jwks":` + jwks + `,"clients":{}}`, "clients: needs client_claim", nil},
		{"unknown field", `{"jwks":` + jwks + `,"audience":"x"}`, "audience: unknown field", nil},
		{"bad header mapping", `{"jwks":` + jwks + `,"claims_to_headers":{"sub":"Authorization"}}`, "claims_to_headers.sub: must be a lower-case header name", nil},
		{"single use without lifetime", `{"jwks":` + jwks + `,"single_use":true,"require_exp":false}`, "single_use: needs time_claim or require_exp", nil},
		{"remote without path or issuer", `{"remote_jwks":{"cluster":"idp","authority":"a"}}`, `remote_jwks: needs "path"`, nil},
		{"ok from env", `{"keys":[{"env":"JWT_KEY"}]}`, "", conf.MapEnv{"JWT_KEY": f.rsaPEM}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, errs := conf.Root([]byte(c.doc), c.env)
			p := FromConfig("j", o, newDeps())
			got := ""
			if err := errs.Err(); err != nil {
				got = err.Error()
			}
			if c.want == "" {
				if got != "" || p == nil {
					t.Fatalf("unexpected errors: %s", got)
				}
				return
			}
			if !strings.Contains(got, c.want) || p != nil {
				t.Fatalf("errors %q, want %q", got, c.want)
			}
			if strings.Contains(got, "MIIB") || strings.Contains(got, "MC4C") {
				t.Fatal("key material in an error message")
			}
		})
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestStandardClaims(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	doc := `{"profile":"standard","issuer":"https://idp","audiences":["api"],"jwks":` + jwks + `,"max_lifetime_seconds":3600}`
	p := build(t, []byte(doc), provider.Deps{})
	h := `{"alg":"RS256","kid":"k1"}`
	exp := `,"exp":1718200303`
	cases := []struct {
		name, payload string
		want          provider.Reason
	}{
		{"ok", `{"iss":"https://idp","sub":"s","aud":"api"` + exp + `}`, provider.ReasonOK},
		{"aud array", `{"iss":"https://idp","sub":"s","aud":["x","api"]` + exp + `}`, provider.ReasonOK},
		{"wrong issuer", `{"iss":"https://evil","sub":"s","aud":"api"` + exp + `}`, provider.ReasonIssuer},
		{"no issuer", `{"sub":"s","aud":"api"` + exp + `}`, provider.ReasonIssuer},
		{"wrong audience", `{"iss":"https://idp","sub":"s","aud":"web"` + exp + `}`, provider.ReasonAudience},
		{"no audience", `{"iss":"https://idp","sub":"s"` + exp + `}`, provider.ReasonAudience},
		{"aud of numbers", `{"iss":"https://idp","sub":"s","aud":[1]` + exp + `}`, provider.ReasonClaims},
		{"no exp", `{"iss":"https://idp","sub":"s","aud":"api"}`, provider.ReasonClaims},
		{"exp now", `{"iss":"https://idp","sub":"s","aud":"api","exp":1718200003}`, provider.ReasonExpired},
		{"lifetime too long", `{"iss":"https://idp","sub":"s","aud":"api","iat":1718200000,"exp":1718300000}`, provider.ReasonClaims},
		{"no sub", `{"iss":"https://idp","aud":"api"` + exp + `}`, provider.ReasonClaims},
		{"iat in the future", `{"iss":"https://idp","sub":"s","aud":"api","iat":1718209999` + exp + `}`, provider.ReasonNotYetValid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := mint(t, f.rsa, "RS256", h, c.payload)
			_, err := p.Verify(bearer(tok, t0*sec))
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("got %s (%v)", got, err)
			}
		})
	}
}

// A standard bearer JWT is cached; the cache never outlives exp and never
// answers for a different token.
func TestCacheForReusableTokens(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	m := newMetrics()
	d := m.deps(&provider.MemSharedData{})
	p := build(t, []byte(`{"jwks":`+jwks+`}`), d)
	tok := mint(t, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, `{"sub":"s","exp":1718200100}`)
	for i := 0; i < 3; i++ {
		if _, err := p.Verify(bearer(tok, t0*sec)); err != nil {
			t.Fatal(err)
		}
	}
	if m.c["cache_hit"] != 2 {
		t.Fatalf("cache hits %d", m.c["cache_hit"])
	}
	if _, err := p.Verify(bearer(tok, 1718200100*sec)); provider.ReasonOf(err) != provider.ReasonExpired {
		t.Fatalf("cached token outlived exp: %v", err)
	}
	tampered := tok[:len(tok)-2] + "AA"
	if _, err := p.Verify(bearer(tampered, t0*sec)); provider.ReasonOf(err) != provider.ReasonBadSignature && provider.ReasonOf(err) != provider.ReasonMalformed {
		t.Fatalf("tampered token: %v", err)
	}
}

// The cached path does no work beyond a map lookup: zero allocations.
func TestCachedVerifyDoesNotAllocate(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	p := build(t, []byte(`{"jwks":`+jwks+`}`), provider.Deps{})
	req := bearer(mint(t, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, `{"sub":"s","exp":1900000000}`), t0*sec)
	if _, err := p.Verify(req); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = p.Verify(req) }); n != 0 {
		t.Fatalf("cached Verify allocates %v times", n)
	}
}

// A cached token is verified again after cache_ttl_seconds even when its
// exp is far away, so a key removed from the configuration or JWKS stops
// working within that time.
func TestCacheTTLBoundsKeyRemoval(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	m := newMetrics()
	p := build(t, []byte(`{"jwks":`+jwks+`,"cache_ttl_seconds":60}`), m.deps(&provider.MemSharedData{}))
	tok := mint(t, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, `{"sub":"s","exp":1900000000}`)
	_, _ = p.Verify(bearer(tok, t0*sec))
	_, _ = p.Verify(bearer(tok, (t0+59)*sec))
	_, _ = p.Verify(bearer(tok, (t0+60)*sec))
	if m.c["cache_hit"] != 1 || m.c["cache_miss"] != 2 {
		t.Fatalf("hits %d misses %d", m.c["cache_hit"], m.c["cache_miss"])
	}
}
