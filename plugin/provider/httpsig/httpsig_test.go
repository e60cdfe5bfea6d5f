package httpsig

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

// RFC 9421 Appendix B.1.4 (public half) and B.1.5.
const (
	rfcEd25519PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n"
	rfcSecret     = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="
	rfcCreated    = int64(1618884473)
)

// rfcRequest is the RFC 9421 Appendix B.2 test request.
func rfcRequest(sigInput, sig string) *provider.Request {
	return &provider.Request{
		Method: "POST", Authority: "example.com", RawPath: "/foo?param=Value&Pet=dog", Path: "/foo", Query: "param=Value&Pet=dog",
		Now:  (rfcCreated + 10) * 1e9,
		Body: []byte(`{"hello": "world"}`),
		Headers: []provider.Header{
			{Name: ":method", Value: "POST"},
			{Name: "date", Value: "Tue, 20 Apr 2021 02:07:55 GMT"},
			{Name: "content-type", Value: "application/json"},
			{Name: "content-digest", Value: "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"},
			{Name: "content-length", Value: "18"},
			{Name: "signature-input", Value: sigInput},
			{Name: "signature", Value: sig},
		},
	}
}

func newDeps() provider.Deps {
	s := &provider.MemSharedData{}
	return provider.Deps{Shared: s, Replay: replay.New(s, replay.Config{Namespace: "h"})}
}

func build(t testing.TB, cfg map[string]any, d provider.Deps) *Provider {
	t.Helper()
	doc, _ := json.Marshal(cfg)
	o, errs := conf.Root(doc, nil)
	p := FromConfig("sig", o, d)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

func rfcConfig() map[string]any {
	return map[string]any{
		"required_components": []string{},
		"keys": map[string]any{
			"test-key-ed25519":   map[string]any{"alg": "ed25519", "key": rfcEd25519PEM},
			"test-shared-secret": map[string]any{"alg": "hmac-sha256", "secret": rfcSecret, "secret_encoding": "base64", "subject": "shared-client"},
		},
	}
}

// The RFC's own examples verify unchanged.
func TestRFC9421Vectors(t *testing.T) {
	cases := []struct{ name, input, sig, subject string }{
		{"B.2.5 hmac-sha256",
			`sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`,
			`sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:`, "shared-client"},
		{"B.2.6 ed25519",
			`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
			`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`, "test-key-ed25519"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := build(t, rfcConfig(), newDeps())
			id, err := p.Verify(rfcRequest(c.input, c.sig))
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != c.subject || id.ExpiresAt == 0 {
				t.Fatalf("identity %+v", id)
			}
			// One changed covered header breaks it.
			req := rfcRequest(c.input, c.sig)
			req.Headers[2].Value = "application/json; charset=utf-8"
			if _, err := p.Verify(req); provider.ReasonOf(err) != provider.ReasonBadSignature {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
}

// client signs requests for the hostile table.
type client struct {
	priv   ed25519.PrivateKey
	secret []byte
}

func (c client) sign(t testing.TB, req *provider.Request, label, inner, keyid string) {
	m := &member{name: label}
	ds, err := parseDict(label + "=" + inner)
	if err != nil {
		t.Fatalf("test input %q: %v", inner, err)
	}
	m = &ds[0]
	base, err := signatureBase(req, m)
	if err != nil {
		t.Fatalf("base: %v", err)
	}
	var sig []byte
	if keyid == "hmac" {
		h := hmac.New(sha256.New, c.secret)
		h.Write([]byte(base))
		sig = h.Sum(nil)
	} else {
		sig = ed25519.Sign(c.priv, []byte(base))
	}
	req.Headers = append(req.Headers,
		provider.Header{Name: "signature-input", Value: label + "=" + inner},
		provider.Header{Name: "signature", Value: label + "=:" + base64.StdEncoding.EncodeToString(sig) + ":"})
}

const t0 = int64(1718200000)

func baseRequest(body string) *provider.Request {
	sum := sha256.Sum256([]byte(body))
	return &provider.Request{
		Method: "POST", Authority: "api.example.com", RawPath: "/orders?id=7", Path: "/orders", Query: "id=7",
		Now: t0 * 1e9, Body: []byte(body),
		Headers: []provider.Header{
			{Name: "content-type", Value: "application/json"},
			{Name: "content-digest", Value: "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"},
		},
	}
}

func TestHostile(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	secret := []byte(base64.StdEncoding.EncodeToString(priv[:32])) // 44 ASCII bytes
	cl := client{priv: priv, secret: secret}
	cfg := map[string]any{
		"require_content_digest": true,
		"keys": map[string]any{
			"k1":   map[string]any{"alg": "ed25519", "key": pubPEM, "subject": "bot-1"},
			"hmac": map[string]any{"alg": "hmac-sha256", "secret": string(secret)},
		},
	}
	created := strconv.FormatInt(t0, 10)
	std := `("@method" "@path" "@authority" "content-digest");created=` + created + `;keyid="k1"`
	stdNonce := `("@method" "@path" "@authority" "content-digest");created=` + created + `;nonce="n1";keyid="k1"`
	type tc struct {
		name  string
		build func() *provider.Request
		want  provider.Reason
	}
	signed := func(inner, keyid string, mutate func(*provider.Request)) func() *provider.Request {
		return func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			cl.sign(t, r, "sig1", inner, keyid)
			if mutate != nil {
				mutate(r)
			}
			return r
		}
	}
	setHeader := func(name, value string) func(*provider.Request) {
		return func(r *provider.Request) {
			for i := range r.Headers {
				if r.Headers[i].Name == name {
					r.Headers[i].Value = value
				}
			}
		}
	}
	cases := []tc{
		{"valid ed25519", signed(std, "k1", nil), provider.ReasonOK},
		{"valid hmac", signed(strings.Replace(std, `"k1"`, `"hmac"`, 1), "hmac", nil), provider.ReasonOK},
		{"no signature at all", func() *provider.Request { return baseRequest("{}") }, provider.ReasonMissing},
		{"input without signature", signed(std, "k1", func(r *provider.Request) { r.Headers = r.Headers[:len(r.Headers)-1] }), provider.ReasonMalformed},
		{"method changed", signed(std, "k1", func(r *provider.Request) { r.Method = "DELETE" }), provider.ReasonBadSignature},
		{"path changed", signed(std, "k1", func(r *provider.Request) { r.RawPath = "/admin?id=7" }), provider.ReasonBadSignature},
		{"authority changed", signed(std, "k1", func(r *provider.Request) { r.Authority = "evil.example.com" }), provider.ReasonBadSignature},
		{"body changed, digest kept", signed(std, "k1", func(r *provider.Request) { r.Body = []byte(`{"qty":100}`) }), provider.ReasonBadSignature},
		{"body and digest changed", signed(std, "k1", func(r *provider.Request) {
			r.Body = []byte(`{"qty":100}`)
			s := sha256.Sum256(r.Body)
			setHeader("content-digest", "sha-256=:"+base64.StdEncoding.EncodeToString(s[:])+":")(r)
		}), provider.ReasonBadSignature},
		{"body not buffered", signed(std, "k1", func(r *provider.Request) { r.Body = nil }), provider.ReasonBadSignature},
		{"sha-512 digest that lies", func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			s := sha512.Sum512([]byte("other"))
			setHeader("content-digest", r.Headers[1].Value+", sha-512=:"+base64.StdEncoding.EncodeToString(s[:])+":")(r)
			cl.sign(t, r, "sig1", std, "k1")
			return r
		}, provider.ReasonBadSignature},
		{"only unknown digest algorithm", func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			setHeader("content-digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:")(r)
			cl.sign(t, r, "sig1", std, "k1")
			return r
		}, provider.ReasonMalformed},
		{"digest not covered", signed(`("@method" "@path" "@authority");created=`+created+`;keyid="k1"`, "k1", nil), provider.ReasonClaims},
		{"path not covered", signed(`("@method" "@authority" "content-digest");created=`+created+`;keyid="k1"`, "k1", nil), provider.ReasonClaims},
		{"unknown keyid", signed(strings.Replace(std, `"k1"`, `"k9"`, 1), "k1", nil), provider.ReasonUnknown},
		{"no keyid", signed(`("@method" "@path" "@authority" "content-digest");created=`+created, "k1", nil), provider.ReasonMalformed},
		{"alg param disagrees with key", signed(std+`;alg="hmac-sha256"`, "k1", nil), provider.ReasonAlgorithm},
		{"hmac keyed with the ed25519 public key", signed(strings.Replace(std, `"k1"`, `"hmac"`, 1), "k1", nil), provider.ReasonBadSignature},
		{"created too old", signed(strings.Replace(std, created, strconv.FormatInt(t0-301, 10), 1), "k1", nil), provider.ReasonExpired},
		{"created in the future", signed(strings.Replace(std, created, strconv.FormatInt(t0+60, 10), 1), "k1", nil), provider.ReasonNotYetValid},
		{"created missing", signed(`("@method" "@path" "@authority" "content-digest");keyid="k1"`, "k1", nil), provider.ReasonClaims},
		{"expired", signed(std+`;expires=`+strconv.FormatInt(t0, 10), "k1", nil), provider.ReasonExpired},
		{"created as a string", signed(`("@method" "@path" "@authority" "content-digest");created="`+created+`";keyid="k1"`, "k1", nil), provider.ReasonMalformed},
		{"unknown parameter", signed(std+`;foo="x"`, "k1", nil), provider.ReasonMalformed},
		{"duplicate component", signed(`("@method" "@method" "@path" "@authority" "content-digest");created=`+created+`;keyid="k1"`, "k1", nil), provider.ReasonMalformed},
		{"component with parameters", func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			r.Headers = append(r.Headers, provider.Header{Name: "signature-input", Value: `sig1=("@method";req "@path");created=` + created + `;keyid="k1"`},
				provider.Header{Name: "signature", Value: "sig1=:AAAA:"})
			return r
		}, provider.ReasonMalformed},
		{"@target-uri unsupported", func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			r.Headers = append(r.Headers, provider.Header{Name: "signature-input", Value: `sig1=("@target-uri" "@method" "@path" "@authority" "content-digest");created=` + created + `;keyid="k1"`},
				provider.Header{Name: "signature", Value: "sig1=:AAAA:"})
			return r
		}, provider.ReasonMalformed},
		{"covered header absent", func() *provider.Request {
			r := baseRequest(`{"qty":1}`)
			r.Headers = append(r.Headers, provider.Header{Name: "signature-input", Value: `sig1=("@method" "@path" "@authority" "content-digest" "x-absent");created=` + created + `;keyid="k1"`},
				provider.Header{Name: "signature", Value: "sig1=:AAAA:"})
			return r
		}, provider.ReasonMalformed},
		{"label mismatch", signed(std, "k1", func(r *provider.Request) {
			setHeader("signature", strings.Replace(r.Headers[len(r.Headers)-1].Value, "sig1=", "sig2=", 1))(r)
		}), provider.ReasonMalformed},
		{"two signatures, no label configured", signed(std, "k1", func(r *provider.Request) {
			setHeader("signature-input", r.Headers[len(r.Headers)-2].Value+", sig2="+std)(r)
		}), provider.ReasonAmbiguous},
		{"duplicate dictionary key", signed(std, "k1", func(r *provider.Request) {
			setHeader("signature-input", r.Headers[len(r.Headers)-2].Value+", sig1="+std)(r)
		}), provider.ReasonMalformed},
		{"trailing comma", signed(std, "k1", func(r *provider.Request) {
			setHeader("signature-input", r.Headers[len(r.Headers)-2].Value+",")(r)
		}), provider.ReasonMalformed},
		{"signature not base64", signed(std, "k1", func(r *provider.Request) { setHeader("signature", "sig1=:!!!!:")(r) }), provider.ReasonMalformed},
		{"signature truncated", signed(std, "k1", func(r *provider.Request) {
			v := strings.TrimSuffix(strings.TrimPrefix(r.Headers[len(r.Headers)-1].Value, "sig1=:"), ":")
			raw, _ := base64.StdEncoding.DecodeString(v)
			setHeader("signature", "sig1=:"+base64.StdEncoding.EncodeToString(raw[:63])+":")(r)
		}), provider.ReasonBadSignature},
		{"oversize fields", signed(std, "k1", func(r *provider.Request) {
			setHeader("signature-input", r.Headers[len(r.Headers)-2].Value+`;tag="`+strings.Repeat("x", 9000)+`"`)(r)
		}), provider.ReasonOversize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := build(t, cfg, newDeps())
			id, err := p.Verify(c.build())
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
			if err != nil && id.Subject != "" {
				t.Fatal("refusal with identity")
			}
		})
	}

	// Nonce replay across two VMs sharing one store.
	t.Run("nonce replay across VMs", func(t *testing.T) {
		d := newDeps()
		vm1, vm2 := build(t, cfg, d), build(t, cfg, provider.Deps{Shared: d.Shared, Replay: replay.New(d.Shared, replay.Config{Namespace: "h"})})
		r := baseRequest(`{"qty":1}`)
		cl.sign(t, r, "sig1", stdNonce, "k1")
		if _, err := vm1.Verify(r); err != nil {
			t.Fatal(err)
		}
		if _, err := vm2.Verify(r); !errors.Is(err, replay.ErrReplayed) {
			t.Fatalf("replay accepted by the second VM: %v", err)
		}
	})

	// A guard that takes bytes gets the same key a string guard gets, so
	// VMs built either way share their nonces.
	t.Run("bytes and string keys agree", func(t *testing.T) {
		var viaBytes, viaString recordingGuard
		r := baseRequest(`{"qty":1}`)
		cl.sign(t, r, "sig1", stdNonce, "k1")
		if _, err := build(t, cfg, provider.Deps{Replay: &viaBytes}).Verify(r); err != nil {
			t.Fatal(err)
		}
		if _, err := build(t, cfg, provider.Deps{Replay: stringOnly{&viaString}}).Verify(r); err != nil {
			t.Fatal(err)
		}
		if viaBytes.bytesCalls != 1 || viaBytes.stringCalls != 0 || viaString.stringCalls != 1 {
			t.Fatalf("calls: bytes guard %+v, string guard %+v", viaBytes, viaString)
		}
		if viaBytes.last != viaString.last || !strings.HasSuffix(viaBytes.last, "\x00n1") {
			t.Fatalf("keys differ: %q vs %q", viaBytes.last, viaString.last)
		}
	})
}

// recordingGuard accepts every key and records the last one and how it came.
type recordingGuard struct {
	last                    string
	bytesCalls, stringCalls int
}

func (g *recordingGuard) Use(key string, now, exp int64) error {
	g.last, g.stringCalls = key, g.stringCalls+1
	return nil
}

func (g *recordingGuard) UseBytes(key []byte, now, exp int64) error {
	g.last, g.bytesCalls = string(key), g.bytesCalls+1
	return nil
}

// stringOnly hides UseBytes.
type stringOnly struct{ g *recordingGuard }

func (s stringOnly) Use(key string, now, exp int64) error { return s.g.Use(key, now, exp) }

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  string
		want string
	}{
		{"no keys", `{}`, "keys: is required"},
		{"weak secret", `{"keys":{"a":{"alg":"hmac-sha256","secret":"short"}}}`, "at least 32 bytes"},
		{"wrong key type", `{"keys":{"a":{"alg":"ed25519","key":"` + strings.ReplaceAll(rfcEd25519PEM, "\n", `\n`) + `"}}}`, ""},
		{"key type mismatch", `{"keys":{"a":{"alg":"ecdsa-p256-sha256","key":"` + strings.ReplaceAll(rfcEd25519PEM, "\n", `\n`) + `"}}}`, "is a Ed25519 key, not one for ecdsa-p256-sha256"},
		{"unknown alg", `{"keys":{"a":{"alg":"rsa-sha1","key":"x"}}}`, `"rsa-sha1" is not one of`},
		{"bad component", `{"required_components":["@target-uri"],"keys":{"a":{"alg":"ed25519","key":"x"}}}`, "is not a supported component"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, errs := conf.Root([]byte(c.cfg), nil)
			p := FromConfig("x", o, newDeps())
			got := ""
			if err := errs.Err(); err != nil {
				got = err.Error()
			}
			if c.want == "" {
				if got != "" || p == nil {
					t.Fatalf("unexpected: %s", got)
				}
				return
			}
			if !strings.Contains(got, c.want) || p != nil {
				t.Fatalf("errors %q want %q", got, c.want)
			}
		})
	}
}

func BenchmarkVerifyEd25519(b *testing.B) {
	p := build(b, rfcConfig(), newDeps())
	req := rfcRequest(`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(req); err != nil {
			b.Fatal(err)
		}
	}
}

// hmacFixture is a provider with one HMAC key and a signed request like
// the benchmark suite's: default required components, created, keyid, one
// field line each. digest adds a covered content-digest, nonce a nonce.
func hmacFixture(t testing.TB, digest, nonce bool) (*Provider, *provider.Request) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef01234567")
	cfg := map[string]any{"keys": map[string]any{"partner": map[string]any{"alg": "hmac-sha256", "secret": string(secret)}}}
	inner := `("@method" "@path" "@authority");created=` + strconv.FormatInt(t0, 10) + `;keyid="partner"`
	if digest {
		inner = `("@method" "@path" "@authority" "content-digest");created=` + strconv.FormatInt(t0, 10) + `;keyid="partner"`
	}
	if nonce {
		inner += `;nonce="n-1"`
	}
	r := baseRequest(`{"qty":1}`)
	client{secret: secret}.sign(t, r, "sig1", inner, "hmac")
	return build(t, cfg, newDeps()), r
}

// TestZeroAllocsHMAC holds issue 7's target for the shared-secret scheme:
// verifying a valid hmac-sha256 signature allocates nothing, with or
// without a covered content-digest, once the provider is warm.
func TestZeroAllocsHMAC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		digest bool
	}{
		{"method path authority", false},
		{"with content-digest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r := hmacFixture(t, tc.digest, false)
			var err error
			n := testing.AllocsPerRun(100, func() { _, err = p.Verify(r) })
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%v allocations per verification, want 0", n)
			}
		})
	}
}

// TestAllocsEd25519: an ed25519 signature is not under the zero target
// (the primitive is not ours), but the provider adds no allocation to what
// ed25519.Verify itself makes on the same signature base.
func TestAllocsEd25519(t *testing.T) {
	p := build(t, rfcConfig(), newDeps())
	req := rfcRequest(`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	var err error
	ours := testing.AllocsPerRun(20, func() { _, err = p.Verify(req) })
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(rfcEd25519PEM))
	pub, perr := x509.ParsePKIXPublicKey(block.Bytes)
	if perr != nil {
		t.Fatal(perr)
	}
	base := p.base // the base of the last verification
	sig := p.sigs.members[0].bytes
	if !ed25519.Verify(pub.(ed25519.PublicKey), base, sig) {
		t.Fatal("the provider's base does not verify directly")
	}
	bare := testing.AllocsPerRun(20, func() { ed25519.Verify(pub.(ed25519.PublicKey), base, sig) })
	t.Logf("ed25519: provider %v allocations per verification, ed25519.Verify alone %v", ours, bare)
	if ours > bare {
		t.Fatalf("provider makes %v allocations, the primitive alone %v", ours, bare)
	}
}

// TestScratchReuse checks that reused scratch never leaks between
// requests: a good request, a bad one, then the good one again, in one
// provider, each give their own answer, and the identity of the first is
// unchanged by what came after.
func TestScratchReuse(t *testing.T) {
	p, good := hmacFixture(t, true, false)
	_, other := hmacFixture(t, true, false)
	other.Authority = "evil.example.com"
	id, err := p.Verify(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(other); provider.ReasonOf(err) != provider.ReasonBadSignature {
		t.Fatalf("tampered request: %v", err)
	}
	relabelled := *good
	relabelled.Headers = append([]provider.Header(nil), good.Headers...)
	for i := range relabelled.Headers {
		h := &relabelled.Headers[i]
		if h.Name == "signature-input" || h.Name == "signature" {
			h.Value = "zz" + strings.TrimPrefix(h.Value, "sig1")
		}
	}
	id2, err := p.Verify(&relabelled)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.Claims["label"]; len(got) != 1 || got[0] != "sig1" {
		t.Fatalf("first identity's label became %q", got)
	}
	if got := id2.Claims["label"]; len(got) != 1 || got[0] != "zz" || id2.Claims["keyid"][0] != "partner" {
		t.Fatalf("second identity claims %v", id2.Claims)
	}
	if _, err := p.Verify(good); err != nil {
		t.Fatalf("good request after others: %v", err)
	}
}

// TestScratchReleased: a request with huge fields leaves no large scratch
// behind, and ordinary requests around it still verify.
func TestScratchReleased(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef01234567")
	cfg := map[string]any{"max_header_bytes": 65536, "keys": map[string]any{"partner": map[string]any{"alg": "hmac-sha256", "secret": string(secret)}}}
	p := build(t, cfg, newDeps())
	sign := func(r *provider.Request, inner string) *provider.Request {
		client{secret: secret}.sign(t, r, "sig1", inner, "hmac")
		return r
	}
	created := strconv.FormatInt(t0, 10)
	small := sign(baseRequest("{}"), `("@method" "@path" "@authority");created=`+created+`;keyid="partner"`)
	huge := baseRequest("{}")
	huge.Headers = append(huge.Headers, provider.Header{Name: "x-big", Value: strings.Repeat("b", 50_000)})
	var many strings.Builder
	for i := 0; i < 60; i++ {
		many.WriteString(` "x-h` + strconv.Itoa(i) + `"`)
		huge.Headers = append(huge.Headers, provider.Header{Name: "x-h" + strconv.Itoa(i), Value: "v"})
	}
	sign(huge, `("@method" "@path" "@authority" "x-big"`+many.String()+`);created=`+created+`;keyid="partner";tag="`+strings.Repeat("t", 2000)+`"`)
	var hugeSigs strings.Builder
	for i := 0; i < 20; i++ {
		hugeSigs.WriteString(", s" + strconv.Itoa(i) + "=:" + strings.Repeat("QUFB", 100) + ":")
	}
	for i := range huge.Headers {
		if huge.Headers[i].Name == "signature" {
			huge.Headers[i].Value += hugeSigs.String()
		}
	}
	for i, r := range []*provider.Request{small, huge, small} {
		if _, err := p.Verify(r); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		for name, c := range map[string]int{"base": cap(p.base), "sig bytes": cap(p.sigs.bytes), "input items": cap(p.inputs.items),
			"sig members": cap(p.sigs.members), "input params": cap(p.inputs.params)} {
			if c > scratchKeep {
				t.Fatalf("request %d left %s scratch of capacity %d", i, name, c)
			}
		}
	}
	if cap(p.base) == 0 {
		t.Fatal("an ordinary request's base buffer was not kept for reuse")
	}
}

func BenchmarkVerifyHMAC(b *testing.B) {
	for _, bc := range []struct {
		name          string
		digest, nonce bool
	}{
		{"plain", false, false},
		{"content-digest", true, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, r := hmacFixture(b, bc.digest, bc.nonce)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Verify(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// describe renders members so that a fresh parse and a reused dict's can
// be compared (nil and empty slices look alike).
func describe(ms []member) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%q inner=%v items=%q bytes=%x params=", m.name, m.inner, m.items, m.bytes)
		for _, p := range m.params {
			fmt.Fprintf(&b, "[%q %q %d %v %v]", p.name, p.str, p.num, p.isNum, p.isStr)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// A dict that parsed something else before gives the same answer as a
// fresh one: reused scratch never leaks between parses.
var reusePrimers = []string{
	`sig0=("@method" "x-a" "x-\\b");created=1;keyid="k\"q";tag=tok/1, sig9=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:`,
	`a=:AAAA:;x=1, b=("c");y="z"`,
}

func FuzzParseDict(f *testing.F) {
	f.Add(`sig-b26=("date" "@method");created=1618884473;keyid="test-key-ed25519"`)
	f.Add(`sig1=:AAAA:, sig2=:BBBB:`)
	f.Add(`sig1=("@method" "a\\b");created=-12;nonce="x\"y";alg=hmac-sha256, sig2=:YWJj:;k=*t`)
	f.Add(`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:`)
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseDict(s)
		for _, primer := range reusePrimers {
			var d dict
			if d.parse(primer) != nil {
				t.Fatalf("primer %q does not parse", primer)
			}
			err2 := d.parse(s)
			if (err == nil) != (err2 == nil) || err == nil && describe(ms) != describe(d.members) {
				t.Fatalf("reused dict differs on %q:\n%v %s\n%v %s", s, err, describe(ms), err2, describe(d.members))
			}
		}
		if err != nil {
			return
		}
		for i := range ms {
			if ms[i].inner {
				// Canonical re-serialisation parses back to the same member.
				again, err := parseDict(ms[i].name + "=" + ms[i].serialize())
				if err != nil || again[0].serialize() != ms[i].serialize() || !again[0].canonical {
					t.Fatalf("round trip of %q: %v", s, err)
				}
				// The text as sent is copied into the base exactly when it
				// is what serialization would give.
				if ms[i].canonical != (ms[i].raw == ms[i].serialize()) {
					t.Fatalf("%q: canonical=%v but raw %q, serialized %q", s, ms[i].canonical, ms[i].raw, ms[i].serialize())
				}
				continue
			}
			// A byte sequence decodes as the standard library's strict
			// decoder does: its canonical encoding is in the input.
			if enc := ":" + base64.StdEncoding.EncodeToString(ms[i].bytes) + ":"; !strings.Contains(s, enc) {
				t.Fatalf("%q: decoded %x, whose encoding %s is not in the input", s, ms[i].bytes, enc)
			}
		}
	})
}

// TestCanonicalInnerList: an inner list sent canonically is copied into the
// signature base as is; any other spelling is re-serialised, so both give
// the same base.
func TestCanonicalInnerList(t *testing.T) {
	const want = `("@method" "a\\b");created=5;n=-3;t=tok;s="x\"y"`
	for _, tc := range []struct {
		name, in  string
		canonical bool
	}{
		{"canonical", want, true},
		{"empty list", `();created=5`, true},
		{"space after (", `( "@method" "a\\b");created=5;n=-3;t=tok;s="x\"y"`, false},
		{"space before )", `("@method" "a\\b" );created=5;n=-3;t=tok;s="x\"y"`, false},
		{"two spaces between items", `("@method"  "a\\b");created=5;n=-3;t=tok;s="x\"y"`, false},
		{"space after ;", `("@method" "a\\b"); created=5;n=-3;t=tok;s="x\"y"`, false},
		{"leading zero", `("@method" "a\\b");created=05;n=-3;t=tok;s="x\"y"`, false},
		{"negative leading zero", `("@method" "a\\b");created=5;n=-03;t=tok;s="x\"y"`, false},
		{"minus zero", `("@method" "a\\b");created=5;n=-0;t=tok;s="x\"y"`, false},
		{"zero", `("@method");created=0`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := parseDict("sig=" + tc.in)
			if err != nil {
				t.Fatal(err)
			}
			m := &ms[0]
			if m.canonical != tc.canonical || m.raw != tc.in {
				t.Fatalf("canonical=%v raw=%q, want %v %q", m.canonical, m.raw, tc.canonical, tc.in)
			}
			r := &provider.Request{Method: "GET", Headers: []provider.Header{{Name: "a\\b", Value: "v"}}}
			got, err := signatureBase(r, m)
			if err != nil {
				t.Fatal(err)
			}
			if wantBase := "\"@method\": GET\n\"a\\b\": v\n\"@signature-params\": " + m.serialize(); len(m.items) == 2 && got != wantBase {
				t.Fatalf("base %q, want %q", got, wantBase)
			}
			if !strings.HasSuffix(got, m.serialize()) {
				t.Fatalf("base %q does not end with the serialization %q", got, m.serialize())
			}
		})
	}
}

// FuzzVerify sends arbitrary signature fields to one long-lived provider.
// Nothing panics, and a valid request verifies after every hostile one, so
// no scratch state carries over from one request to the next.
func FuzzVerify(f *testing.F) {
	p, good := hmacFixture(f, true, false)
	in, _ := good.Header("signature-input")
	sig, _ := good.Header("signature")
	f.Add(in, sig)
	f.Add(in+", "+in, sig)
	f.Add(strings.Replace(in, "sig1", "sig2", 1)+", "+in, sig+", "+sig)
	f.Add(`sig1=("@query" "@request-target" "content-type" "x-absent");created=1;keyid="partner";nonce="n"`, `sig1=:AAAA:`)
	f.Fuzz(func(t *testing.T, in, sig string) {
		r := *good
		r.Headers = nil
		for _, h := range good.Headers {
			switch h.Name {
			case "signature-input":
				h.Value = in
			case "signature":
				h.Value = sig
			}
			r.Headers = append(r.Headers, h)
		}
		id, err := p.Verify(&r)
		if err == nil && (id.Subject != "partner" || id.Claims["keyid"][0] != "partner") {
			t.Fatalf("accepted with identity %+v", id)
		}
		if _, err := p.Verify(good); err != nil {
			t.Fatalf("valid request refused after %q / %q: %v", in, sig, err)
		}
	})
}
