// Package policy decides, per request, which route rule applies and whether
// the request may pass: ordered rules, path normalisation, any-of / all-of
// evaluation over providers, requirements (scopes, roles, claims), per-rule
// rate limits, shadow mode and CORS preflight. Anything not allowed by a
// rule is denied.
//
// # Matching
//
// Rules are tried in order; the first rule whose hosts, methods and paths
// all match the request decides (see [NormalisePath] for what is normalised
// before matching). No matching rule means 403 no_matching_rule.
//
// # Evaluation
//
// A rule either allows anonymous access or names providers: every provider
// in AllOf must verify (defence in depth, e.g. an IP rule plus a key), and,
// when AnyOf is not empty, at least one provider of AnyOf must verify. AllOf
// is evaluated first. In AnyOf a provider that finds no credential of its
// kind passes the turn to the next; when none verifies, the first real
// refusal (a bad credential rather than a missing one) is reported.
//
// A provider may need an HTTP callout before it can answer. Evaluation is
// then paused: [Evaluation.Callout] returns the call, the caller makes it
// and hands the answer to [Evaluation.Resume], and evaluation continues
// where it stopped.
//
// # Shadow mode
//
// A rule in shadow mode decides as usual, but a denial is reported with
// [Verdict.Shadow] set and Allow true: the caller counts and logs "would
// deny" with the reason and lets the request through.
//
// The package is pure: no clock (time comes from provider.Request.Now), no
// host calls, no logging.
package policy

import (
	"github.com/tokengate/tokengate/plugin/provider"
	"net/netip"
)

// KeyBy names what a rate limit counts by.
type KeyBy uint8

// Rate-limit keys.
const (
	BySubject    KeyBy = iota + 1 // the verified identity (provider and subject)
	ByCredential                  // the credential bytes (hashed); the subject when the provider cannot strip
	BySource                      // the trusted source address
)

// RateLimit is a rule's token bucket.
type RateLimit struct {
	By        KeyBy
	PerSecond float64
	Burst     int64
}

// Limiter takes tokens from shared buckets. plugin/ratelimit provides the
// real one (config adapts it); tests use fakes.
type Limiter interface {
	Take(key string, perSecond float64, burst int64, now int64) (allowed bool, retryAfterSeconds int64)
}

// PathMatch matches a normalised path. Exactly one field is set; both are
// stored normalised (no trailing slash).
type PathMatch struct {
	// Exact matches that path only (and its trailing-slash form).
	Exact string
	// Prefix matches the path and everything below it, on segment
	// boundaries: "/api" matches "/api" and "/api/x", not "/apis".
	Prefix string
}

func (m PathMatch) matches(path string) bool {
	if m.Exact != "" {
		return path == m.Exact
	}
	return underPrefix(path, m.Prefix)
}

func underPrefix(path, prefix string) bool {
	if prefix == "/" {
		return true
	}
	if len(path) < len(prefix) || path[:len(prefix)] != prefix {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// Requirement is an any-of / all-of condition over a set of strings.
type Requirement struct {
	AnyOf []string
	AllOf []string
}

// Empty reports whether the requirement asks for nothing.
func (r Requirement) Empty() bool { return len(r.AnyOf) == 0 && len(r.AllOf) == 0 }

func (r Requirement) satisfiedBy(have []string) bool {
	for _, want := range r.AllOf {
		if !contains(have, want) {
			return false
		}
	}
	if len(r.AnyOf) == 0 {
		return true
	}
	for _, want := range r.AnyOf {
		if contains(have, want) {
			return true
		}
	}
	return false
}

// ClaimRequirement asks for values of one verified claim (dotted path).
type ClaimRequirement struct {
	Claim string
	Requirement
}

// Rule is one ordered route rule. Rules are built once by the
// configuration and never modified afterwards.
type Rule struct {
	// Name is unique and metric-safe.
	Name string
	// Hosts match :authority without port, lower-case; "*.example.test"
	// matches any subdomain (not the apex). Empty matches every host.
	Hosts []string
	// Methods are matched exactly (HTTP methods are case-sensitive).
	// Empty matches every method.
	Methods []string
	// Paths; empty matches every path.
	Paths []PathMatch

	// Anonymous lets matching requests through without credentials.
	Anonymous bool
	// AllOf providers must all verify; then one of AnyOf must (if any).
	AllOf []provider.Provider
	AnyOf []provider.Provider

	// Shadow: decide and report, but never block.
	Shadow bool
	// CORSPreflight lets CORS preflight requests (OPTIONS with Origin and
	// Access-Control-Request-Method) through without credentials. The rule
	// is matched with the method the preflight announces.
	CORSPreflight bool

	Scopes Requirement
	Roles  []string
	Claims []ClaimRequirement

	RateLimit *RateLimit

	// BufferBody makes the filter collect the request body (at most
	// MaxBodyBytes) into provider.Request.Body before asking providers.
	BufferBody   bool
	MaxBodyBytes int

	seq []provider.Provider // AllOf then AnyOf, built by New
}

// Providers returns AllOf then AnyOf: the order they are asked in. The
// slice is shared; callers must not modify it.
func (r *Rule) Providers() []provider.Provider {
	if r.seq == nil {
		r.seq = make([]provider.Provider, 0, len(r.AllOf)+len(r.AnyOf))
		r.seq = append(r.seq, r.AllOf...)
		r.seq = append(r.seq, r.AnyOf...)
	}
	return r.seq
}

func (r *Rule) matches(host, method, path string) bool {
	if len(r.Methods) > 0 && !contains(r.Methods, method) {
		return false
	}
	if len(r.Hosts) > 0 {
		ok := false
		for _, h := range r.Hosts {
			if hostMatches(h, host) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Paths) == 0 {
		return true
	}
	for _, m := range r.Paths {
		if m.matches(path) {
			return true
		}
	}
	return false
}

func hostMatches(pattern, host string) bool {
	if pattern == "*" {
		return true
	}
	if len(pattern) > 2 && pattern[0] == '*' && pattern[1] == '.' {
		suffix := pattern[1:] // ".example.test"
		return len(host) > len(suffix) && host[len(host)-len(suffix):] == suffix
	}
	return host == pattern
}

// HostOf extracts the host of an :authority for matching: port removed,
// IPv6 brackets kept, lower-cased, one trailing dot removed.
func HostOf(authority string) string {
	h := authority
	if len(h) > 0 && h[0] == '[' {
		for i := 1; i < len(h); i++ {
			if h[i] == ']' {
				h = h[:i+1]
				break
			}
		}
	} else {
		for i := len(h) - 1; i >= 0; i-- {
			if h[i] == ':' {
				h = h[:i]
				break
			}
			if h[i] < '0' || h[i] > '9' {
				break
			}
		}
	}
	if len(h) > 0 && h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	return lowerASCII(h)
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Options are the policy-wide settings.
type Options struct {
	// FoldPathCase matches paths case-insensitively (rule paths must then
	// be written in lower case).
	FoldPathCase bool
	// Limiter serves rules with a RateLimit; required when any rule has one.
	Limiter Limiter
	// MaxCallouts bounds the callouts one request may cause (default 4).
	MaxCallouts int
	// SourceKey, when set, names the rate-limit bucket of a client address
	// for `by: source` rules (the configuration hashes addresses onto a
	// fixed number of buckets so shared data stays bounded). Nil keys each
	// network exactly (IPv4 address, IPv6 /64).
	SourceKey func(netip.Addr) string
}

// Policy is an immutable, ordered rule list.
type Policy struct {
	rules []*Rule
	index ruleIndex
	opts  Options
}

// New builds a Policy. The configuration has validated the rules.
func New(rules []*Rule, opts Options) *Policy {
	if opts.MaxCallouts <= 0 {
		opts.MaxCallouts = 4
	}
	for _, r := range rules {
		r.Providers() // build the sequence once, before any request
	}
	return &Policy{rules: rules, index: newRuleIndex(rules), opts: opts}
}

// Rules returns the rules in order. Callers must not modify them.
func (p *Policy) Rules() []*Rule { return p.rules }

// Match returns the first rule matching host (already passed through
// HostOf), method and normalised path, and its index, or nil and -1.
func (p *Policy) Match(host, method, path string) (*Rule, int) {
	for _, i := range p.index.candidates(path) {
		if r := p.rules[i]; r.matches(host, method, path) {
			return r, i
		}
	}
	return nil, -1
}
