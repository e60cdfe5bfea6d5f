package jwt

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// sameParse fails t unless the request path (parseCompact, readClaims on a
// reused scratch) and the reference (reference_test.go) agree on tok for
// provider p: the same refusal, or the same header values and claims.
func sameParse(t *testing.T, p *Provider, sc *scratch, tok string) {
	t.Helper()
	sc.text = sc.text[:0]
	rp, rerr := refParseCompact(tok, 8192)
	var rc refClaims
	if rerr == nil {
		rc, rerr = p.refReadClaims(rp.payload)
	}
	np, nerr := parseCompact(tok, 8192, sc)
	var nc claims
	if nerr == nil {
		nc, nerr = p.readClaims(np.payload, sc)
	}
	if nerr != rerr {
		t.Fatalf("%q: got error %v, reference %v", tok, nerr, rerr)
	}
	if rerr != nil {
		return
	}
	got := fmt.Sprintf("%v %v %q %q %q %x", np.alg, np.hasKid, np.kid, np.signingInput, np.payload, np.sig)
	want := fmt.Sprintf("%v %v %q %q %q %x", rp.alg, rp.hasKid, rp.kid, rp.signingInput, rp.payload, rp.sig)
	if got != want {
		t.Fatalf("%q: header\n got %s\nwant %s", tok, got, want)
	}
	got = fmt.Sprintf("%q %q %q %q %v %v %v %v %v %v %v %v %v %v %v %v %q %v %v", nc.client, nc.subject, nc.nonce, nc.issuer,
		nc.hasClient, nc.hasSubject, nc.hasNonce, nc.time, nc.exp, nc.nbf, nc.iat, nc.hasTime, nc.hasExp, nc.hasNbf, nc.hasIat,
		nc.aud != nil, nc.aud, nc.audType, nc.badType)
	want = fmt.Sprintf("%q %q %q %q %v %v %v %v %v %v %v %v %v %v %v %v %q %v %v", rc.client, rc.subject, rc.nonce, rc.issuer,
		rc.hasClient, rc.hasSubject, rc.hasNonce, rc.time, rc.exp, rc.nbf, rc.iat, rc.hasTime, rc.hasExp, rc.hasNbf, rc.hasIat,
		rc.aud != nil, rc.aud, rc.audType, rc.badType)
	if got != want {
		t.Fatalf("%q: claims\n got %s\nwant %s", tok, got, want)
	}
}

// parseProviders: both claim layouts (asymmetric_jwt_auth and standard).
func parseProviders(t testing.TB) []*Provider {
	f := newFixture(t, nil)
	std := build(t, []byte(`{"jwks":{"keys":[{"kty":"RSA","kid":"k1","n":"`+enc(f.rsa.N.Bytes())+`","e":"AQAB"}]},"issuer":"i","audiences":["a"]}`), provider.Deps{})
	return []*Provider{f.p, std}
}

func raw(header, payload string) string {
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

var parseSeeds = [][2]string{
	{`{"alg":"EdDSA","kid":"k\u0031"}`, `{"username":"u","time":1718200003,"nonce":"n","sub":"s","iss":"i","aud":["a","\u0062"],"exp":1.5,"nbf":-3,"iat":0}`},
	{`{"alg":"EdDSA"}`, `{"username":"u\u00e9","nonce":12.5e1,"time":"x","exp":"y","iss":null,"jti":""}`},
	{`{"alg":"EdDSA","alg":"EdDSA"}`, `{}`},
	{`{"alg":1,"alg":"x"}`, `{}`},
	{`{"kid":"a","kid":2,"alg":"RS256"}`, `{}`},
	{`{"alg":"RS256","crit":["b64"]} `, `{"a":1,"a":2}`},
	{`{"alg":"RS256","kid":1,}`, `{}`},
	{`{"alg":"RS256"}`, `{"sub":"s","o":{"a":1,"a":2}}x`},
	{`{"alg":"RS256"}`, `{"sub":"s","iss":"","aud":"\ud800","time":9999999999,"nonce":0}`},
	{`[]`, `{}`},
	{`{"alg":"\u0045dDSA"}`, `{"iss":7}`},
}

func TestParseMatchesReference(t *testing.T) {
	ps := parseProviders(t)
	var sc scratch
	for _, s := range parseSeeds {
		for _, p := range ps {
			sameParse(t, p, &sc, raw(s[0], s[1]))
		}
	}
	for _, tok := range []string{"", ".", "..", "a..b", "a.b.", "a.b.c.d", "eyJ.e30.", "e30.e30.AA=", "e30.e30.A", "e30.e30.AB", "e30 .e30.x"} {
		for _, p := range ps {
			sameParse(t, p, &sc, tok)
		}
	}
}

// FuzzParseDifferential: the single-pass parser and the reference agree
// on any header and payload text (and on any raw token string).
func FuzzParseDifferential(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s[0], s[1], "")
	}
	f.Add("", "", "e30.e30.AA")
	ps := parseProviders(f)
	var sc scratch
	f.Fuzz(func(t *testing.T, header, payload, tok string) {
		for _, p := range ps {
			sameParse(t, p, &sc, raw(header, payload))
			sameParse(t, p, &sc, tok)
		}
	})
}

// FuzzDecodeB64URL: decodeB64URL accepts exactly what
// base64.RawURLEncoding.Strict() accepts, with the same bytes.
func FuzzDecodeB64URL(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "_-_-", "YQ", "YWI", "YWJj", "a=", "a b"} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := strict.DecodeString(s)
		// Characters outside the alphabet are refused before decoding (by
		// parseCompact); the standard decoder skips CR and LF instead.
		if strings.ContainsAny(s, "\r\n") {
			werr = base64.CorruptInputError(0)
		}
		dst := make([]byte, decodedLen(len(s)))
		n, ok := decodeB64URL(dst, s)
		if ok != (werr == nil) {
			t.Fatalf("%q: ok %v, encoding/base64 error %v", s, ok, werr)
		}
		if ok && string(dst[:n]) != string(want) {
			t.Fatalf("%q: got %x, want %x", s, dst[:n], want)
		}
	})
}

// TestIdentityFromClaims: the identity's subject and claims are the
// unescaped payload values, whatever the member order, escapes, nesting
// or paths shared with nested members; a nested duplicate still refuses.
func TestIdentityFromClaims(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	p := build(t, []byte(`{"jwks":`+jwks+`,"claims_to_headers":{"org.team":"x-team"}}`), provider.Deps{})
	h := `{"alg":"RS256","kid":"k1"}`
	cases := []struct {
		name, payload, subject, claims string
		headers                        string
	}{
		{"plain", `{"sub":"robot","exp":1900000000}`, "robot", `map[exp:[1900000000] sub:[robot]]`, ``},
		{"escaped", `{"exp":1900000000,"sub":"r\u00e9bot\n"}`, "rébot\n", `map[exp:[1900000000] sub:[rébot` + "\n" + `]]`, ``},
		{"nested path before", `{"":{"sub":"inner"},"sub":"outer","exp":1900000000}`, "outer", `map[exp:[1900000000] sub:[inner outer]]`, ``},
		{"nested and arrays", `{"org":{"team":"blue","ids":[1,"2",null]},"sub":"s","scope":"a b","exp":1900000000}`, "s",
			`map[exp:[1900000000] org.ids:[1 2] org.team:[blue] scope:[a b] sub:[s]]`, `x-team=blue`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := p.Verify(bearer(mint(t, f.rsa, "RS256", h, c.payload), t0*sec))
			if err != nil {
				t.Fatal(err)
			}
			var hs []string
			for _, x := range id.Headers {
				hs = append(hs, x.Name+"="+x.Value)
			}
			if id.Subject != c.subject || fmt.Sprint(id.Claims) != c.claims || strings.Join(hs, ";") != c.headers {
				t.Fatalf("subject %q claims %v headers %v", id.Subject, id.Claims, hs)
			}
		})
	}
	_, err := p.Verify(bearer(mint(t, f.rsa, "RS256", h, `{"sub":"s","exp":1900000000,"o":{"a":1,"a":2}}`), t0*sec))
	if provider.ReasonOf(err) != provider.ReasonMalformed {
		t.Fatalf("nested duplicate: %v", err)
	}
}

// TestSkipClaimsSameIdentity: a provider told that no rule reads its
// claims (SkipClaims) gives the same subject, scopes, mapped headers and
// refusals, only without the Claims map.
func TestSkipClaimsSameIdentity(t *testing.T) {
	f := newFixture(t, nil)
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","n":"` + enc(f.rsa.N.Bytes()) + `","e":"AQAB"}]}`
	doc := []byte(`{"jwks":` + jwks + `,"claims_to_headers":{"org.team":"x-team","scp":"x-scp","a.b":"x-ab"}}`)
	full, skip := build(t, doc, provider.Deps{}), build(t, doc, provider.Deps{})
	skip.SkipClaims()
	h := `{"alg":"RS256","kid":"k1"}`
	for _, payload := range []string{
		`{"sub":"robot","exp":1900000000}`,
		`{"exp":1900000000,"sub":"r\u00e9bot"}`,
		`{"org":{"team":"blue","ids":[1,"2",null]},"sub":"s","scope":"a b","exp":1900000000}`,
		`{"sub":"s","scp":["a","b"],"exp":1900000000}`,
		`{"sub":"s","scp":"x  y","exp":1900000000}`,
		`{"sub":"s","scope":["a","b"],"scp":"z","exp":1900000000}`,
		`{"sub":"s","scope":"","scp":"z","exp":1900000000}`,
		`{"sub":"s","a.b":1,"a":{"b":[2,3]},"exp":1900000000}`,
		`{"sub":"s","org":{"team":"bad\r\nx: y"},"exp":1900000000}`,
		`{"sub":"s","exp":1900000000,"o":{"a":1,"a":2}}`,
		`{"sub":"s","exp":1900000000,"sub":"t"}`,
	} {
		tok := mint(t, f.rsa, "RS256", h, payload)
		want, werr := full.Verify(bearer(tok, t0*sec))
		got, gerr := skip.Verify(bearer(tok, t0*sec))
		if provider.ReasonOf(gerr) != provider.ReasonOf(werr) {
			t.Fatalf("%s: refusal %v, with claims %v", payload, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if got.Claims != nil || want.Claims == nil {
			t.Fatalf("%s: claims %v (skipped), %v (built)", payload, got.Claims, want.Claims)
		}
		want.Claims = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nskipped %+v\nbuilt   %+v", payload, got, want)
		}
	}
}
