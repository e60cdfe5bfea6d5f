// Package config turns tokengate's plugin configuration (one JSON document,
// Envoy's plugin configuration) into a validated, immutable [Config]: the
// providers, the ordered rule list ([policy.Policy]) and what the upstream
// sees.
//
// # Strictness
//
// Everything is checked at start: unknown fields, wrong types, duplicate
// names, unknown provider references, unreachable rules, paths that are
// not in normal form, bad CIDRs and weak secrets (the last two in the
// providers). Every problem is reported with its JSON path and a reason in
// one [*conf.Errors], and the filter refuses to start — Envoy then fails
// closed. Secrets can be read from the VM environment with {"env": "NAME"}.
//
// # Document
//
//	{
//	  "providers": [ {"name": "keys", "type": "api_key", ...}, ... ],
//	  "rules": [
//	    {"name": "health", "paths": [{"exact": "/healthz"}], "methods": ["GET"], "anonymous": true},
//	    {"name": "api", "hosts": ["api.example.test"], "paths": [{"prefix": "/api"}],
//	     "any_of": ["keys", "jwt"], "all_of": ["office"], "mode": "enforce",
//	     "cors_preflight": true, "scopes": {"any_of": ["read"]}, "roles": ["robot"],
//	     "claims": [{"claim": "org.team", "any_of": ["blue"]}],
//	     "rate_limit": {"by": "subject", "per_second": 5, "burst": 10},
//	     "buffer_body": false, "max_body_bytes": 65536}
//	  ],
//	  "case_insensitive_paths": false,
//	  "identity_headers": {"subject": "x-tokengate-subject", "provider": "x-tokengate-provider",
//	                       "scopes": "x-tokengate-scopes", "role": "x-tokengate-role",
//	                       "remove_prefix": "x-tokengate-", "remove": []},
//	  "strip_credentials": true,
//	  "deny_log_level": "info",
//	  "trusted_xff_hops": 0,
//	  "max_callouts": 4,
//	  "replay": {"max_entries": 65536, "shards": 256}
//	}
//
// Provider objects carry "name" and "type"; the rest belongs to the
// provider's constructor (see kinds.go for the types). Names are lower-case
// letters, digits, '-' and '_', because they become metric names.
//
// # Warnings
//
// Problems that do not make the configuration unsafe (a provider no rule
// uses, a shadow rule, a provider's weak compatibility mode) are returned
// as warnings for the filter to log once.
package config

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/ratelimit"
)

// Constructor builds a provider from its configuration object; see
// provider.Constructor's description.
type Constructor func(name string, o *conf.Object, d provider.Deps) provider.Provider

// Kinds lists the provider types this build knows, sorted.
func Kinds() []string { return sortedKeys(kinds) }

// LogLevel is a proxy-wasm log level (trace 0 … critical 5).
type LogLevel uint8

// Log levels, numbered as in the proxy-wasm ABI.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

// IdentityHeaders name what the upstream is told on success. An empty name
// turns that header off.
type IdentityHeaders struct {
	Subject, Provider, Scopes, Role string
	// RemovePrefix: inbound headers with this prefix are always removed,
	// so a client cannot forge identity headers (default "x-tokengate-").
	RemovePrefix string
	// Remove lists more inbound headers to remove from every request.
	Remove []string
}

// Config is a validated configuration. It is immutable.
type Config struct {
	Policy *policy.Policy
	// Providers in document order.
	Providers []provider.Provider
	// Tickers are the providers with background work.
	Tickers          []provider.Ticker
	Identity         IdentityHeaders
	StripCredentials bool
	DenyLogLevel     LogLevel
	// TrustedXFFHops: see iprule.ClientAddress. 0 uses the peer address.
	TrustedXFFHops int
}

// Parse reads and validates a configuration with the provider types of
// this build. deps are handed to every provider (with metric names
// prefixed "tokengate.<provider>."); deps.WarnFunc is not called: warnings
// are returned instead. When deps.Replay is nil and deps.Shared is set,
// Parse builds the cross-VM replay guard. err is a *conf.Errors listing
// every problem.
func Parse(data []byte, env conf.Env, deps provider.Deps) (*Config, []string, error) {
	return ParseKinds(data, env, deps, kinds)
}

// ParseKinds is Parse with an explicit type → constructor map (tests and
// tools that bring their own providers).
func ParseKinds(data []byte, env conf.Env, deps provider.Deps, k map[string]Constructor) (*Config, []string, error) {
	p := &parser{kinds: k, deps: deps}
	root, errs := conf.Root(data, env)
	p.errs = errs
	if len(errs.List) > 0 && errs.List[0].Reason == notAnObject {
		return nil, nil, errs // nothing else can be said about it
	}
	cfg := p.document(root)
	root.Done()
	if err := errs.Err(); err != nil {
		return nil, p.warnings, err
	}
	return cfg, p.warnings, nil
}

// notAnObject is conf.Root's message for a document that is not an object.
const notAnObject = "configuration must be a JSON object"

type parser struct {
	kinds    map[string]Constructor
	deps     provider.Deps
	errs     *conf.Errors
	warnings []string
	byName   map[string]provider.Provider
	used     map[string]bool
}

func (p *parser) warn(msg string) { p.warnings = append(p.warnings, msg) }

func (p *parser) document(root *conf.Object) *Config {
	cfg := &Config{}
	foldCase := root.Bool("case_insensitive_paths", false)
	cfg.StripCredentials = root.Bool("strip_credentials", true)
	cfg.DenyLogLevel = LogLevel(levelIndex(root.Enum("deny_log_level", "info", levelNames...)))
	cfg.TrustedXFFHops = int(root.Int("trusted_xff_hops", 0, 0, 16))
	maxCallouts := int(root.Int("max_callouts", 4, 1, 16))
	cfg.Identity = p.identityHeaders(root.Object("identity_headers"))
	p.replay(root.Object("replay"))

	p.byName = map[string]provider.Provider{}
	p.used = map[string]bool{}
	if root.Has("providers") {
		for i, o := range root.Objects("providers") {
			if pr := p.provider(i, o); pr != nil {
				cfg.Providers = append(cfg.Providers, pr)
				if t, ok := pr.(provider.Ticker); ok && t.TickPeriodMillis() > 0 {
					cfg.Tickers = append(cfg.Tickers, t)
				}
			}
		}
	}

	var rules []*policy.Rule
	if !root.Has("rules") {
		root.Fail("rules", "is required: without rules every request is denied")
	} else {
		objs := root.Objects("rules")
		if objs != nil && len(objs) == 0 {
			root.Fail("rules", "must not be empty: without rules every request is denied")
		}
		names := map[string]string{}
		var where []string // document path of each accepted rule
		for _, o := range objs {
			r := p.rule(o, foldCase)
			if r == nil {
				continue
			}
			if prev, dup := names[r.Name]; dup {
				o.Fail("name", "duplicate rule name "+strconv.Quote(r.Name)+" (first used at "+prev+")")
				continue
			}
			names[r.Name] = o.Here()
			for j, earlier := range rules {
				if policy.Covers(earlier, r) {
					o.Fail("", "unreachable: every request it matches is matched first by rule "+strconv.Quote(earlier.Name)+" at "+where[j])
					break
				}
			}
			rules = append(rules, r)
			where = append(where, o.Here())
		}
	}
	if !cfg.StripCredentials {
		p.warn("strip_credentials is off: upstreams receive the credentials tokengate verified")
	}
	if cfg.TrustedXFFHops > 0 {
		p.warn("trusted_xff_hops is " + strconv.Itoa(cfg.TrustedXFFHops) + ": the client address is taken from x-forwarded-for; " +
			"requests that did not pass through that many trusted proxies are refused")
	}
	for _, r := range rules {
		if r.BufferBody {
			p.warn("rule " + strconv.Quote(r.Name) + " buffers request bodies: Envoy must run the filter with " +
				"allow_on_headers_stop_iteration: true, or its requests wait until the stream times out")
		}
	}
	for _, pr := range cfg.Providers {
		if !p.used[pr.Name()] {
			p.warn("provider " + strconv.Quote(pr.Name()) + " is not used by any rule")
		}
	}
	skipUnreadClaims(rules, cfg.Providers)
	opts := policy.Options{FoldPathCase: foldCase, MaxCallouts: maxCallouts, SourceKey: sourceBucket}
	for _, r := range rules {
		if r.RateLimit != nil {
			opts.Limiter = p.limiter()
			break
		}
	}
	cfg.Policy = policy.New(rules, opts)
	return cfg
}

// skipUnreadClaims tells every provider that no rule with claim
// requirements names that it need not build Identity.Claims (about 13 µs
// and a map per fresh JWT in Wasm).
func skipUnreadClaims(rules []*policy.Rule, providers []provider.Provider) {
	read := map[provider.Provider]bool{}
	for _, r := range rules {
		if len(r.Claims) == 0 {
			continue
		}
		for _, pr := range r.AllOf {
			read[pr] = true
		}
		for _, pr := range r.AnyOf {
			read[pr] = true
		}
	}
	for _, pr := range providers {
		if s, ok := pr.(provider.ClaimsSkipper); ok && !read[pr] {
			s.SkipClaims()
		}
	}
}

// sourceBuckets bounds the `by: source` buckets of each rule. Shared data has
// no delete, so keying every client network exactly would let clients that
// rotate addresses grow the store without limit; hashed onto a fixed number
// of buckets, two networks may share one (limited harder, never admitted
// more).
const sourceBuckets = 65536

func sourceBucket(a netip.Addr) string { return ratelimit.AddressKey(a, sourceBuckets) }

var levelNames = []string{"trace", "debug", "info", "warn", "error", "critical"}

func levelIndex(s string) int {
	for i, n := range levelNames {
		if n == s {
			return i
		}
	}
	return int(LogInfo)
}

// validName accepts metric-safe names: [a-z0-9][a-z0-9_-]{0,63}.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && (c == '-' || c == '_')
		if !ok {
			return false
		}
	}
	return true
}

const nameRule = "must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit"

func (p *parser) provider(i int, o *conf.Object) provider.Provider {
	before := len(p.errs.List)
	name := o.RequiredString("name")
	typ := o.RequiredString("type")
	if name != "" && !validName(name) {
		o.Fail("name", strconv.Quote(name)+" "+nameRule)
		name = ""
	}
	if name == "requests" {
		o.Fail("name", `"requests" is reserved for tokengate's own metrics`)
		name = ""
	}
	if name != "" {
		if _, dup := p.byName[name]; dup {
			o.Fail("name", "duplicate provider name "+strconv.Quote(name))
			name = ""
		}
	}
	if name != "" {
		p.byName[name] = nil // reserved now, so rules naming it get no second error
	}
	ctor := p.kinds[typ]
	if ctor == nil {
		if typ != "" {
			o.Fail("type", "unknown provider type "+strconv.Quote(typ)+"; known types: "+strings.Join(sortedKeys(p.kinds), ", "))
		}
		// Without a constructor the other fields cannot be judged.
		o.Names()
		return nil
	}
	// Build even when the name was refused, so the provider's own
	// problems are reported in the same pass.
	built := name
	if built == "" {
		built = "provider-" + strconv.Itoa(i)
	}
	pr := ctor(built, o, p.providerDeps(built))
	if pr == nil || len(p.errs.List) != before {
		if pr == nil && len(p.errs.List) == before {
			o.Fail("", "provider "+strconv.Quote(built)+" could not be built")
		}
		return nil
	}
	p.byName[name] = pr
	return pr
}

func (p *parser) providerDeps(name string) provider.Deps {
	d := p.deps
	prefix := "tokengate." + name + "."
	base := p.deps
	d.CounterFunc = func(n string) provider.Counter { return base.Counter(prefix + n) }
	d.GaugeFunc = func(n string) provider.Gauge { return base.Gauge(prefix + n) }
	d.WarnFunc = func(msg string) { p.warn("provider " + strconv.Quote(name) + ": " + msg) }
	return d
}

func sortedKeys(m map[string]Constructor) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
