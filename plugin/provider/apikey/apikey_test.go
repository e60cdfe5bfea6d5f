package apikey

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Test keys. They are made here, never copied from a config, so the tests
// exercise Hash as the CLI uses it.
const (
	keyCI     = "tg_ci-bot_4QpWn0v2Yb8sZkD1rL7mX9cTfJ3hG6aE5uNqRwVyBzC"
	keyBound  = "tg_bound_Zx8Vb2Nm4Qw6Er1Ty3Ui5Op7As9Df0GhJkLzXcVbNmQ"
	keyOld    = "tg_old_Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0KkLlMmNnOoPpQqR"
	keyForver = "tg_forever_Qq1Ww2Ee3Rr4Tt5Yy6Uu7Ii8Oo9Pp0AaSsDdFfGgH"
)

// now is 2026-11-23T00:00:00Z.
const now = int64(1795392000) * 1e9

func testConfig() string {
	return `{
	"keys": [
		{"id": "ci-bot", "hash": "` + Hash(keyCI) + `", "subject": "ci", "scopes": ["read", "deploy"], "role": "deployer", "expires": "2027-01-01T00:00:00Z"},
		{"id": "bound", "hash": "` + Hash(keyBound) + `", "subject": "batch", "expires": 1830000000, "sources": ["10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120"]},
		{"id": "old", "hash": "sha256:` + strings.ToUpper(Hash(keyOld)[7:]) + `", "subject": "legacy", "expires": "2026-01-01T00:00:00+01:00"},
		{"id": "forever", "hash": "` + Hash(keyForver) + `", "subject": "ops", "expires": "never"}
	]}`
}

func build(t testing.TB, doc string) (*Provider, string, []string) {
	t.Helper()
	o, errs := conf.Root([]byte(doc), nil)
	var warns []string
	p := FromConfig("keys", o, provider.Deps{WarnFunc: func(m string) { warns = append(warns, m) }})
	if err := errs.Err(); err != nil {
		if p != nil {
			t.Fatal("provider returned despite config errors")
		}
		return nil, err.Error(), warns
	}
	if p == nil {
		t.Fatal("nil provider without errors")
	}
	return p.(*Provider), "", warns
}

func TestFromConfigErrors(t *testing.T) {
	h := Hash(keyCI)
	okKey := `{"id":"a","hash":"` + h + `","subject":"s","expires":"never"}`
	cases := []struct{ name, doc, want string }{
		{"keys missing", `{}`, "keys: is required"},
		{"keys empty", `{"keys":[]}`, "keys: must list at least one key"},
		{"keys wrong type", `{"keys":{}}`, "keys: must be an array of objects, not an object"},
		{"bad hash prefix", `{"keys":[{"id":"a","hash":"md5:00","subject":"s","expires":"never"}]}`, `keys[0].hash: must be "sha256:" followed by 64 hex digits (make keys with: tokengate apikey new ID)`},
		{"bad hash hex", `{"keys":[{"id":"a","hash":"sha256:` + strings.Repeat("zz", 32) + `","subject":"s","expires":"never"}]}`, `keys[0].hash: must be "sha256:" followed by 64 hex digits (make keys with: tokengate apikey new ID)`},
		{"required fields", `{"keys":[{}]}`, "keys[0].id: is required\nkeys[0].hash: is required\nkeys[0].subject: is required\n" + `keys[0].expires: is required (RFC 3339 time, unix seconds, or "never")`},
		{"bad id", `{"keys":[{"id":"a_b","hash":"` + h + `","subject":"s","expires":"never"}]}`, "keys[0].id: must be 1-64 characters of A-Z a-z 0-9 -"},
		{"bad expiry text", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":"tomorrow"}]}`, `keys[0].expires: "tomorrow" is not an RFC 3339 time such as "2027-01-01T00:00:00Z"`},
		{"bad expiry number", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":1.5}]}`, "keys[0].expires: must be a positive whole number of unix seconds"},
		{"bad expiry type", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":true}]}`, `keys[0].expires: must be an RFC 3339 string, unix seconds or "never"`},
		{"bad source", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":"never","sources":["10.0.0.1/8"]}]}`, `keys[0].sources[0]: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`},
		{"empty sources", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":"never","sources":[]}]}`, "keys[0].sources: must not be empty; leave it out to allow any address"},
		{"empty scope", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":"never","scopes":[""]}]}`, "keys[0].scopes[0]: must not be empty"},
		{"unknown key field", `{"keys":[{"id":"a","hash":"` + h + `","subject":"s","expires":"never","secret":"x"}]}`, "keys[0].secret: unknown field"},
		{"duplicate id", `{"keys":[` + okKey + `,{"id":"a","hash":"` + Hash("other") + `","subject":"s","expires":"never"}]}`, `keys[1].id: duplicate key id "a"`},
		{"duplicate hash", `{"keys":[` + okKey + `,{"id":"b","hash":"` + h + `","subject":"s","expires":"never"}]}`, "keys[1].hash: the same key hash is configured twice"},
		{"both carriers off", `{"header":"","scheme":"","keys":[` + okKey + `]}`, "header and scheme are both off: the key could never be presented"},
		{"header authorization", `{"header":"Authorization","keys":[` + okKey + `]}`, `header: use "scheme" to read the Authorization header`},
		{"bad header", `{"header":"x api key","keys":[` + okKey + `]}`, `header: "x api key" is not a valid header name`},
		{"bad scheme", `{"scheme":"Api Key","keys":[` + okKey + `]}`, `scheme: "Api Key" is not a valid authentication scheme name`},
		{"bad realm", `{"realm":"a\"b","keys":[` + okKey + `]}`, "realm: must be printable ASCII without quotes or backslashes"},
		{"max_length range", `{"max_length":8,"keys":[` + okKey + `]}`, "max_length: must be between 16 and 4096"},
		{"unknown field", `{"keys":[` + okKey + `],"hedaer":"x"}`, "hedaer: unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got, _ := build(t, c.doc)
			if got != c.want {
				t.Fatalf("errors:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestConfigNeverLeaksHashOrKey(t *testing.T) {
	_, got, _ := build(t, `{"keys":[{"id":"a","hash":"sha256:`+keyCI+`","subject":"s","expires":"never"}]}`)
	if got == "" || strings.Contains(got, keyCI) {
		t.Fatalf("error %q must exist and not echo the value", got)
	}
}

func TestNeverExpiringKeyIsWarned(t *testing.T) {
	_, msg, warns := build(t, testConfig())
	if msg != "" {
		t.Fatal(msg)
	}
	if len(warns) != 1 || warns[0] != `key "forever" never expires` {
		t.Fatalf("warnings = %q", warns)
	}
}

func req(src string, headers ...string) *provider.Request {
	r := &provider.Request{Now: now}
	if src != "" {
		r.Source = netip.MustParseAddr(src)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, provider.Header{Name: headers[i], Value: headers[i+1]})
	}
	return r
}

func TestVerify(t *testing.T) {
	p, msg, _ := build(t, testConfig())
	if p == nil {
		t.Fatal(msg)
	}
	headerOnly, msg, _ := build(t, `{"scheme":"","header":"X-Key","max_length":64,"keys":[{"id":"a","hash":"`+Hash(keyCI)+`","subject":"ci","expires":"never"}]}`)
	if headerOnly == nil {
		t.Fatal(msg)
	}
	schemeOnly, msg, _ := build(t, `{"scheme":"Token","header":"","keys":[{"id":"a","hash":"`+Hash(keyCI)+`","subject":"ci","expires":"never"}]}`)
	if schemeOnly == nil {
		t.Fatal(msg)
	}
	cases := []struct {
		name    string
		p       *Provider
		r       *provider.Request
		want    provider.Reason
		subject string
	}{
		{"header", p, req("", "x-api-key", keyCI), provider.ReasonOK, "ci"},
		{"authorization scheme", p, req("", "authorization", "ApiKey "+keyCI), provider.ReasonOK, "ci"},
		{"scheme case-insensitive", p, req("", "authorization", "apikey "+keyCI), provider.ReasonOK, "ci"},
		{"several spaces after scheme", p, req("", "authorization", "ApiKey   "+keyCI), provider.ReasonOK, "ci"},
		{"upper-case hex hash in config", p, req("", "x-api-key", keyOld), provider.ReasonExpired, ""},
		{"never expires", p, req("", "x-api-key", keyForver), provider.ReasonOK, "ops"},
		{"no credential", p, req("", "accept", "*/*"), provider.ReasonMissing, ""},
		{"other authorization scheme is not ours", p, req("", "authorization", "Bearer abc"), provider.ReasonMissing, ""},
		{"longer scheme name is not ours", p, req("", "authorization", "ApiKeyV2 "+keyCI), provider.ReasonMissing, ""},
		{"unknown key", p, req("", "x-api-key", keyCI+"x"), provider.ReasonUnknown, ""},
		{"key hash string itself is not a key", p, req("", "x-api-key", Hash(keyCI)), provider.ReasonUnknown, ""},
		{"header twice", p, req("", "x-api-key", keyCI, "x-api-key", keyCI), provider.ReasonAmbiguous, ""},
		{"header and authorization", p, req("", "x-api-key", keyCI, "authorization", "ApiKey "+keyCI), provider.ReasonAmbiguous, ""},
		{"authorization twice", p, req("", "authorization", "ApiKey "+keyCI, "authorization", "ApiKey "+keyCI), provider.ReasonAmbiguous, ""},
		{"ours plus a bearer", p, req("", "authorization", "Bearer x", "authorization", "ApiKey "+keyCI), provider.ReasonAmbiguous, ""},
		{"two foreign authorizations are not ours", p, req("", "authorization", "Bearer x", "authorization", "Basic y"), provider.ReasonMissing, ""},
		{"empty header", p, req("", "x-api-key", ""), provider.ReasonMalformed, ""},
		{"scheme without key", p, req("", "authorization", "ApiKey"), provider.ReasonMalformed, ""},
		{"scheme with blank key", p, req("", "authorization", "ApiKey  "), provider.ReasonMalformed, ""},
		{"two keys in one authorization", p, req("", "authorization", "ApiKey "+keyCI+", ApiKey "+keyCI), provider.ReasonMalformed, ""},
		{"control character", p, req("", "x-api-key", keyCI+"\x00"), provider.ReasonMalformed, ""},
		{"non-ascii", p, req("", "x-api-key", "tg_é"), provider.ReasonMalformed, ""},
		{"too short to be a key", p, req("", "x-api-key", "password"), provider.ReasonMalformed, ""},
		{"oversize", p, req("", "x-api-key", strings.Repeat("a", DefaultMaxLength+1)), provider.ReasonOversize, ""},
		{"oversize beats malformed", p, req("", "x-api-key", strings.Repeat(" ", 5000)), provider.ReasonOversize, ""},
		{"expired", p, req("", "x-api-key", keyOld), provider.ReasonExpired, ""},
		{"bound: inside v4", p, req("10.2.3.4", "x-api-key", keyBound), provider.ReasonOK, "batch"},
		{"bound: inside v6", p, req("2001:db8::1", "x-api-key", keyBound), provider.ReasonOK, "batch"},
		{"bound: mapped client, v4 prefix", p, req("::ffff:10.2.3.4", "x-api-key", keyBound), provider.ReasonOK, "batch"},
		{"bound: mapped config prefix", p, req("192.0.2.9", "x-api-key", keyBound), provider.ReasonOK, "batch"},
		{"bound: outside", p, req("172.16.0.1", "x-api-key", keyBound), provider.ReasonBinding, ""},
		{"bound: unknown source", p, req("", "x-api-key", keyBound), provider.ReasonBinding, ""},
		{"header-only: custom header name", headerOnly, req("", "x-key", keyCI), provider.ReasonOK, "ci"},
		{"header-only: authorization ignored", headerOnly, req("", "authorization", "ApiKey "+keyCI), provider.ReasonMissing, ""},
		{"header-only: max_length", headerOnly, req("", "x-key", keyCI+strings.Repeat("a", 20)), provider.ReasonOversize, ""},
		{"scheme-only: x-api-key ignored", schemeOnly, req("", "x-api-key", keyCI), provider.ReasonMissing, ""},
		{"scheme-only: custom scheme", schemeOnly, req("", "authorization", "token "+keyCI), provider.ReasonOK, "ci"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := c.p.Verify(c.r)
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("reason = %s, want %s (%v)", got, c.want, err)
			}
			if id.Subject != c.subject {
				t.Fatalf("subject = %q, want %q", id.Subject, c.subject)
			}
			if err != nil && strings.Contains(err.Error(), "tg_") {
				t.Fatalf("error %q echoes the key", err)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	p, _, _ := build(t, testConfig())
	id, err := p.Verify(req("", "x-api-key", keyCI))
	if err != nil {
		t.Fatal(err)
	}
	wantExp := int64(1798761600) * 1e9 // 2027-01-01T00:00:00Z
	if id.Role != "deployer" || !slices.Equal(id.Scopes, []string{"read", "deploy"}) || id.ExpiresAt != wantExp ||
		!slices.Equal(id.Claims["key_id"], []string{"ci-bot"}) {
		t.Fatalf("identity = %+v", id)
	}
	// Expiry boundary: valid one nanosecond before, expired at the instant.
	r := req("", "x-api-key", keyCI)
	r.Now = wantExp - 1
	if _, err := p.Verify(r); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	r.Now = wantExp
	if !errors.Is(err2(p.Verify(r)), provider.NewError(provider.ReasonExpired, "")) {
		t.Fatal("at expiry must be expired")
	}
	// Unix-seconds expiry.
	r = req("10.0.0.1", "x-api-key", keyBound)
	r.Now = 1830000000 * 1e9
	if provider.ReasonOf(err2(p.Verify(r))) != provider.ReasonExpired {
		t.Fatal("unix-seconds expiry not applied")
	}
}

func err2(_ provider.Identity, err error) error { return err }

func TestChallengeAndKind(t *testing.T) {
	p, _, _ := build(t, testConfig())
	if p.Challenge() != `ApiKey realm="tokengate"` || p.Kind() != "api_key" || p.Name() != "keys" {
		t.Fatalf("challenge %q kind %q name %q", p.Challenge(), p.Kind(), p.Name())
	}
	h, _, _ := build(t, `{"scheme":"","keys":[{"id":"a","hash":"`+Hash(keyCI)+`","subject":"ci","expires":"never"}]}`)
	if h.Challenge() != "" {
		t.Fatalf("header-only challenge = %q", h.Challenge())
	}
	r, _, _ := build(t, `{"realm":"api","scheme":"Key","keys":[{"id":"a","hash":"`+Hash(keyCI)+`","subject":"ci","expires":"never"}]}`)
	if r.Challenge() != `Key realm="api"` {
		t.Fatalf("custom challenge = %q", r.Challenge())
	}
}

func TestStrip(t *testing.T) {
	p, _, _ := build(t, testConfig())
	cases := []struct {
		name string
		r    *provider.Request
		want []string
	}{
		{"header", req("", "x-api-key", keyCI, "accept", "*/*"), []string{"x-api-key"}},
		{"authorization", req("", "authorization", "ApiKey "+keyCI), []string{"authorization"}},
		{"foreign authorization kept", req("", "authorization", "Bearer x"), nil},
		{"nothing", req("", "accept", "*/*"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e provider.Edits
			p.Strip(c.r, &e)
			if !slices.Equal(e.RemoveHeaders, c.want) {
				t.Fatalf("removes %q, want %q", e.RemoveHeaders, c.want)
			}
		})
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	p, _, _ := build(t, testConfig())
	for _, r := range []*provider.Request{
		req("", "x-api-key", keyCI),
		req("", "authorization", "ApiKey "+keyCI),
		req("10.1.1.1", "x-api-key", keyBound),
		req("", "x-api-key", keyCI+"x"),
		req("", "x-api-key", keyCI, "x-api-key", keyCI),
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Verify(r) }); n != 0 {
			t.Fatalf("Verify allocates %v times for %v", n, r.Headers)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	p, _, _ := build(b, testConfig())
	r := req("10.1.1.1", "accept", "*/*", "authorization", "ApiKey "+keyBound, "user-agent", "bench")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify10kKeys(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"keys":[`)
	for i := 0; i < 10000; i++ {
		id := "k" + strings.Repeat("0", 5-len(itoa(i))) + itoa(i)
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":"` + id + `","hash":"` + Hash("tg_"+id+"_secret") + `","subject":"` + id + `","expires":"never"}`)
	}
	sb.WriteString(`]}`)
	p, msg, _ := build(b, sb.String())
	if p == nil {
		b.Fatal(msg)
	}
	r := req("", "x-api-key", "tg_k09999_secret")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
