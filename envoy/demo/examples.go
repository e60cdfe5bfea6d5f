package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokengate/tokengate/plugin/token"
)

// Example is one request to try against the demo.
type Example struct {
	Kind    string // the route / credential kind
	Allowed bool
	Status  int    // what the demo answers
	Reason  string // the refusal's reason code ("" when allowed)
	Note    string // one line for people
	// Fresh, when not empty, is the tokengate mint command (arguments after
	// "tokengate") that makes a new credential of this kind: the printed
	// one is short-lived or single use.
	Fresh   []string
	Method  string
	URL     string
	Headers [][2]string
	Body    string
}

// Curl is the example as a ready-to-paste curl command line.
func (e Example) Curl() string {
	var b strings.Builder
	b.WriteString("curl -i")
	if e.Method != "GET" && !(e.Method == "POST" && e.Body != "") {
		b.WriteString(" -X " + e.Method)
	}
	for _, h := range e.Headers {
		b.WriteString(" -H " + ShellQuote(h[0]+": "+h[1]))
	}
	if e.Body != "" {
		b.WriteString(" --data-binary " + ShellQuote(e.Body))
	}
	b.WriteString(" " + ShellQuote(e.URL))
	return b.String()
}

// WriteExamples prints the examples grouped by kind: for each, a comment
// line "# allowed: 200 — note" or "# refused: 401 reason — note", the curl
// line, and for short-lived credentials a comment with the command (cli,
// e.g. "tokengate") that mints a fresh one.
func WriteExamples(w io.Writer, ex []Example, cli string) {
	kind := ""
	for _, e := range ex {
		if e.Kind != kind {
			kind = e.Kind
			fmt.Fprintf(w, "\n## %s\n", kind)
		}
		verdict := fmt.Sprintf("allowed: %d", e.Status)
		if !e.Allowed {
			verdict = fmt.Sprintf("refused: %d %s", e.Status, e.Reason)
		}
		fmt.Fprintf(w, "# %s — %s\n%s\n", verdict, e.Note, e.Curl())
		if len(e.Fresh) > 0 {
			q := make([]string, len(e.Fresh))
			for i, a := range e.Fresh {
				q[i] = ShellWord(a)
			}
			fmt.Fprintf(w, "#   fresh credential: %s %s\n", cli, strings.Join(q, " "))
		}
	}
}

// ShellWord quotes a only when a shell would read it differently.
func ShellWord(a string) string {
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:=,@+-", c)) {
			return ShellQuote(a)
		}
	}
	if a == "" {
		return "''"
	}
	return a
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Examples mints fresh credentials for the demo served at base (for example
// "http://127.0.0.1:8080") at instant now and returns the examples in the
// order they should be run (the rate-limited one relies on the allowed one
// before it).
func (s *Setup) Examples(base string, now time.Time) ([]Example, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	host := u.Host
	var out []Example
	add := func(kind string, allowed bool, status int, reason, note, method, path string, headers [][2]string, body string) {
		out = append(out, Example{Kind: kind, Allowed: allowed, Status: status, Reason: reason, Note: note,
			Method: method, URL: strings.TrimRight(base, "/") + path, Headers: headers, Body: body})
	}

	add("anonymous", true, 200, "", "an anonymous rule", "GET", "/healthz", nil, "")
	add("anonymous", false, 403, "no_matching_rule", "POST matches no rule: default deny", "POST", "/healthz", nil, "")

	add("api_key", true, 200, "", "the demo API key in x-api-key", "GET", "/apikey/orders", [][2]string{{"x-api-key", s.apiKey}}, "")
	add("api_key", false, 401, "credential_missing", "no key", "GET", "/apikey/orders", nil, "")
	add("api_key", false, 403, "insufficient_scope", "the key lacks the admin scope", "GET", "/admin/users",
		[][2]string{{"authorization", "ApiKey " + s.apiKey}}, "")
	add("api_key", true, 200, "", "rate limit: the first request passes", "GET", "/limited/report", [][2]string{{"x-api-key", s.apiKey}}, "")
	add("api_key", false, 429, "rate_limited", "rate limit: the next one within 5 s does not", "GET", "/limited/report", [][2]string{{"x-api-key", s.apiKey}}, "")

	code, err := token.RollingCode(token.RollingConfig{Seed: s.secrets["TG_DEMO_ROLLING_SEED"]}, now)
	if err != nil {
		return nil, err
	}
	add("rolling_code", true, 200, "", "code of this 30 s window", "GET", "/rolling/invoices",
		[][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", code}}, "")
	s.fresh(&out, "mint", "rolling-code", "--seed", "file:"+s.path("tg_demo_rolling_seed"), "--client", "billing")
	add("rolling_code", false, 401, "bad_signature", "a wrong code", "GET", "/rolling/invoices",
		[][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", flip(code)}}, "")

	m2m, err := token.M2MCode(token.M2MConfig{Seed: string(s.secrets["TG_DEMO_M2M_SEED"]), TTL: 30}, now)
	if err != nil {
		return nil, err
	}
	add("m2m_code", true, 200, "", "m2m_token code (single use: a second try is refused as replayed)", "GET", "/m2m/status",
		[][2]string{{"x-rolling-code-client", "reporter"}, {"x-rolling-code", m2m}}, "")
	s.fresh(&out, "mint", "m2m-code", "--seed", "file:"+s.path("tg_demo_m2m_seed"), "--client", "reporter")
	add("m2m_code", false, 401, "bad_signature", "a wrong code", "GET", "/m2m/status",
		[][2]string{{"x-rolling-code-client", "reporter"}, {"x-rolling-code", flip(m2m)}}, "")

	scoped := func(user int64, at time.Time) (string, error) {
		return token.ScopedToken(s.secrets["TG_DEMO_DJANGO_SECRET"], token.ScopedClaims{User: user, MaxAge: 300,
			Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/scoped"}}}}, at, token.ScopedOptions{})
	}
	st, err := scoped(7, now)
	if err != nil {
		return nil, err
	}
	add("scoped_token", true, 200, "", "Django-signed scoped token for user 7, valid 5 min", "GET", "/scoped/export.csv",
		[][2]string{{"authorization", "TmpToken " + st}}, "")
	s.fresh(&out, "mint", "scoped-token", "--secret-key", "file:"+s.path("tg_demo_django_secret"), "--user", "7", "--max-age", "300", "--endpoint", "GET:/scoped")
	old, err := scoped(7, now.Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	add("scoped_token", false, 401, "expired", "the same kind of token, issued an hour ago", "GET", "/scoped/export.csv",
		[][2]string{{"authorization", "TmpToken " + old}}, "")

	jw, err := (&token.JWTSigner{Key: s.botKey, Username: "bot"}).Sign(now)
	if err != nil {
		return nil, err
	}
	add("jwt", true, 200, "", "asymmetric-jwt-auth token (20 s, single use)", "GET", "/jwt/jobs",
		[][2]string{{"authorization", "JWT " + jw}}, "")
	s.fresh(&out, "mint", "jwt", "--key", s.path("bot.key"), "--username", "bot")
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	bad, err := (&token.JWTSigner{Key: stranger, Username: "bot"}).Sign(now)
	if err != nil {
		return nil, err
	}
	add("jwt", false, 401, "bad_signature", "signed by a key the plugin does not know", "GET", "/jwt/jobs",
		[][2]string{{"authorization", "JWT " + bad}}, "")

	bearer := func(aud string) (string, error) {
		return (&token.JWTSigner{Key: s.botKey, Standard: true, Issuer: "tokengate-demo", Subject: "partner-7",
			Audience: aud, TTL: 10 * time.Minute, Scope: "orders:read"}).Sign(now)
	}
	bt, err := bearer("demo-api")
	if err != nil {
		return nil, err
	}
	add("jwt_standard", true, 200, "", "standard bearer JWT (10 min)", "GET", "/bearer/orders",
		[][2]string{{"authorization", "Bearer " + bt}}, "")
	s.fresh(&out, "mint", "jwt", "--standard", "--key", s.path("bot.key"), "--iss", "tokengate-demo", "--sub", "partner-7", "--aud", "demo-api", "--ttl", "10m", "--scope", "orders:read")
	bt2, err := bearer("another-api")
	if err != nil {
		return nil, err
	}
	add("jwt_standard", false, 401, "audience_mismatch", "a token for another audience", "GET", "/bearer/orders",
		[][2]string{{"authorization", "Bearer " + bt2}}, "")

	ak := func(ip string) (string, error) {
		return token.AuthnzerverAPIKey(string(s.secrets["TG_DEMO_FERNET_KEY"]), token.AuthnzerverKey{
			Issuer: "authnzerver", Version: 1, UserID: 7, Role: "staff", Audience: host, Subject: "all",
			IPAddress: ip, IssuedAt: now, NotBefore: now, Expires: now.Add(time.Hour)}, now, nil)
	}
	k1, err := ak("127.0.0.1")
	if err != nil {
		return nil, err
	}
	add("authnzerver_key", true, 200, "", "authnzerver API key bound to 127.0.0.1 (1 h)", "GET", "/authnz/objects",
		[][2]string{{"authorization", "Bearer " + k1}}, "")
	k2, err := ak("192.0.2.10")
	if err != nil {
		return nil, err
	}
	add("authnzerver_key", false, 401, "binding_mismatch", "a key bound to another address", "GET", "/authnz/objects",
		[][2]string{{"authorization", "Bearer " + k2}}, "")

	payload := `{"report":"daily","at":` + now.UTC().Format(`"2006-01-02"`) + `}`
	add("signed_payload", true, 200, "", "bottleship-style signed payload", "GET", "/signed/upload",
		[][2]string{{"x-signed-payload", token.BottleshipSign(payload, s.secrets["TG_DEMO_REPORTING_KEY"])}}, "")
	add("signed_payload", false, 401, "bad_signature", "signed with the wrong key", "GET", "/signed/upload",
		[][2]string{{"x-signed-payload", token.BottleshipSign(payload, []byte("not-the-reporting-key"))}}, "")

	sign := func(signer *token.HTTPSigner, method, signedPath, body string) ([][2]string, error) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, strings.TrimRight(base, "/")+signedPath, r)
		if err != nil {
			return nil, err
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := signer.Sign(req, now); err != nil {
			return nil, err
		}
		var h [][2]string
		for _, n := range []string{"Content-Type", "Content-Digest", "Signature-Input", "Signature"} {
			if v := req.Header.Get(n); v != "" {
				h = append(h, [2]string{strings.ToLower(n), v})
			}
		}
		return h, nil
	}
	hmacSigner := &token.HTTPSigner{KeyID: "partner-hmac", Key: s.secrets["TG_DEMO_HTTPSIG_SECRET"]}
	h1, err := sign(hmacSigner, "GET", "/httpsig/orders", "")
	if err != nil {
		return nil, err
	}
	add("http_signature", true, 200, "", "RFC 9421 signature, hmac-sha256 (5 min)", "GET", "/httpsig/orders", h1, "")
	s.fresh(&out, "mint", "http-signature", "--secret", "file:"+s.path("tg_demo_httpsig_secret"), "--keyid", "partner-hmac", strings.TrimRight(base, "/")+"/httpsig/orders")
	// Not a body-covering (content-digest) example: that needs a rule with
	// buffer_body, which hostsim cannot serve yet (see README.md).
	edSigner := &token.HTTPSigner{KeyID: "bot-ed25519", Key: s.botKey, Nonce: true}
	h2, err := sign(edSigner, "DELETE", "/httpsig/orders/42", "")
	if err != nil {
		return nil, err
	}
	add("http_signature", true, 200, "", "ed25519 signature with a nonce (single use)", "DELETE", "/httpsig/orders/42", h2, "")
	h3, err := sign(hmacSigner, "GET", "/httpsig/other", "")
	if err != nil {
		return nil, err
	}
	add("http_signature", false, 401, "bad_signature", "a signature made for another path", "GET", "/httpsig/orders", h3, "")

	add("ip_rule", true, 200, "", "the client address is in 127.0.0.0/8", "GET", "/local/metrics", nil, "")
	add("ip_rule", false, 403, "address_denied", "only 10.0.0.0/8 may call /office", "GET", "/office/wiki", nil, "")

	add("session", true, 200, "", "a session cookie the auth service knows (checked by a call-out)", "GET", "/session/profile",
		[][2]string{{"cookie", "Token=" + s.session}}, "")
	add("session", false, 401, "credential_unknown", "a session the auth service does not know", "GET", "/session/profile",
		[][2]string{{"cookie", "Token=" + flip(s.session)}}, "")
	add("introspection", true, 200, "", "an opaque access token, RFC 7662 introspection call-out", "GET", "/oauth/orders",
		[][2]string{{"authorization", "Bearer " + s.access}}, "")
	add("introspection", false, 401, "credential_unknown", "a token the service says is not active", "GET", "/oauth/orders",
		[][2]string{{"authorization", "Bearer " + flip(s.access)}}, "")
	return out, nil
}

// fresh attaches a mint command to the last example.
func (s *Setup) fresh(out *[]Example, args ...string) {
	(*out)[len(*out)-1].Fresh = args
}

func (s *Setup) path(name string) string { return filepath.Join(s.Dir, name) }

// flip changes the code's first character to the next one of the default
// alphabet, which makes it wrong.
func flip(code string) string {
	const a = token.DefaultM2MAlphabet
	i := strings.IndexByte(a, code[0])
	return string(a[(i+1)%len(a)]) + code[1:]
}
