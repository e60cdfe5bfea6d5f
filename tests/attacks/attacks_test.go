// Package attacks is tokengate's hostile suite: every case starts from a
// valid, freshly minted credential (plugin/token), breaks it, and sends it
// through the built module (build/tokengate.wasm) in hostsim on two worker
// VMs. Each case names the status and the acceptable refusal reasons, and
// every case must end in a local reply: nothing reaches the upstream. Every
// result is scanned for secrets (tests/leakscan).
package attacks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/token"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// attack is one hostile case.
type attack struct {
	name string
	// req builds the request from the environment (it may send setup
	// requests first, e.g. the first use of a replayed credential).
	req     func(t *testing.T, e *env) hostsim.Request
	worker  int
	status  int
	reasons []string // acceptable refusal reasons
}

// on starts from the valid request of route and applies mut.
func on(route string, mut func(e *env, r *hostsim.Request)) func(*testing.T, *env) hostsim.Request {
	return func(_ *testing.T, e *env) hostsim.Request {
		r := valid(e, route)
		if mut != nil {
			mut(e, &r)
		}
		return r
	}
}

// set replaces (or adds) header name.
func set(r *hostsim.Request, name, value string) {
	for i, h := range r.Headers {
		if h[0] == name {
			r.Headers[i][1] = value
			return
		}
	}
	r.Headers = append(r.Headers, [2]string{name, value})
}

func get(r *hostsim.Request, name string) string { return header(r.Headers, name) }

func del(r *hostsim.Request, name string) {
	out := r.Headers[:0]
	for _, h := range r.Headers {
		if h[0] != name {
			out = append(out, h)
		}
	}
	r.Headers = out
}

func add(r *hostsim.Request, name, value string) {
	r.Headers = append(r.Headers, [2]string{name, value})
}

// scheme returns "Bearer " + v style values' token part.
func tokenOf(v string) string {
	if i := strings.IndexByte(v, ' '); i >= 0 {
		return v[i+1:]
	}
	return v
}

func flipLast(s string) string {
	b := []byte(s)
	i := len(b) - 1
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func flipAt(s string, i int) string {
	b := []byte(s)
	if b[i] == 'x' {
		b[i] = 'y'
	} else {
		b[i] = 'x'
	}
	return string(b)
}

var b64 = base64.RawURLEncoding

// rawJWT builds a compact JWS from literal JSON with sign over the signing
// input (nil: empty signature).
func rawJWT(header, payload string, sign func([]byte) []byte) string {
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	sig := []byte{}
	if sign != nil {
		sig = sign([]byte(in))
	}
	return in + "." + b64.EncodeToString(sig)
}

func claims(now time.Time, extra string) string {
	s := `{"iss":"` + fixture.Issuer + `","sub":"robot","aud":"` + fixture.Audience + `","iat":` +
		strconv.FormatInt(now.Unix(), 10) + `,"exp":` + strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func edSign(k ed25519.PrivateKey) func([]byte) []byte {
	return func(m []byte) []byte { return ed25519.Sign(k, m) }
}

func hsSign(secret []byte) func([]byte) []byte {
	return func(m []byte) []byte { h := hmac.New(sha256.New, secret); h.Write(m); return h.Sum(nil) }
}

func esSign(k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(m []byte) []byte {
		d := sha256.Sum256(m)
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

var (
	attackerEd, _ = func() (ed25519.PrivateKey, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }()
	otherSecret   = []byte("another-django-secret-0123456789abcdef")
)

func otherFernet() string {
	return base64.URLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
}

func jwtAuth(e *env, r *hostsim.Request, tok string) {
	e.fx.Scan.Add(tok)
	set(r, "authorization", "Bearer "+tok)
}

func junkHeaders(n int) [][2]string {
	hs := make([][2]string, n)
	for i := range hs {
		hs[i] = [2]string{"x-junk-" + strconv.Itoa(i), strings.Repeat("j", 16)}
	}
	return hs
}

const (
	missing    = "credential_missing"
	malformed  = "credential_malformed"
	oversize   = "credential_oversize"
	ambiguous  = "credential_ambiguous"
	unknown    = "credential_unknown"
	badSig     = "bad_signature"
	algorithm  = "algorithm_not_allowed"
	expired    = "expired"
	notYet     = "not_yet_valid"
	replayed   = "replayed"
	audience   = "audience_mismatch"
	issuer     = "issuer_mismatch"
	claimsBad  = "claims_invalid"
	binding    = "binding_mismatch"
	scope      = "insufficient_scope"
	denied     = "address_denied"
	noRule     = "no_matching_rule"
	calloutBad = "callout_failed"
	badRequest = "bad_request"
)

func r(reasons ...string) []string { return reasons }

// path returns a builder for a request to p with the read key (or none).
func path(p string, key bool) func(*testing.T, *env) hostsim.Request {
	return func(_ *testing.T, e *env) hostsim.Request {
		req := hostsim.Request{Method: "GET", Path: p}
		if key {
			req.Headers = [][2]string{{"x-api-key", e.fx.Read.Key}}
		}
		return req
	}
}

// replay sends the request once on worker first (it must be forwarded)
// and returns it for the case's worker.
func replay(route string, first int, fresh func(e *env)) func(*testing.T, *env) hostsim.Request {
	return func(t *testing.T, e *env) hostsim.Request {
		if fresh != nil {
			fresh(e)
		}
		req := valid(e, route)
		if res := e.sendT(t, first, req); res.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("first use: %s, want forwarded", summary(res))
		}
		return req
	}
}

// nextWindow moves the clock to the start of the next 30 s rolling-code
// window, so the code of the case is fresh.
func nextWindow(e *env) {
	d := 30*time.Second - time.Duration(e.now.Unix()%30)*time.Second
	e.advance(d)
}

func attacks() []attack {
	return []attack{
		// --- api_key -------------------------------------------------------
		{name: "apikey/missing", req: on("k", func(e *env, r *hostsim.Request) { del(r, "x-api-key") }), status: 401, reasons: r(missing)},
		{name: "apikey/unknown", req: on("k", func(e *env, r *hostsim.Request) {
			set(r, "x-api-key", "tg_read_"+strings.Repeat("Z", 43))
		}), status: 401, reasons: r(unknown)},
		{name: "apikey/truncated", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key[:len(e.fx.Read.Key)-1]) }), status: 401, reasons: r(unknown)},
		{name: "apikey/extended", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key+"A") }), status: 401, reasons: r(unknown)},
		{name: "apikey/padded-spaces", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key+"  x") }), status: 401, reasons: r(malformed, unknown)},
		{name: "apikey/lower-cased", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", strings.ToLower(e.fx.Read.Key)) }), status: 401, reasons: r(unknown)},
		{name: "apikey/oversize", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key+strings.Repeat("A", 300)) }), status: 401, reasons: r(oversize)},
		{name: "apikey/duplicate-same", req: on("k", func(e *env, r *hostsim.Request) { add(r, "x-api-key", e.fx.Read.Key) }), status: 401, reasons: r(ambiguous)},
		{name: "apikey/duplicate-conflicting", req: on("k", func(e *env, r *hostsim.Request) { add(r, "x-api-key", e.fx.Admin.Key) }), status: 401, reasons: r(ambiguous)},
		{name: "apikey/both-carriers", req: on("k", func(e *env, r *hostsim.Request) { add(r, "authorization", "ApiKey "+e.fx.Admin.Key) }), status: 401, reasons: r(ambiguous)},
		{name: "apikey/nul-byte", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key[:10]+"\x00"+e.fx.Read.Key[10:]) }), status: 401, reasons: r(malformed, unknown)},
		{name: "apikey/invalid-utf8", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Key+"\xff\xfe") }), status: 401, reasons: r(malformed)},
		{name: "apikey/tab", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", "\t"+e.fx.Read.Key) }), status: 401, reasons: r(malformed, unknown)},
		{name: "apikey/expired", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Old.Key) }), status: 401, reasons: r(expired)},
		{name: "apikey/bound-wrong-network", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Bound.Key) }), status: 401, reasons: r(binding)},
		{name: "apikey/bound-forged-xff", req: on("k", func(e *env, r *hostsim.Request) {
			set(r, "x-api-key", e.fx.Bound.Key)
			add(r, "x-forwarded-for", "10.9.1.1")
		}), status: 401, reasons: r(binding)},
		{name: "apikey/in-query-only", req: on("k", func(e *env, r *hostsim.Request) {
			r.Path += "?x-api-key=" + e.fx.Read.Key
			del(r, "x-api-key")
		}), status: 401, reasons: r(missing)},
		{name: "apikey/wrong-scheme", req: on("k", func(e *env, r *hostsim.Request) {
			del(r, "x-api-key")
			set(r, "authorization", "Bearer "+e.fx.Read.Key)
		}), status: 401, reasons: r(missing)},
		{name: "apikey/empty-scheme-value", req: on("k", func(e *env, r *hostsim.Request) {
			del(r, "x-api-key")
			set(r, "authorization", "ApiKey ")
		}), status: 401, reasons: r(missing, malformed)},
		{name: "apikey/hash-as-key", req: on("k", func(e *env, r *hostsim.Request) { set(r, "x-api-key", e.fx.Read.Hash) }), status: 401, reasons: r(unknown)},
		{name: "apikey/read-key-on-admin", req: on("admin", func(e *env, r *hostsim.Request) { set(r, "authorization", "ApiKey "+e.fx.Read.Key) }), status: 403, reasons: r(scope)},
		{name: "apikey/forged-identity-no-key", req: on("k", func(e *env, r *hostsim.Request) {
			del(r, "x-api-key")
			add(r, "x-tokengate-subject", "svc-admin")
			add(r, "x-tokengate-scopes", "read admin")
		}), status: 401, reasons: r(missing)},
		{name: "apikey/forged-scopes-on-admin", req: on("admin", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "ApiKey "+e.fx.Read.Key)
			add(r, "x-tokengate-scopes", "admin")
			add(r, "x-tokengate-subject", "svc-admin")
		}), status: 403, reasons: r(scope)},
		{name: "apikey/huge-header-count-ambiguous", req: on("k", func(e *env, r *hostsim.Request) {
			for i := 0; i < 500; i++ {
				add(r, "x-api-key", e.fx.Read.Key)
			}
		}), status: 401, reasons: r(ambiguous)},
		{name: "apikey/huge-header-count-missing", req: on("k", func(e *env, r *hostsim.Request) {
			del(r, "x-api-key")
			r.Headers = append(r.Headers, junkHeaders(2000)...)
		}), status: 401, reasons: r(missing)},

		// --- path tricks against the admin scope ---------------------------
		{name: "path/dotdot-into-admin", req: path("/k/../admin/x", true), status: 403, reasons: r(scope)},
		{name: "path/encoded-dotdot", req: path("/k/%2e%2e/admin/x", true), status: 403, reasons: r(scope)},
		{name: "path/encoded-slash", req: path("/k%2fadmin/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/encoded-backslash", req: path("/k/..%5cadmin/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/double-encoded-dotdot", req: path("/k/%252e%252e/admin/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/upper-case-admin", req: path("/ADMIN/x", true), status: 403, reasons: r(noRule)},
		{name: "path/params", req: path("/admin;jsessionid=1/x", true), status: 403, reasons: r(scope)},
		{name: "path/encoded-semicolon", req: path("/admin%3bx/y", true), status: 400, reasons: r(badRequest, scope, noRule)},
		{name: "path/nul", req: path("/admin%00/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/raw-control", req: path("/admin\x01/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/invalid-utf8", req: path("/admin/%ff", true), status: 400, reasons: r(badRequest)},
		{name: "path/overlong-utf8-slash", req: path("/k/..%c0%afadmin", true), status: 400, reasons: r(badRequest)},
		{name: "path/double-slash", req: path("//admin//x", true), status: 403, reasons: r(scope)},
		{name: "path/dot-segment", req: path("/./admin/./x", true), status: 403, reasons: r(scope)},
		{name: "path/above-root", req: path("/../admin/x", true), status: 400, reasons: r(badRequest)},
		{name: "path/no-leading-slash", req: path("admin/x", true), status: 400, reasons: r(badRequest, noRule)},
		{name: "path/asterisk", req: path("*", true), status: 400, reasons: r(badRequest, noRule)},
		{name: "path/absolute-uri", req: path("http://api.test/admin/x", true), status: 400, reasons: r(badRequest, noRule)},
		{name: "path/too-long", req: path("/admin/"+strings.Repeat("a", 9000), true), status: 400, reasons: r(badRequest)},
		{name: "path/trailing-dot-admin", req: path("/admin./x", true), status: 403, reasons: r(noRule)},
		{name: "path/tomcat-dotdot-semicolon", req: path("/healthz/..;/admin/x", false), status: 401, reasons: r(missing, badRequest)},
		{name: "path/fragment", req: path("/admin#/healthz", true), status: 400, reasons: r(badRequest, scope, noRule)},
		{name: "path/healthz-post", req: func(_ *testing.T, e *env) hostsim.Request { return hostsim.Request{Method: "POST", Path: "/healthz"} }, status: 403, reasons: r(noRule)},
		{name: "path/healthz-dotdot-admin", req: path("/healthz/../admin", false), status: 401, reasons: r(missing)},
		{name: "path/no-rule", req: path("/nowhere", true), status: 403, reasons: r(noRule)},

		// --- header smuggling ------------------------------------------------
		{name: "smuggle/second-path", req: on("k", func(e *env, r *hostsim.Request) { add(r, ":path", "/healthz") }), status: 400, reasons: r(badRequest)},
		{name: "smuggle/second-method", req: on("k", func(e *env, r *hostsim.Request) { add(r, ":method", "GET") }), status: 400, reasons: r(badRequest)},
		{name: "smuggle/second-authority", req: on("k", func(e *env, r *hostsim.Request) { add(r, ":authority", "evil.test") }), status: 400, reasons: r(badRequest)},
		{name: "smuggle/authority-invalid-utf8", req: func(_ *testing.T, e *env) hostsim.Request {
			return hostsim.Request{Method: "GET", Path: "/admin/x", Authority: "api.test\xff\x00:80"}
		}, status: 401, reasons: r(missing, badRequest)},
		{name: "smuggle/authority-with-userinfo", req: func(_ *testing.T, e *env) hostsim.Request {
			return hostsim.Request{Method: "GET", Path: "/admin/x", Authority: "healthz@api.test"}
		}, status: 401, reasons: r(missing, badRequest)},
		{name: "smuggle/identity-prefix-variants", req: on("admin", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "ApiKey "+e.fx.Read.Key)
			add(r, "x-tokengate-role", "admin")
			add(r, "x-tokengate-provider", "keys")
		}), status: 403, reasons: r(scope)},

		// --- ip_rule and client address ------------------------------------
		{name: "ip/denied-range", req: on("ip", func(e *env, r *hostsim.Request) { r.SourceAddress = "10.66.1.1:1000" }), status: 403, reasons: r(denied)},
		{name: "ip/outside", req: on("ip", func(e *env, r *hostsim.Request) { r.SourceAddress = "192.0.2.1:1000" }), status: 403, reasons: r(denied)},
		{name: "ip/mapped-v6-denied", req: on("ip", func(e *env, r *hostsim.Request) { r.SourceAddress = "[::ffff:10.66.0.1]:1000" }), status: 403, reasons: r(denied)},
		{name: "ip/v6-outside", req: on("ip", func(e *env, r *hostsim.Request) { r.SourceAddress = "[2001:db9::1]:1000" }), status: 403, reasons: r(denied)},
		{name: "ip/forged-xff", req: on("ip", func(e *env, r *hostsim.Request) {
			r.SourceAddress = "192.0.2.1:1000"
			add(r, "x-forwarded-for", "10.1.1.1")
		}), status: 403, reasons: r(denied)},
		{name: "ip/forged-x-real-ip", req: on("ip", func(e *env, r *hostsim.Request) {
			r.SourceAddress = "192.0.2.1:1000"
			add(r, "x-real-ip", "10.1.1.1")
			add(r, "forwarded", "for=10.1.1.1")
		}), status: 403, reasons: r(denied)},
		{name: "ip/both-outside-with-key", req: on("both", func(e *env, r *hostsim.Request) { r.SourceAddress = "192.0.2.9:1" }), status: 403, reasons: r(denied)},
		{name: "ip/both-inside-no-key", req: on("both", func(e *env, r *hostsim.Request) { del(r, "x-api-key") }), status: 401, reasons: r(missing)},
		{name: "ip/garbage-source", req: on("ip", func(e *env, r *hostsim.Request) { r.SourceAddress = "not-an-address" }), status: 403, reasons: r(denied)},

		// --- rolling_code ---------------------------------------------------
		{name: "rc/missing", req: on("rc", func(e *env, r *hostsim.Request) { del(r, "x-rolling-code") }), status: 401, reasons: r(missing)},
		{name: "rc/wrong", req: on("rc", func(e *env, r *hostsim.Request) { set(r, "x-rolling-code", flipAt(get(r, "x-rolling-code"), 0)) }), status: 401, reasons: r(badSig, unknown)},
		{name: "rc/previous-window-past-skew", req: on("rc", func(e *env, r *hostsim.Request) {
			set(r, "x-rolling-code", e.fx.RollingCode(e.now.Add(-33*time.Second)))
		}), status: 401, reasons: r(badSig, expired)},
		{name: "rc/next-window-beyond-skew", req: on("rc", func(e *env, r *hostsim.Request) {
			set(r, "x-rolling-code", e.fx.RollingCode(e.now.Add(60*time.Second)))
		}), status: 401, reasons: r(badSig, notYet)},
		{name: "rc/unknown-client", req: on("rc", func(e *env, r *hostsim.Request) { set(r, "x-rolling-code-client", "mallory") }), status: 401, reasons: r(unknown)},
		{name: "rc/replay-same-vm", req: replay("rc", 0, nextWindow), worker: 0, status: 401, reasons: r(replayed)},
		{name: "rc/replay-across-vms", req: replay("rc", 0, nextWindow), worker: 1, status: 401, reasons: r(replayed)},
		{name: "rc/truncated", req: on("rc", func(e *env, r *hostsim.Request) {
			c := get(r, "x-rolling-code")
			set(r, "x-rolling-code", c[:len(c)-1])
		}), status: 401, reasons: r(malformed, badSig)},
		{name: "rc/oversize", req: on("rc", func(e *env, r *hostsim.Request) { set(r, "x-rolling-code", strings.Repeat("a", 1000)) }), status: 401, reasons: r(malformed, oversize, badSig)},
		{name: "rc/nul", req: on("rc", func(e *env, r *hostsim.Request) {
			c := get(r, "x-rolling-code")
			set(r, "x-rolling-code", c[:4]+"\x00"+c[5:])
		}), status: 401, reasons: r(malformed, badSig)},
		{name: "rc/outside-alphabet", req: on("rc", func(e *env, r *hostsim.Request) { c := get(r, "x-rolling-code"); set(r, "x-rolling-code", c[:7]+"!") }), status: 401, reasons: r(malformed, badSig)},
		{name: "rc/duplicate-code", req: on("rc", func(e *env, r *hostsim.Request) { add(r, "x-rolling-code", get(r, "x-rolling-code")) }), status: 401, reasons: r(ambiguous)},
		{name: "rc/conflicting-clients", req: on("rc", func(e *env, r *hostsim.Request) { add(r, "x-rolling-code-client", "other") }), status: 401, reasons: r(ambiguous)},
		{name: "rc/no-client-header", req: on("rc", func(e *env, r *hostsim.Request) { del(r, "x-rolling-code-client") }), status: 401, reasons: r(missing, unknown, malformed)},

		// --- scoped_token ---------------------------------------------------
		{name: "st/missing", req: on("st", func(e *env, r *hostsim.Request) { del(r, "authorization") }), status: 401, reasons: r(missing)},
		{name: "st/bad-signature", req: on("st", func(e *env, r *hostsim.Request) { set(r, "authorization", flipLast(get(r, "authorization"))) }), status: 401, reasons: r(badSig)},
		{name: "st/other-secret", req: on("st", func(e *env, r *hostsim.Request) {
			s, _ := token.ScopedToken(otherSecret, token.ScopedClaims{User: 7, MaxAge: 300, Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/st"}}}}, e.now, token.ScopedOptions{})
			set(r, "authorization", "TmpToken "+s)
		}), status: 401, reasons: r(badSig)},
		{name: "st/unknown-user", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(8, "GET", "/st", 300, e.now))
		}), status: 401, reasons: r(unknown)},
		{name: "st/expired", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(7, "GET", "/st", 300, e.now.Add(-301*time.Second)))
		}), status: 401, reasons: r(expired)},
		{name: "st/future", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(7, "GET", "/st", 300, e.now.Add(time.Hour)))
		}), status: 401, reasons: r(notYet)},
		{name: "st/future-skew-edge", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(7, "GET", "/st", 300, e.now.Add(62*time.Second)))
		}), status: 401, reasons: r(notYet)},
		{name: "st/other-prefix", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(7, "GET", "/other", 300, e.now))
		}), status: 403, reasons: r(scope)},
		{name: "st/prefix-not-segment", req: on("st", func(e *env, r *hostsim.Request) {
			r.Path = "/stx"
		}), status: 403, reasons: r(noRule)},
		{name: "st/other-method", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "TmpToken "+e.fx.Scoped(7, "POST", "/st", 300, e.now))
		}), status: 403, reasons: r(scope)},
		{name: "st/truncated", req: on("st", func(e *env, r *hostsim.Request) { v := get(r, "authorization"); set(r, "authorization", v[:len(v)/2]) }), status: 401, reasons: r(malformed, badSig)},
		{name: "st/wrong-keyword", req: on("st", func(e *env, r *hostsim.Request) { set(r, "authorization", "Bearer "+tokenOf(get(r, "authorization"))) }), status: 401, reasons: r(missing)},
		// A failing keyword header never falls back to a valid query token.
		{name: "st/bad-header-valid-query", req: on("st", func(e *env, r *hostsim.Request) {
			r.Path += "?TOKEN=" + e.fx.Scoped(7, "GET", "/st", 299, e.now)
			set(r, "authorization", "TmpToken a b")
		}), status: 401, reasons: r(malformed)},
		{name: "st/query-twice", req: on("st", func(e *env, r *hostsim.Request) {
			del(r, "authorization")
			r.Path += "?TOKEN=" + e.fx.Scoped(7, "GET", "/st", 299, e.now) + "&TOKEN=" + e.fx.Scoped(7, "GET", "/st", 298, e.now)
		}), status: 401, reasons: r(ambiguous)},
		{name: "st/query-bad-escape", req: on("st", func(e *env, r *hostsim.Request) {
			del(r, "authorization")
			r.Path += "?TOKEN=%zz"
		}), status: 401, reasons: r(malformed)},
		{name: "st/legacy-sha1", req: on("st", func(e *env, r *hostsim.Request) {
			s, _ := token.ScopedToken(e.fx.DjangoSecret, token.ScopedClaims{User: 7, MaxAge: 300, Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/st"}}}}, e.now, token.ScopedOptions{Algorithm: "sha1"})
			e.fx.Scan.Add(s)
			set(r, "authorization", "TmpToken "+s)
		}), status: 401, reasons: r(badSig)},
		{name: "st/oversize", req: on("st", func(e *env, r *hostsim.Request) {
			set(r, "authorization", get(r, "authorization")+strings.Repeat("A", 20000))
		}), status: 401, reasons: r(oversize, malformed, badSig)},
		{name: "st/invalid-utf8", req: on("st", func(e *env, r *hostsim.Request) { set(r, "authorization", get(r, "authorization")+"\xff") }), status: 401, reasons: r(malformed, badSig)},

		// --- jwt ------------------------------------------------------------
		{name: "jwt/missing", req: on("jwt", func(e *env, r *hostsim.Request) { del(r, "authorization") }), status: 401, reasons: r(missing)},
		{name: "jwt/alg-none", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"none","typ":"JWT"}`, claims(e.now, ""), nil))
		}), status: 401, reasons: r(algorithm, malformed)},
		{name: "jwt/alg-None-mixed-case", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"nOnE"}`, claims(e.now, ""), nil))
		}), status: 401, reasons: r(algorithm, malformed)},
		{name: "jwt/hs256-with-public-key", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"HS256","typ":"JWT"}`, claims(e.now, ""), hsSign([]byte(e.fx.EdPEM))))
		}), status: 401, reasons: r(algorithm)},
		{name: "jwt/es256-other-key", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"ES256","typ":"JWT"}`, claims(e.now, ""), esSign(e.fx.ECKey)))
		}), status: 401, reasons: r(algorithm)},
		{name: "jwt/eddsa-attacker-key", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","typ":"JWT"}`, claims(e.now, ""), edSign(attackerEd)))
		}), status: 401, reasons: r(badSig)},
		{name: "jwt/embedded-jwk", req: on("jwt", func(e *env, r *hostsim.Request) {
			pub := b64.EncodeToString(attackerEd.Public().(ed25519.PublicKey))
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"`+pub+`"}}`, claims(e.now, ""), edSign(attackerEd)))
		}), status: 401, reasons: r(badSig, malformed)},
		{name: "jwt/jku-injection", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","jku":"http://evil.test/jwks.json","kid":"evil"}`, claims(e.now, ""), edSign(attackerEd)))
		}), status: 401, reasons: r(badSig, unknown, malformed)},
		{name: "jwt/kid-path-injection", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","kid":"../../../../dev/null"}`, claims(e.now, ""), edSign(attackerEd)))
		}), status: 401, reasons: r(badSig, unknown, malformed)},
		{name: "jwt/kid-sql-injection", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","kid":"x' UNION SELECT 'secret"}`, claims(e.now, ""), hsSign([]byte("secret"))))
		}), status: 401, reasons: r(badSig, unknown, malformed)},
		{name: "jwt/expired", req: on("jwt", func(e *env, r *hostsim.Request) { jwtAuth(e, r, e.fx.JWT(e.now.Add(-2*time.Minute), nil)) }), status: 401, reasons: r(expired)},
		{name: "jwt/exp-equals-now", req: on("jwt", func(e *env, r *hostsim.Request) { jwtAuth(e, r, e.fx.JWT(e.now.Add(-time.Minute), nil)) }), status: 401, reasons: r(expired)},
		{name: "jwt/issued-in-future", req: on("jwt", func(e *env, r *hostsim.Request) { jwtAuth(e, r, e.fx.JWT(e.now.Add(time.Hour), nil)) }), status: 401, reasons: r(notYet)},
		{name: "jwt/nbf-future", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA"}`, claims(e.now, `"nbf":`+strconv.FormatInt(e.now.Add(time.Minute).Unix(), 10)), edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(notYet)},
		{name: "jwt/wrong-issuer", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, e.fx.JWT(e.now, func(s *token.JWTSigner) { s.Issuer = "https://evil.test" }))
		}), status: 401, reasons: r(issuer)},
		{name: "jwt/wrong-audience", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, e.fx.JWT(e.now, func(s *token.JWTSigner) { s.Audience = "other.test" }))
		}), status: 401, reasons: r(audience)},
		{name: "jwt/no-exp", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA"}`, `{"iss":"`+fixture.Issuer+`","sub":"robot","aud":"api.test","iat":`+strconv.FormatInt(e.now.Unix(), 10)+`}`, edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(claimsBad)},
		{name: "jwt/exp-as-string", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA"}`, `{"iss":"`+fixture.Issuer+`","sub":"robot","aud":"api.test","exp":"99999999999"}`, edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(claimsBad, malformed)},
		{name: "jwt/duplicate-claim", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA"}`, claims(e.now, `"sub":"admin"`), edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(malformed, claimsBad)},
		{name: "jwt/duplicate-alg", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","alg":"none"}`, claims(e.now, ""), edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(malformed, algorithm)},
		{name: "jwt/unknown-crit", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA","crit":["exp-policy"],"exp-policy":1}`, claims(e.now, ""), edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(malformed, claimsBad, algorithm)},
		{name: "jwt/invalid-utf8-claim", req: on("jwt", func(e *env, r *hostsim.Request) {
			jwtAuth(e, r, rawJWT(`{"alg":"EdDSA"}`, claims(e.now, `"name":"\xff\xfe"`), edSign(e.fx.EdKey)))
		}), status: 401, reasons: r(malformed, claimsBad)},
		{name: "jwt/truncated", req: on("jwt", func(e *env, r *hostsim.Request) { v := get(r, "authorization"); set(r, "authorization", v[:len(v)-10]) }), status: 401, reasons: r(malformed, badSig)},
		{name: "jwt/padded-base64", req: on("jwt", func(e *env, r *hostsim.Request) {
			p := strings.Split(tokenOf(get(r, "authorization")), ".")
			set(r, "authorization", "Bearer "+p[0]+"=."+p[1]+"."+p[2])
		}), status: 401, reasons: r(malformed)},
		{name: "jwt/std-base64-signature", req: on("jwt", func(e *env, r *hostsim.Request) {
			p := strings.Split(tokenOf(get(r, "authorization")), ".")
			sig, _ := b64.DecodeString(p[2])
			set(r, "authorization", "Bearer "+p[0]+"."+p[1]+"."+base64.StdEncoding.EncodeToString(sig))
		}), status: 401, reasons: r(malformed, badSig)},
		{name: "jwt/trailing-dot", req: on("jwt", func(e *env, r *hostsim.Request) { set(r, "authorization", get(r, "authorization")+".") }), status: 401, reasons: r(malformed)},
		{name: "jwt/jwe-shape", req: on("jwt", func(e *env, r *hostsim.Request) { set(r, "authorization", get(r, "authorization")+".a.b") }), status: 401, reasons: r(malformed)},
		{name: "jwt/signature-stripped", req: on("jwt", func(e *env, r *hostsim.Request) {
			p := strings.Split(tokenOf(get(r, "authorization")), ".")
			set(r, "authorization", "Bearer "+p[0]+"."+p[1]+".")
		}), status: 401, reasons: r(malformed, badSig)},
		{name: "jwt/payload-swapped", req: on("jwt", func(e *env, r *hostsim.Request) {
			p := strings.Split(tokenOf(get(r, "authorization")), ".")
			other := strings.Split(e.fx.JWT(e.now, func(s *token.JWTSigner) { s.Subject = "admin" }), ".")
			set(r, "authorization", "Bearer "+p[0]+"."+other[1]+"."+p[2])
		}), status: 401, reasons: r(badSig)},
		{name: "jwt/oversize", req: on("jwt", func(e *env, r *hostsim.Request) {
			set(r, "authorization", get(r, "authorization")+strings.Repeat("A", 9000))
		}), status: 401, reasons: r(oversize)},
		{name: "jwt/duplicate-authorization", req: on("jwt", func(e *env, r *hostsim.Request) { add(r, "authorization", "Bearer "+e.fx.JWT(e.now, nil)) }), status: 401, reasons: r(ambiguous)},
		{name: "jwt/nul", req: on("jwt", func(e *env, r *hostsim.Request) {
			v := get(r, "authorization")
			set(r, "authorization", v[:20]+"\x00"+v[21:])
		}), status: 401, reasons: r(malformed, badSig)},

		// --- authnzerver_key -----------------------------------------------
		{name: "az/missing", req: on("az", func(e *env, r *hostsim.Request) { del(r, "authorization") }), status: 401, reasons: r(missing)},
		{name: "az/garbage", req: on("az", func(e *env, r *hostsim.Request) { set(r, "authorization", "Bearer gAAAAAgarbage") }), status: 401, reasons: r(malformed, badSig)},
		{name: "az/other-fernet-key", req: on("az", func(e *env, r *hostsim.Request) {
			s, _ := token.AuthnzerverAPIKey(otherFernet(), token.AuthnzerverKey{Issuer: "authnzerver", Version: 1, UserID: 42, Audience: fixture.Audience, Subject: "all", IPAddress: fixture.ClientIP, IssuedAt: e.now, NotBefore: e.now.Add(-time.Minute), Expires: e.now.Add(time.Hour)}, e.now, nil)
			e.fx.Scan.Add(s)
			set(r, "authorization", "Bearer "+s)
		}), status: 401, reasons: r(badSig)},
		{name: "az/bit-flip", req: on("az", func(e *env, r *hostsim.Request) {
			v := get(r, "authorization")
			set(r, "authorization", flipAt(v, len(v)-20))
		}), status: 401, reasons: r(badSig, malformed)},
		{name: "az/expired", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.Expires = e.now.Add(-time.Second) }))
		}), status: 401, reasons: r(expired)},
		{name: "az/not-yet-valid", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.NotBefore = e.now.Add(time.Hour) }))
		}), status: 401, reasons: r(notYet)},
		{name: "az/fernet-ttl-exceeded", req: on("az", func(e *env, r *hostsim.Request) {
			old := e.now.Add(-2 * time.Hour)
			set(r, "authorization", "Bearer "+e.fx.Authnz(old, func(k *token.AuthnzerverKey) { k.Expires = e.now.Add(time.Hour) }))
		}), status: 401, reasons: r(expired)},
		{name: "az/wrong-issuer", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.Issuer = "evil" }))
		}), status: 401, reasons: r(issuer)},
		{name: "az/wrong-audience", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.Audience = "other.test" }))
		}), status: 401, reasons: r(audience)},
		{name: "az/version-type", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.Version = "1" }))
		}), status: 401, reasons: r(claimsBad)},
		{name: "az/ip-binding", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.IPAddress = "10.9.9.9" }))
		}), status: 401, reasons: r(binding)},
		{name: "az/ip-binding-forged-xff", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.IPAddress = "10.9.9.9" }))
			add(r, "x-forwarded-for", "10.9.9.9")
		}), status: 401, reasons: r(binding)},
		{name: "az/subject-path", req: on("az", func(e *env, r *hostsim.Request) {
			set(r, "authorization", "Bearer "+e.fx.Authnz(e.now, func(k *token.AuthnzerverKey) { k.Subject = "/other" }))
		}), status: 403, reasons: r(scope)},
		{name: "az/duplicate", req: on("az", func(e *env, r *hostsim.Request) { add(r, "authorization", get(r, "authorization")) }), status: 401, reasons: r(ambiguous)},

		// --- signed_payload -------------------------------------------------
		{name: "sp/missing", req: on("sp", func(e *env, r *hostsim.Request) { del(r, "x-signed-payload") }), status: 401, reasons: r(missing)},
		{name: "sp/other-key", req: on("sp", func(e *env, r *hostsim.Request) {
			set(r, "x-signed-payload", token.BottleshipSign(`{"report":1}`, []byte("an-attacker-key-0123456789")))
		}), status: 401, reasons: r(badSig)},
		{name: "sp/data-swapped", req: on("sp", func(e *env, r *hostsim.Request) {
			v := get(r, "x-signed-payload")
			set(r, "x-signed-payload", v[:strings.IndexByte(v, '?')+1]+base64.StdEncoding.EncodeToString([]byte(`{"report":2}`)))
		}), status: 401, reasons: r(badSig)},
		{name: "sp/no-bang", req: on("sp", func(e *env, r *hostsim.Request) { set(r, "x-signed-payload", get(r, "x-signed-payload")[1:]) }), status: 401, reasons: r(malformed)},
		{name: "sp/no-question", req: on("sp", func(e *env, r *hostsim.Request) {
			set(r, "x-signed-payload", strings.Replace(get(r, "x-signed-payload"), "?", "", 1))
		}), status: 401, reasons: r(malformed, badSig)},
		{name: "sp/unpadded-data", req: on("sp", func(e *env, r *hostsim.Request) {
			set(r, "x-signed-payload", strings.TrimRight(e.fx.Payload(`{"report":12}`), "="))
		}), status: 401, reasons: r(badSig, malformed)},
		{name: "sp/stray-base64-byte", req: on("sp", func(e *env, r *hostsim.Request) {
			text := base64.StdEncoding.EncodeToString([]byte(`{"report":1}`))
			text = text[:4] + "\n" + text[4:]
			h := hmac.New(sha256.New, e.fx.PayloadKey)
			h.Write([]byte(text))
			v := "!" + base64.StdEncoding.EncodeToString(h.Sum(nil)) + "?" + text
			e.fx.Scan.Add(v)
			set(r, "x-signed-payload", v)
		}), status: 401, reasons: r(malformed)},
		{name: "sp/oversize", req: on("sp", func(e *env, r *hostsim.Request) { set(r, "x-signed-payload", e.fx.Payload(strings.Repeat("x", 9000))) }), status: 401, reasons: r(oversize)},
		{name: "sp/duplicate", req: on("sp", func(e *env, r *hostsim.Request) { add(r, "x-signed-payload", e.fx.Payload("other")) }), status: 401, reasons: r(ambiguous)},
		{name: "sp/empty-mac", req: on("sp", func(e *env, r *hostsim.Request) { set(r, "x-signed-payload", "!?e30=") }), status: 401, reasons: r(malformed, badSig)},

		// --- http_signature -------------------------------------------------
		{name: "hs/missing", req: on("hs", func(e *env, r *hostsim.Request) { r.Headers = nil }), status: 401, reasons: r(missing)},
		{name: "hs/other-path", req: on("hs", func(e *env, r *hostsim.Request) { r.Headers = e.fx.HTTPSig("GET", "/hs/other", e.now, nil) }), status: 401, reasons: r(badSig)},
		{name: "hs/other-method", req: on("hs", func(e *env, r *hostsim.Request) { r.Headers = e.fx.HTTPSig("POST", r.Path, e.now, nil) }), status: 401, reasons: r(badSig)},
		{name: "hs/other-authority", req: on("hs", func(e *env, r *hostsim.Request) { r.Authority = "evil.test" }), status: 401, reasons: r(badSig)},
		{name: "hs/unknown-keyid", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now, func(s *token.HTTPSigner) { s.KeyID = "mallory" })
		}), status: 401, reasons: r(unknown)},
		{name: "hs/wrong-secret", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now, func(s *token.HTTPSigner) { s.Key = []byte(strings.Repeat("k", 40)) })
		}), status: 401, reasons: r(badSig)},
		{name: "hs/ed25519-key-for-hmac-keyid", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now, func(s *token.HTTPSigner) { s.Key = attackerEd; s.Algorithm = "ed25519" })
		}), status: 401, reasons: r(algorithm, badSig)},
		{name: "hs/too-old", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now.Add(-10*time.Minute), nil)
		}), status: 401, reasons: r(expired)},
		{name: "hs/future-beyond-skew", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now.Add(6*time.Second), nil)
		}), status: 401, reasons: r(notYet)},
		{name: "hs/expires-passed", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now.Add(-2*time.Second), func(s *token.HTTPSigner) { s.Expires = time.Second })
		}), status: 401, reasons: r(expired)},
		{name: "hs/input-without-signature", req: on("hs", func(e *env, r *hostsim.Request) { del(r, "signature") }), status: 401, reasons: r(malformed, missing)},
		{name: "hs/signature-without-input", req: on("hs", func(e *env, r *hostsim.Request) { del(r, "signature-input") }), status: 401, reasons: r(malformed, missing)},
		{name: "hs/missing-required-component", req: on("hs", func(e *env, r *hostsim.Request) {
			r.Headers = e.fx.HTTPSig("GET", r.Path, e.now, func(s *token.HTTPSigner) { s.Components = []string{"@method"} })
		}), status: 401, reasons: r(claimsBad, malformed)},
		{name: "hs/tampered-signature", req: on("hs", func(e *env, r *hostsim.Request) {
			v := get(r, "signature")
			set(r, "signature", flipAt(v, len(v)-5))
		}), status: 401, reasons: r(badSig, malformed)},
		{name: "hs/duplicate-signature", req: on("hs", func(e *env, r *hostsim.Request) { add(r, "signature", get(r, "signature")) }), status: 401, reasons: r(ambiguous, malformed)},
		{name: "hs/nonce-replay-across-vms", req: func(t *testing.T, e *env) hostsim.Request {
			req := hostsim.Request{Method: "GET", Path: "/hs/n"}
			req.Headers = e.fx.HTTPSig("GET", req.Path, e.now, func(s *token.HTTPSigner) { s.Nonce = true })
			if res := e.sendT(t, 0, req); res.Outcome != hostsim.OutcomeForwarded {
				t.Fatalf("first use: %s", summary(res))
			}
			return req
		}, worker: 1, status: 401, reasons: r(replayed)},
		{name: "hs/oversize", req: on("hs", func(e *env, r *hostsim.Request) {
			set(r, "signature-input", get(r, "signature-input")+strings.Repeat(";x=1", 3000))
		}), status: 401, reasons: r(oversize, malformed)},

		// --- session (callout) ----------------------------------------------
		{name: "sess/missing", req: on("sess", func(e *env, r *hostsim.Request) { r.Headers = nil }), status: 401, reasons: r(missing)},
		{name: "sess/unknown", req: on("sess", func(e *env, r *hostsim.Request) { set(r, "cookie", "Token=nosuchsession0123456789") }), status: 401, reasons: r(unknown)},
		{name: "sess/oversize", req: on("sess", func(e *env, r *hostsim.Request) { set(r, "cookie", "Token="+strings.Repeat("a", 300)) }), status: 401, reasons: r(oversize)},
		{name: "sess/duplicate-cookie", req: on("sess", func(e *env, r *hostsim.Request) { set(r, "cookie", get(r, "cookie")+"; Token=other0123456789") }), status: 401, reasons: r(ambiguous)},
		{name: "sess/duplicate-cookie-headers", req: on("sess", func(e *env, r *hostsim.Request) { add(r, "cookie", "Token=other0123456789") }), status: 401, reasons: r(ambiguous)},
		{name: "sess/garbage-answer", req: withMode("auth", "garbage", on("sess", nil)), status: 503, reasons: r(calloutBad)},
		{name: "sess/5xx-answer", req: withMode("auth", "500", on("sess", nil)), status: 503, reasons: r(calloutBad)},

		// --- introspection (callout) ----------------------------------------
		{name: "intro/missing", req: on("intro", func(e *env, r *hostsim.Request) { r.Headers = nil }), status: 401, reasons: r(missing)},
		{name: "intro/inactive", req: on("intro", func(e *env, r *hostsim.Request) { set(r, "authorization", "Bearer inactive-token-0123456789") }), status: 401, reasons: r(unknown)},
		{name: "intro/oversize", req: on("intro", func(e *env, r *hostsim.Request) { set(r, "authorization", "Bearer "+strings.Repeat("a", 5000)) }), status: 401, reasons: r(oversize)},
		{name: "intro/duplicate", req: on("intro", func(e *env, r *hostsim.Request) { add(r, "authorization", "Bearer other-token-0123456789") }), status: 401, reasons: r(ambiguous)},
		{name: "intro/garbage-answer", req: withMode("idp", "garbage", on("intro", nil)), status: 503, reasons: r(calloutBad)},
		{name: "intro/5xx-answer", req: withMode("idp", "500", on("intro", nil)), status: 503, reasons: r(calloutBad)},
	}
}

// statusOf is the documented status of a reason (plugin/README.md, Refusals).
func statusOf(reason string) int {
	switch reason {
	case scope, "role_not_allowed", denied, noRule:
		return 403
	case "rate_limited":
		return 429
	case badRequest:
		return 400
	case calloutBad, "callout_timeout", "replay_store_full":
		return 503
	case "internal_error":
		return 500
	}
	return 401
}

// withMode switches a callout service's behaviour for one case.
func withMode(cluster, mode string, b func(*testing.T, *env) hostsim.Request) func(*testing.T, *env) hostsim.Request {
	return func(t *testing.T, e *env) hostsim.Request {
		e.svc.SetMode(cluster, mode)
		t.Cleanup(func() { e.svc.SetMode(cluster, "") })
		return b(t, e)
	}
}

var _ = big.NewInt

// TestHostile runs the table on one module with two worker VMs: each
// case is a local reply with the expected status and one of its reasons,
// and nothing reaches the upstream.
func TestHostile(t *testing.T) {
	cases := attacks()
	if len(cases) < 120 {
		t.Fatalf("only %d hostile cases; the suite promises at least 120", len(cases))
	}
	e := newEnv(t)
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			req := c.req(t, e)
			res := e.sendT(t, c.worker, req)
			if res.Outcome != hostsim.OutcomeLocalReply {
				t.Fatalf("%s: want a local reply %d %v; nothing may reach the upstream", summary(res), c.status, c.reasons)
			}
			got := reason(res)
			ok := false
			for _, want := range c.reasons {
				ok = ok || got == want
			}
			if !ok || res.Status != statusOf(got) || (res.Status != c.status && len(c.reasons) == 1) {
				t.Errorf("got %d %q, want %d %v", res.Status, got, c.status, c.reasons)
			}
			// The VM that refused must still serve: the next valid
			// request on it is forwarded.
			if t.Failed() {
				return
			}
		})
	}
	// Both VMs are healthy after the whole table.
	for w := 0; w < 2; w++ {
		if res := e.send(w, valid(e, "k")); res.Outcome != hostsim.OutcomeForwarded {
			t.Errorf("worker %d after the table: %s", w, summary(res))
		}
	}
	t.Logf("%d hostile cases", len(cases))
}

// keep the elliptic import honest for future P-384 cases.
var _ = elliptic.P256
