package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// stub is a test provider type: {"name": "...", "type": "stub", "tick": 0}.
type stub struct {
	name string
	tick uint32
}

func (s *stub) Name() string      { return s.name }
func (s *stub) Kind() string      { return "stub" }
func (s *stub) Challenge() string { return "" }
func (s *stub) Verify(*provider.Request) (provider.Identity, error) {
	return provider.Identity{Subject: s.name}, nil
}
func (s *stub) TickPeriodMillis() uint32           { return s.tick }
func (s *stub) Tick(int64) []*provider.NeedCallout { return nil }
func stubFromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	s := &stub{name: name, tick: uint32(o.Int("tick", 0, 0, 60000))}
	if o.Bool("warn", false) {
		d.Warn("weak mode on")
	}
	o.Done()
	if len(o.Errs().List) != before {
		return nil
	}
	return s
}

func testKinds() map[string]Constructor {
	k := map[string]Constructor{"stub": stubFromConfig}
	for n, c := range kinds {
		k[n] = c
	}
	return k
}

const validDoc = `{
  "providers": [
    {"name": "keys", "type": "stub"},
    {"name": "office", "type": "ip_rule", "allow": ["10.0.0.0/8"]},
    {"name": "codes", "type": "rolling_code", "clients": {"bot": {"seed": {"env": "BOT_SEED"}}}}
  ],
  "rules": [
    {"name": "health", "paths": [{"exact": "/healthz"}], "methods": ["GET"], "anonymous": true},
    {"name": "admin", "hosts": ["api.example.test"], "paths": [{"prefix": "/admin"}],
     "all_of": ["office"], "any_of": ["keys"], "roles": ["robot"]},
    {"name": "api", "paths": [{"prefix": "/api"}], "any_of": ["keys", "codes"], "mode": "shadow",
     "cors_preflight": true, "scopes": {"any_of": ["read"]},
     "claims": [{"claim": "org.team", "all_of": ["blue"]}]}
  ],
  "identity_headers": {"subject": "x-auth-subject", "remove": ["x-user"]},
  "deny_log_level": "warn",
  "trusted_xff_hops": 1
}`

var testEnv = conf.MapEnv{"BOT_SEED": "0123456789abcdef0123456789abcdef"}

func TestParseValid(t *testing.T) {
	cfg, warnings, err := ParseKinds([]byte(validDoc), testEnv, provider.Deps{}, testKinds())
	if err != nil {
		t.Fatalf("valid configuration refused:\n%v", err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "trusted_xff_hops is 1:") {
		t.Fatalf("warnings: %q", warnings)
	}
	if len(cfg.Providers) != 3 || len(cfg.Policy.Rules()) != 3 {
		t.Fatalf("providers %d rules %d", len(cfg.Providers), len(cfg.Policy.Rules()))
	}
	if cfg.Identity.Subject != "x-auth-subject" || cfg.Identity.Provider != DefaultProviderHeader ||
		cfg.Identity.RemovePrefix != DefaultRemovePrefix || len(cfg.Identity.Remove) != 1 {
		t.Fatalf("identity headers %+v", cfg.Identity)
	}
	if !cfg.StripCredentials || cfg.DenyLogLevel != LogWarn || cfg.TrustedXFFHops != 1 {
		t.Fatalf("settings %+v", cfg)
	}
	api := cfg.Policy.Rules()[2]
	if !api.Shadow || !api.CORSPreflight || len(api.AnyOf) != 2 || api.AnyOf[1].Name() != "codes" ||
		api.Scopes.AnyOf[0] != "read" || api.Claims[0].Claim != "org.team" || api.Claims[0].AllOf[0] != "blue" {
		t.Fatalf("api rule %+v", api)
	}
	admin := cfg.Policy.Rules()[1]
	if len(admin.AllOf) != 1 || admin.AllOf[0].Kind() != "ip_rule" || admin.Roles[0] != "robot" || admin.Hosts[0] != "api.example.test" {
		t.Fatalf("admin rule %+v", admin)
	}
}

func TestParseWarnings(t *testing.T) {
	doc := `{"providers": [{"name": "a", "type": "stub", "warn": true}, {"name": "b", "type": "stub"}],
	         "rules": [{"name": "r", "any_of": ["a"]}]}`
	_, warnings, err := ParseKinds([]byte(doc), nil, provider.Deps{}, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`provider "a": weak mode on`, `provider "b" is not used by any rule`}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings %q, want %q", warnings, want)
	}
}

func TestRiskyOptInsAreWarned(t *testing.T) {
	doc := `{"providers": [{"name": "a", "type": "stub"}], "rules": [{"name": "r", "any_of": ["a"]}],
	         "strip_credentials": false, "trusted_xff_hops": 2}`
	_, warnings, err := ParseKinds([]byte(doc), nil, provider.Deps{}, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"strip_credentials is off: upstreams receive the credentials tokengate verified",
		"trusted_xff_hops is 2: the client address is taken from x-forwarded-for; requests that did not pass through that many trusted proxies are refused",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings %q", warnings)
	}
}

func TestParseTickers(t *testing.T) {
	doc := `{"providers": [{"name": "a", "type": "stub", "tick": 1000}, {"name": "b", "type": "stub"}],
	         "rules": [{"name": "r", "any_of": ["a", "b"]}]}`
	cfg, _, err := ParseKinds([]byte(doc), nil, provider.Deps{}, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tickers) != 1 {
		t.Fatalf("tickers %d", len(cfg.Tickers))
	}
}

func TestProviderMetricNamesArePrefixed(t *testing.T) {
	var names []string
	deps := provider.Deps{CounterFunc: func(n string) provider.Counter { names = append(names, n); return nil }}
	k := map[string]Constructor{"m": func(name string, o *conf.Object, d provider.Deps) provider.Provider {
		d.Counter("hits")
		o.Done()
		return &stub{name: name}
	}}
	if _, _, err := ParseKinds([]byte(`{"providers":[{"name":"p1","type":"m"}],"rules":[{"name":"r","any_of":["p1"]}]}`), nil, deps, k); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "tokengate.p1.hits" {
		t.Fatalf("metric names %q", names)
	}
}

// TestParseRefuses is the table of bad configurations: each must be refused
// with messages naming the field. Messages are user interface, so the text
// is checked exactly.
func TestParseRefuses(t *testing.T) {
	const p = `"providers": [{"name": "keys", "type": "stub"}]`
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"not an object", `["rules"]`, []string{"configuration must be a JSON object"}},
		{"empty document", ``, []string{"configuration must be a JSON object"}},
		{"trailing data", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}]} {}`,
			[]string{"unexpected data after the configuration object"}},
		{"unknown top-level field", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "rulez": []}`,
			[]string{"rulez: unknown field"}},
		{"duplicate member", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "rules": []}`,
			[]string{"rules: duplicate member"}},
		{"rules missing", `{` + p + `}`,
			[]string{"rules: is required: without rules every request is denied"}},
		{"rules empty", `{` + p + `, "rules": []}`,
			[]string{"rules: must not be empty: without rules every request is denied"}},
		{"wrong type", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "strip_credentials": "yes"}`,
			[]string{"strip_credentials: must be a boolean, not a string"}},
		{"provider without name", `{"providers": [{"type": "stub"}], "rules": [{"name": "r", "anonymous": true}]}`,
			[]string{"providers[0].name: is required"}},
		{"provider name not metric-safe", `{"providers": [{"name": "My Keys", "type": "stub"}], "rules": [{"name": "r", "anonymous": true}]}`,
			[]string{`providers[0].name: "My Keys" must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit`}},
		{"provider name reserved", `{"providers": [{"name": "requests", "type": "stub"}], "rules": [{"name": "r", "anonymous": true}]}`,
			[]string{`providers[0].name: "requests" is reserved for tokengate's own metrics`}},
		{"duplicate provider", `{"providers": [{"name": "k", "type": "stub"}, {"name": "k", "type": "stub"}], "rules": [{"name": "r", "any_of": ["k"]}]}`,
			[]string{`providers[1].name: duplicate provider name "k"`}},
		{"provider without type", `{"providers": [{"name": "k"}], "rules": [{"name": "r", "any_of": ["k"]}]}`,
			[]string{"providers[0].type: is required"}},
		{"unknown provider type", `{"providers": [{"name": "k", "type": "api-kee", "keys": []}], "rules": [{"name": "r", "any_of": ["k"]}]}`,
			[]string{`providers[0].type: unknown provider type "api-kee"; known types: ` + strings.Join(sortedKeys(testKinds()), ", ")}},
		{"unknown provider field", `{"providers": [{"name": "k", "type": "stub", "colour": 1}], "rules": [{"name": "r", "any_of": ["k"]}]}`,
			[]string{"providers[0].colour: unknown field"}},
		{"bad CIDR", `{"providers": [{"name": "o", "type": "ip_rule", "allow": ["10.0.0.0/33"]}], "rules": [{"name": "r", "any_of": ["o"]}]}`,
			nil}, // text owned by iprule; checked by path below
		{"weak secret", `{"providers": [{"name": "c", "type": "rolling_code", "clients": {"bot": {"seed": "short"}}}], "rules": [{"name": "r", "any_of": ["c"]}]}`,
			[]string{"providers[0].clients.bot.seed: secret is too weak: 5 bytes, at least 16 required"}},
		{"secret from unset env", `{"providers": [{"name": "c", "type": "rolling_code", "clients": {"bot": {"seed": {"env": "NOPE"}}}}], "rules": [{"name": "r", "any_of": ["c"]}]}`,
			[]string{`providers[0].clients.bot.seed.env: environment variable "NOPE" is not set in vm_config.environment_variables`}},
		{"rule without name", `{` + p + `, "rules": [{"any_of": ["keys"]}]}`,
			[]string{"rules[0].name: is required"}},
		{"rule name not metric-safe", `{` + p + `, "rules": [{"name": "API v1", "any_of": ["keys"]}]}`,
			[]string{`rules[0].name: "API v1" must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit`}},
		{"duplicate rule name", `{` + p + `, "rules": [{"name": "r", "paths": [{"prefix": "/a"}], "any_of": ["keys"]}, {"name": "r", "paths": [{"prefix": "/b"}], "any_of": ["keys"]}]}`,
			[]string{`rules[1].name: duplicate rule name "r" (first used at rules[0])`}},
		{"unknown provider in rule", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys", "jwt"]}]}`,
			[]string{`rules[0].any_of[1]: unknown provider "jwt"`}},
		{"provider listed twice", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys", "keys"]}]}`,
			[]string{`rules[0].any_of[1]: provider "keys" is listed twice`}},
		{"provider in all_of and any_of", `{` + p + `, "rules": [{"name": "r", "all_of": ["keys"], "any_of": ["keys"]}]}`,
			[]string{`rules[0].any_of[0]: provider "keys" is already in all_of`}},
		{"empty any_of", `{` + p + `, "rules": [{"name": "r", "any_of": []}]}`,
			[]string{"rules[0].any_of: must not be empty"}},
		{"no providers and not anonymous", `{` + p + `, "rules": [{"name": "r", "paths": [{"prefix": "/"}]}]}`,
			[]string{`rules[0]: names no providers: set "any_of" and/or "all_of", or "anonymous": true`}},
		{"anonymous with providers", `{` + p + `, "rules": [{"name": "r", "anonymous": true, "any_of": ["keys"]}]}`,
			[]string{"rules[0].anonymous: an anonymous rule cannot also name providers in any_of/all_of"}},
		{"anonymous with requirements", `{` + p + `, "rules": [{"name": "r", "anonymous": true, "roles": ["admin"]}]}`,
			[]string{"rules[0].anonymous: an anonymous rule cannot require scopes, roles or claims: nobody would be checked"}},
		{"unreachable rule", `{` + p + `, "rules": [{"name": "api", "paths": [{"prefix": "/api"}], "any_of": ["keys"]}, {"name": "api-admin", "paths": [{"prefix": "/api/admin"}], "methods": ["POST"], "any_of": ["keys"], "roles": ["admin"]}]}`,
			[]string{`rules[1]: unreachable: every request it matches is matched first by rule "api" at rules[0]`}},
		{"rule after catch-all", `{` + p + `, "rules": [{"name": "all", "any_of": ["keys"]}, {"name": "health", "paths": [{"exact": "/healthz"}], "anonymous": true}]}`,
			[]string{`rules[1]: unreachable: every request it matches is matched first by rule "all" at rules[0]`}},
		{"relative path", `{` + p + `, "rules": [{"name": "r", "paths": [{"prefix": "api"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0].prefix: "api" is not a usable path: path is not absolute`}},
		{"path not normalised", `{` + p + `, "rules": [{"name": "r", "paths": [{"exact": "/a//b/../c"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0].exact: "/a//b/../c" is not in normal form (it normalises to "/a/c")`}},
		{"encoded slash in rule path", `{` + p + `, "rules": [{"name": "r", "paths": [{"exact": "/a%2fb"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0].exact: "/a%2fb" is not a usable path: encoded slash or backslash in path`}},
		{"path with exact and prefix", `{` + p + `, "rules": [{"name": "r", "paths": [{"exact": "/a", "prefix": "/b"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0]: set either "exact" or "prefix", not both`}},
		{"path with neither", `{` + p + `, "rules": [{"name": "r", "paths": [{"regex": ".*"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0]: needs "exact" or "prefix"`, "rules[0].paths[0].regex: unknown field"}},
		{"upper-case path with case-insensitive matching", `{` + p + `, "case_insensitive_paths": true, "rules": [{"name": "r", "paths": [{"prefix": "/Admin"}], "any_of": ["keys"]}]}`,
			[]string{`rules[0].paths[0].prefix: "/Admin" must be lower case when case_insensitive_paths is on`}},
		{"lower-case method", `{` + p + `, "rules": [{"name": "r", "methods": ["get"], "any_of": ["keys"]}]}`,
			[]string{`rules[0].methods[0]: "get" is not an upper-case HTTP method`}},
		{"host with port", `{` + p + `, "rules": [{"name": "r", "hosts": ["api.example.test:443"], "any_of": ["keys"]}]}`,
			[]string{`rules[0].hosts[0]: "api.example.test:443" must not carry a port (ports are ignored when matching)`}},
		{"host wildcard in the middle", `{` + p + `, "rules": [{"name": "r", "hosts": ["api.*.test"], "any_of": ["keys"]}]}`,
			[]string{`rules[0].hosts[0]: "api.*.test" may only use "*." as its first label`}},
		{"bad mode", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "mode": "audit"}]}`,
			[]string{`rules[0].mode: "audit" is not one of enforce, shadow`}},
		{"empty scopes", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "scopes": {}}]}`,
			[]string{`rules[0].scopes: needs "any_of" and/or "all_of"`}},
		{"claim without claim path", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "claims": [{"any_of": ["x"]}]}]}`,
			[]string{"rules[0].claims[0].claim: is required"}},
		{"claim path malformed", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "claims": [{"claim": "org..team", "any_of": ["x"]}]}]}`,
			[]string{`rules[0].claims[0].claim: "org..team" is not a dotted claim path such as "org.team"`}},
		{"scope with a space", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "scopes": {"any_of": ["read write"]}}]}`,
			[]string{`rules[0].scopes: "read write" contains white space; scopes are single tokens`}},
		{"rate limit by unknown", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "rate_limit": {"by": "ip", "per_second": 1}}]}`,
			[]string{`rules[0].rate_limit.by: "ip" is not one of subject, credential, source`}},
		{"rate limit zero", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "rate_limit": {"by": "subject", "per_second": 0}}]}`,
			[]string{"rules[0].rate_limit.per_second: must be at least 1e-06 (remove rate_limit to allow everything)"}},
		{"rate limit burst negative", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "rate_limit": {"by": "subject", "per_second": 1, "burst": -1}}]}`,
			[]string{"rules[0].rate_limit.burst: must be between 1 and 1073741824"}},
		{"anonymous rate limit by subject", `{` + p + `, "rules": [{"name": "r", "anonymous": true, "rate_limit": {"by": "subject", "per_second": 1}}]}`,
			[]string{`rules[0].rate_limit.by: an anonymous rule has no subject or credential: use "source"`}},
		{"max_body_bytes without buffer_body", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "max_body_bytes": 100}]}`,
			[]string{`rules[0].max_body_bytes: only applies with "buffer_body": true`}},
		{"body too large to buffer", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"], "buffer_body": true, "max_body_bytes": 2000000}]}`,
			[]string{"rules[0].max_body_bytes: must be between 1 and 1048576"}},
		{"anonymous rule buffering", `{` + p + `, "rules": [{"name": "r", "anonymous": true, "buffer_body": true}]}`,
			[]string{"rules[0].buffer_body: an anonymous rule asks no provider, so it has no use for the body"}},
		{"identity header reserved", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "identity_headers": {"subject": "authorization"}}`,
			[]string{`identity_headers.subject: "authorization" is reserved and cannot carry identity`}},
		{"identity header not a name", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "identity_headers": {"scopes": "X Scopes"}}`,
			[]string{`identity_headers.scopes: "X Scopes" is not a lower-case header name`}},
		{"identity headers collide", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "identity_headers": {"role": "x-tokengate-subject"}}`,
			[]string{"identity_headers.role: same header as subject"}},
		{"bad log level", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "deny_log_level": "loud"}`,
			[]string{`deny_log_level: "loud" is not one of trace, debug, info, warn, error, critical`}},
		{"xff hops out of range", `{` + p + `, "rules": [{"name": "r", "any_of": ["keys"]}], "trusted_xff_hops": 40}`,
			[]string{"trusted_xff_hops: must be between 0 and 16"}},
		{"several problems at once", `{"providers": [{"name": "k", "type": "nope"}], "rules": [{"name": "r", "any_of": ["k", "x"], "mode": "x"}], "extra": 1}`,
			[]string{
				`providers[0].type: unknown provider type "nope"; known types: ` + strings.Join(sortedKeys(testKinds()), ", "),
				`rules[0].any_of[1]: unknown provider "x"`,
				`rules[0].mode: "x" is not one of enforce, shadow`,
				"extra: unknown field",
			}},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d kinds of bad configuration", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := ParseKinds([]byte(c.doc), testEnv, provider.Deps{}, testKinds())
			if err == nil || cfg != nil {
				t.Fatalf("accepted: %v", cfg)
			}
			var errs *conf.Errors
			if !errors.As(err, &errs) || len(errs.List) == 0 {
				t.Fatalf("error is not a *conf.Errors: %T %v", err, err)
			}
			got := err.Error()
			if c.want == nil {
				if !strings.HasPrefix(got, "providers[0].allow[0]: ") {
					t.Fatalf("error does not name the field:\n%s", got)
				}
				return
			}
			if got != strings.Join(c.want, "\n") {
				t.Fatalf("errors:\n got: %s\nwant: %s", got, strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestSecretsNeverInMessages(t *testing.T) {
	doc := `{"providers": [{"name": "c", "type": "rolling_code", "clients": {"bot": {"seed": "hunter2hunter2"}}}], "rules": [{"name": "r", "any_of": ["c"], "x": 1}]}`
	_, _, err := ParseKinds([]byte(doc), nil, provider.Deps{}, testKinds())
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestRealKindsMap(t *testing.T) {
	for _, k := range Kinds() {
		if kinds[k] == nil {
			t.Fatalf("kind %q has no constructor", k)
		}
	}
	if _, ok := kinds["ip_rule"]; !ok {
		t.Fatal("ip_rule missing from kinds")
	}
}

func TestParseBuildsPolicy(t *testing.T) {
	cfg, _, err := ParseKinds([]byte(validDoc), testEnv, provider.Deps{}, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	r := &provider.Request{Method: "GET", Authority: "x", RawPath: "/healthz/"}
	if v := cfg.Policy.Start(r).Verdict(); !v.Allow || v.Kind != policy.KindAnonymous {
		t.Fatalf("health verdict %+v", v)
	}
}
