package jwt

import (
	"strconv"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
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
		p, err := parseCompact(tok, 8192)
		// Property: never a panic, and an accepted token re-encodes to
		// exactly itself (one token, one encoding).
		if err == nil && p.signingInput+"."+enc(p.sig) != tok {
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
