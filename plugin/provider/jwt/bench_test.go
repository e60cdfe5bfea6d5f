package jwt

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/token"
)

// Per-request cost by algorithm (asymmetric-jwt-auth shape, replay on).
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, nil)
	for _, c := range []struct {
		alg, user string
		key       any
	}{
		{"RS512", "svc-rsa", f.rsa},
		{"EdDSA", "svc-ed25519", f.ed},
		{"ES256", "svc-ec", f.ec},
	} {
		b.Run(c.alg, func(b *testing.B) {
			toks := make([]string, 4096)
			for i := range toks {
				toks[i] = mint(b, c.key, c.alg, `{"alg":"`+c.alg+`"}`, `{"username":"`+c.user+`","time":1718200003,"nonce":"b`+strconv.Itoa(i)+`"}`)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(toks) {
					b.StopTimer()
					f.p = build(b, f.doc, newDeps())
					i = 0
					b.StartTimer()
				}
				if _, err := f.p.Verify(authReq(toks[i])); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// A cached standard token: the hot path without crypto.
func BenchmarkVerifyCached(b *testing.B) {
	f := newFixture(b, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	p := build(b, []byte(`{"jwks":`+jwks+`}`), provider.Deps{})
	tok := mint(b, f.rsa, "RS256", `{"alg":"RS256","kid":"k1"}`, `{"sub":"s","exp":1900000000}`)
	req := bearer(tok, t0*sec)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(req); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseCompact(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, s := range c.Steps {
			if h := s.Request.Headers["Authorization"]; len(h) > 4 {
				f.Add(h[4:])
			}
		}
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var sc scratch
		p, err := parseCompact(tok, 8192, &sc)
		// Property: never a panic, and an accepted token re-encodes to
		// exactly itself (one token, one encoding).
		if err == nil && string(p.signingInput)+"."+enc(p.sig) != tok {
			t.Fatalf("accepted a non-canonical encoding: %q", tok)
		}
	})
}

// FuzzVerify feeds arbitrary header values to a configured provider.
// Properties: no panic; a refusal never carries an identity; an accepted
// token names a configured client.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	v := fx.vectors
	for _, c := range v.Cases {
		for _, s := range c.Steps {
			f.Add(s.Request.Headers["Authorization"])
		}
	}
	f.Fuzz(func(t *testing.T, hdr string) {
		req := &provider.Request{Now: t0 * 1e9, Headers: []provider.Header{{Name: "authorization", Value: hdr}}}
		id, err := fx.p.Verify(req)
		if err != nil {
			if id.Subject != "" || id.Claims != nil {
				t.Fatal("refusal with identity")
			}
			return
		}
		if fx.p.clients[id.Subject] == nil {
			t.Fatalf("accepted unknown subject %q", id.Subject)
		}
	})
}

// standardFixture is the shape tests/bench measures: a standard-profile
// provider (issuer, audience, exp required) with one EdDSA key, and
// standard tokens (kid, iss, sub, aud, iat, exp, jti) minted by
// plugin/token, each with a fresh jti.
func standardTokens(b *testing.B, extra map[string]any, n int) (*Provider, []string) {
	f := newFixture(b, nil)
	pemText, err := token.PublicPEM(f.ed.Public())
	if err != nil {
		b.Fatal(err)
	}
	cfg := map[string]any{"issuer": "https://idp.bench", "audiences": []string{"api.bench"},
		"algorithms": []string{"EdDSA"}, "keys": []string{pemText}, "require_exp": true}
	for k, v := range extra {
		cfg[k] = v
	}
	doc, _ := json.Marshal(cfg)
	p := build(b, doc, newDeps())
	toks := make([]string, n)
	for i := range toks {
		s := token.JWTSigner{Key: f.ed}
		s.Algorithm, s.Standard, s.Issuer = "EdDSA", true, "https://idp.bench"
		s.Subject, s.Audience, s.TTL = "robot", "api.bench", time.Minute
		if toks[i], err = s.Sign(time.Unix(t0, 0)); err != nil {
			b.Fatal(err)
		}
	}
	return p, toks
}

// BenchmarkVerifyStandard: fresh standard EdDSA tokens, as in tests/bench
// (cache on and missed, or single use through the replay guard).
func BenchmarkVerifyStandard(b *testing.B) {
	for _, c := range []struct {
		name  string
		extra map[string]any
	}{
		{"cached", nil},
		{"single_use", map[string]any{"single_use": true, "nonce_claim": "jti", "cache_capacity": 0}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, toks := standardTokens(b, c.extra, 1<<15)
			reqs := make([]*provider.Request, len(toks))
			for i, t := range toks {
				reqs[i] = bearer(t, t0*sec)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(reqs) {
					b.Fatal("token pool exhausted")
				}
				if _, err := p.Verify(reqs[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
