package config

import (
	"strconv"

	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/ratelimit"
)

// Request-body buffering limits. Envoy's own connection buffer limit
// (default 1 MiB) caps what it can hold for a paused filter.
const (
	DefaultMaxBodyBytes = 64 << 10
	MaxBodyBytes        = 1 << 20
)

// rule reads one rule; nil when it has errors (already recorded).
func (p *parser) rule(o *conf.Object, foldCase bool) *policy.Rule {
	before := len(p.errs.List)
	r := &policy.Rule{}
	r.Name = o.RequiredString("name")
	if r.Name != "" && !validName(r.Name) {
		o.Fail("name", strconv.Quote(r.Name)+" "+nameRule)
	}
	r.Hosts = p.hosts(o)
	r.Methods = p.methods(o)
	r.Paths = p.paths(o, foldCase)
	r.Anonymous = o.Bool("anonymous", false)
	r.AllOf = p.providerRefs(o, "all_of", nil)
	r.AnyOf = p.providerRefs(o, "any_of", r.AllOf)
	r.Shadow = o.Enum("mode", "enforce", "enforce", "shadow") == "shadow"
	r.CORSPreflight = o.Bool("cors_preflight", false)
	r.Scopes = requirement(o.Object("scopes"), true)
	for _, v := range append(append([]string(nil), r.Scopes.AnyOf...), r.Scopes.AllOf...) {
		if hasSpace(v) {
			o.Fail("scopes", strconv.Quote(v)+" contains white space; scopes are single tokens")
			break
		}
	}
	if o.Has("roles") {
		r.Roles = o.Strings("roles")
		if len(r.Roles) == 0 {
			o.Fail("roles", "must not be empty (leave it out to allow every role)")
		}
		checkDistinct(o, "roles", r.Roles)
	}
	if o.Has("claims") {
		objs := o.Objects("claims")
		if objs != nil && len(objs) == 0 {
			o.Fail("claims", "must not be empty (leave it out to require no claims)")
		}
		for _, c := range objs {
			cr := policy.ClaimRequirement{Claim: c.RequiredString("claim")}
			if cr.Claim != "" && !validClaimPath(cr.Claim) {
				c.Fail("claim", strconv.Quote(cr.Claim)+" is not a dotted claim path such as \"org.team\"")
			}
			cr.Requirement = requirement(c, false)
			c.Done()
			r.Claims = append(r.Claims, cr)
		}
	}
	r.RateLimit = rateLimit(o.Object("rate_limit"))
	r.BufferBody = o.Bool("buffer_body", false)
	if o.Has("max_body_bytes") {
		r.MaxBodyBytes = int(o.Int("max_body_bytes", DefaultMaxBodyBytes, 1, MaxBodyBytes))
		if !r.BufferBody {
			o.Fail("max_body_bytes", "only applies with \"buffer_body\": true")
		}
	} else if r.BufferBody {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}

	hasProviders := len(r.AllOf)+len(r.AnyOf) > 0 || o.Has("any_of") || o.Has("all_of")
	requires := !r.Scopes.Empty() || len(r.Roles) > 0 || len(r.Claims) > 0
	switch {
	case r.Anonymous && hasProviders:
		o.Fail("anonymous", "an anonymous rule cannot also name providers in any_of/all_of")
	case r.Anonymous && requires:
		o.Fail("anonymous", "an anonymous rule cannot require scopes, roles or claims: nobody would be checked")
	case !r.Anonymous && !hasProviders:
		o.Fail("", `names no providers: set "any_of" and/or "all_of", or "anonymous": true`)
	}
	if r.Anonymous && r.BufferBody {
		o.Fail("buffer_body", "an anonymous rule asks no provider, so it has no use for the body")
	}
	if r.Anonymous && r.RateLimit != nil && r.RateLimit.By != policy.BySource {
		o.Fail("rate_limit.by", `an anonymous rule has no subject or credential: use "source"`)
	}
	o.Done()
	if len(p.errs.List) != before {
		return nil
	}
	return r
}

func (p *parser) hosts(o *conf.Object) []string {
	if !o.Has("hosts") {
		return nil
	}
	hs := o.Strings("hosts")
	if hs != nil && len(hs) == 0 {
		o.Fail("hosts", "must not be empty (leave it out to match every host)")
	}
	for i, h := range hs {
		if msg := hostProblem(h); msg != "" {
			o.Fail("hosts["+strconv.Itoa(i)+"]", strconv.Quote(h)+" "+msg)
		}
	}
	checkDistinct(o, "hosts", hs)
	return hs
}

// hostProblem explains why h is not a host pattern, or returns "".
func hostProblem(h string) string {
	if h == "" {
		return "is empty"
	}
	if h == "*" {
		return `matches everything: leave "hosts" out instead`
	}
	body := h
	if len(h) > 2 && h[:2] == "*." {
		body = h[2:]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.':
		case 'A' <= c && c <= 'Z':
			return "must be lower case"
		case c == ':':
			return "must not carry a port (ports are ignored when matching)"
		case c == '*':
			return `may only use "*." as its first label`
		default:
			return "is not a host name"
		}
	}
	if body[0] == '.' || body[len(body)-1] == '.' {
		return "must not start or end with a dot"
	}
	return ""
}

func (p *parser) methods(o *conf.Object) []string {
	if !o.Has("methods") {
		return nil
	}
	ms := o.Strings("methods")
	if ms != nil && len(ms) == 0 {
		o.Fail("methods", "must not be empty (leave it out to match every method)")
	}
	for i, m := range ms {
		if !isUpperToken(m) {
			o.Fail("methods["+strconv.Itoa(i)+"]", strconv.Quote(m)+" is not an upper-case HTTP method")
		}
	}
	checkDistinct(o, "methods", ms)
	return ms
}

func isUpperToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *parser) paths(o *conf.Object, foldCase bool) []policy.PathMatch {
	if !o.Has("paths") {
		return nil
	}
	objs := o.Objects("paths")
	if objs != nil && len(objs) == 0 {
		o.Fail("paths", "must not be empty (leave it out to match every path)")
	}
	var out []policy.PathMatch
	for _, po := range objs {
		exact, prefix := po.Has("exact"), po.Has("prefix")
		var m policy.PathMatch
		field := "exact"
		switch {
		case exact && prefix:
			po.Fail("", `set either "exact" or "prefix", not both`)
			po.Names()
		case !exact && !prefix:
			po.Fail("", `needs "exact" or "prefix"`)
		case exact:
			m.Exact = po.RequiredString("exact")
		default:
			field = "prefix"
			m.Prefix = po.RequiredString("prefix")
		}
		po.Done()
		raw := m.Exact + m.Prefix
		if raw == "" {
			continue
		}
		norm, err := policy.NormalisePath(raw, false)
		switch {
		case err != nil:
			po.Fail(field, strconv.Quote(raw)+" is not a usable path: "+errDetail(err))
		case norm != raw && !(raw[len(raw)-1] == '/' && norm == raw[:len(raw)-1]):
			po.Fail(field, strconv.Quote(raw)+" is not in normal form (it normalises to "+strconv.Quote(norm)+")")
		case foldCase && lower(norm) != norm:
			po.Fail(field, strconv.Quote(raw)+" must be lower case when case_insensitive_paths is on")
		}
		if m.Exact != "" {
			m.Exact = norm
		} else {
			m.Prefix = norm
		}
		out = append(out, m)
	}
	return out
}

func errDetail(err error) string {
	if e, ok := err.(*provider.Error); ok && e.Detail != "" {
		return e.Detail
	}
	return err.Error()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// providerRefs resolves a list of provider names. other is the rule's
// other list, for the "named twice" check.
func (p *parser) providerRefs(o *conf.Object, field string, other []provider.Provider) []provider.Provider {
	if !o.Has(field) {
		return nil
	}
	names := o.Strings(field)
	if names != nil && len(names) == 0 {
		o.Fail(field, "must not be empty")
	}
	var out []provider.Provider
	for i, n := range names {
		at := field + "[" + strconv.Itoa(i) + "]"
		pr, known := p.byName[n]
		if !known {
			o.Fail(at, "unknown provider "+strconv.Quote(n))
			continue
		}
		p.used[n] = true
		if pr == nil {
			continue // its own errors are reported already
		}
		for _, q := range out {
			if q == pr {
				o.Fail(at, "provider "+strconv.Quote(n)+" is listed twice")
			}
		}
		for _, q := range other {
			if q == pr {
				o.Fail(at, "provider "+strconv.Quote(n)+" is already in all_of")
			}
		}
		out = append(out, pr)
	}
	return out
}

// requirement reads {"any_of": [...], "all_of": [...]} from o. When whole
// is set o is the requirement object itself (and must not be empty);
// otherwise the two members sit among others (claims).
func requirement(o *conf.Object, whole bool) policy.Requirement {
	var r policy.Requirement
	if o == nil {
		return r
	}
	anyOf, allOf := o.Has("any_of"), o.Has("all_of")
	if anyOf {
		r.AnyOf = o.Strings("any_of")
		if r.AnyOf != nil && len(r.AnyOf) == 0 {
			o.Fail("any_of", "must not be empty")
		}
		checkDistinct(o, "any_of", r.AnyOf)
	}
	if allOf {
		r.AllOf = o.Strings("all_of")
		if r.AllOf != nil && len(r.AllOf) == 0 {
			o.Fail("all_of", "must not be empty")
		}
		checkDistinct(o, "all_of", r.AllOf)
	}
	if !anyOf && !allOf {
		o.Fail("", `needs "any_of" and/or "all_of"`)
	}
	for _, v := range append(append([]string(nil), r.AnyOf...), r.AllOf...) {
		if v == "" {
			o.Fail("", "values must not be empty strings")
			break
		}
	}
	if whole {
		o.Done()
	}
	return r
}

func checkDistinct(o *conf.Object, field string, vs []string) {
	for i := range vs {
		for j := 0; j < i; j++ {
			if vs[i] == vs[j] {
				o.Fail(field+"["+strconv.Itoa(i)+"]", strconv.Quote(vs[i])+" is listed twice")
			}
		}
	}
}

func rateLimit(o *conf.Object) *policy.RateLimit {
	if o == nil {
		return nil
	}
	rl := &policy.RateLimit{}
	by := ""
	if o.Has("by") {
		by = o.Enum("by", "", "subject", "credential", "source")
	} else {
		o.Fail("by", `is required: "subject", "credential" or "source"`)
	}
	switch by {
	case "subject":
		rl.By = policy.BySubject
	case "credential":
		rl.By = policy.ByCredential
	case "source":
		rl.By = policy.BySource
	}
	if !o.Has("per_second") {
		o.Fail("per_second", "is required")
	}
	rl.PerSecond = o.Float("per_second", 0, 0, ratelimit.MaxPerSecond)
	if o.Has("per_second") && rl.PerSecond < ratelimit.MinPerSecond {
		o.Fail("per_second", "must be at least "+strconv.FormatFloat(ratelimit.MinPerSecond, 'g', -1, 64)+" (remove rate_limit to allow everything)")
	}
	rl.Burst = o.Int("burst", 0, 1, ratelimit.MaxBurst)
	if rl.Burst == 0 {
		rl.Burst = int64(rl.PerSecond)
		if rl.Burst < 1 {
			rl.Burst = 1
		}
	}
	o.Done()
	return rl
}

// validClaimPath accepts dot-separated non-empty segments without white space.
func validClaimPath(s string) bool {
	if s[0] == '.' || s[len(s)-1] == '.' || hasSpace(s) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' {
			return true
		}
	}
	return false
}
