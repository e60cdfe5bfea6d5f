// Package provider is the shared vocabulary of tokengate's credential checks.
//
// Every credential scheme (API keys, IP rules, rolling codes, scoped tokens,
// JWTs, ...) lives in its own sub-package and implements [Provider]. The
// filter builds one [Request] per HTTP request, asks the providers a route
// accepts, and turns the first [*Error] or the [Identity] into a reply.
//
// This package is a leaf: it imports only the standard library, so providers,
// the policy engine, the filter and the configuration can all depend on it
// without cycles. It holds no mutable state.
//
// # Time
//
// Time enters once per request, at the edge: [Request.Now] is read by the
// filter (or by a test) and providers never read a clock themselves.
//
// # Errors
//
// A refusal is an [*Error] carrying a stable [Reason]. Providers declare their
// errors as package variables (see [NewError]) so the hot path does not
// allocate. Details are written for operators and must never contain a
// secret, a key or a token.
package provider

import "net/netip"

// Header is one HTTP header. Name is lower-case, as proxy-wasm hosts deliver it.
type Header struct {
	Name  string
	Value string
}

// Request is what a provider sees of an HTTP request. The filter fills it
// once per request; providers must treat it as read-only.
type Request struct {
	// Method is the :method pseudo-header, e.g. "GET".
	Method string
	// Authority is the :authority pseudo-header (host and optional port).
	Authority string
	// RawPath is the :path pseudo-header exactly as received, query included.
	RawPath string
	// Path is the normalised path (no query) the policy engine matched on.
	Path string
	// Query is the raw query string, without the leading '?'.
	Query string
	// Headers are all request headers in wire order, names lower-case,
	// pseudo-headers included.
	Headers []Header
	// Source is the client address the policy trusts: the peer address, or
	// the configured x-forwarded-for hop. Invalid when unknown. Read it
	// with ClientAddr: the filter may leave it to SourceLoader.
	Source netip.Addr
	// SourceLoader, when set, supplies Source on the first ClientAddr call.
	// The filter sets it so that requests nobody asks the address of do
	// not pay for fetching and parsing it from the host.
	SourceLoader SourceLoader
	// Now is the request time in unix nanoseconds.
	Now int64
	// Body is the request body when the route asked for it to be buffered.
	Body []byte
}

// SourceLoader computes a request's client address on demand.
type SourceLoader interface {
	LoadSource() netip.Addr
}

// ClientAddr returns Source, loading it first when a SourceLoader is
// pending (once: the loader is dropped after use).
func (r *Request) ClientAddr() netip.Addr {
	if l := r.SourceLoader; l != nil {
		r.SourceLoader = nil
		r.Source = l.LoadSource()
	}
	return r.Source
}

// Header returns the first value of the named header (name in lower case)
// and how many times the header occurs. n is 0 when it is absent.
func (r *Request) Header(name string) (value string, n int) {
	for i := range r.Headers {
		if r.Headers[i].Name == name {
			if n == 0 {
				value = r.Headers[i].Value
			}
			n++
		}
	}
	return value, n
}

// QueryParam returns the first raw (still percent-encoded) value of the named
// query parameter and how many times it occurs.
func (r *Request) QueryParam(name string) (value string, n int) {
	q := r.Query
	for len(q) > 0 {
		var part string
		if i := indexByte(q, '&'); i >= 0 {
			part, q = q[:i], q[i+1:]
		} else {
			part, q = q, ""
		}
		key, val := part, ""
		if i := indexByte(part, '='); i >= 0 {
			key, val = part[:i], part[i+1:]
		}
		if key == name {
			if n == 0 {
				value = val
			}
			n++
		}
	}
	return value, n
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// Identity is who a provider found the caller to be.
type Identity struct {
	// Subject names the caller (user id, client name, key owner).
	Subject string
	// Provider is the configured name of the provider that verified the
	// credential; the filter fills it in.
	Provider string
	// Scopes are the permissions the credential carries, if any.
	Scopes []string
	// Role is a role name, for schemes that have one (authnzerver).
	Role string
	// Headers are extra headers to pass upstream on success (for example
	// X-API-Token-Recipient or mapped JWT claims). Names lower-case.
	// Read-only: a provider may hand the same slice to successive
	// identities (verified-token caches do).
	Headers []Header
	// Claims are verified claims flattened by dotted path (e.g. "scope",
	// "org.team") for per-rule claim checks; nil for schemes without claims
	// and for providers told to skip them (ClaimsSkipper).
	// Read-only: a provider may hand the same map to successive identities.
	Claims map[string][]string
	// ExpiresAt is when the credential stops being valid, in unix
	// nanoseconds, or 0 when unknown. Caches must not outlive it.
	ExpiresAt int64
}

// Provider verifies one kind of credential. Implementations are built once
// from the configuration and are used by one VM at a time (proxy-wasm VMs are
// single-threaded). No state of one request may outlive its Verify call;
// reusing scratch buffers between calls is fine (and is how the verifiers
// avoid allocating), which is also why a Provider is not safe for
// concurrent use.
type Provider interface {
	// Name is the provider's configured name, unique in the configuration.
	Name() string
	// Kind is the configuration type, e.g. "api_key".
	Kind() string
	// Challenge is the WWW-Authenticate challenge for this provider, e.g.
	// `ApiKey realm="tokengate"`, or "" when the scheme has none.
	Challenge() string
	// Verify checks the request's credential. It returns ErrNoCredential
	// (reason credential_missing) when the request does not carry this
	// provider's credential at all, another *Error when it carries a bad
	// one, or a *NeedCallout when it must ask a remote service first.
	Verify(req *Request) (Identity, error)
}

// ClaimsSkipper is implemented by providers that can leave
// Identity.Claims nil. Per-rule claim requirements are the only reader of
// Claims, so plugin/config calls SkipClaims on every provider that no rule
// with claim requirements names; a provider never told keeps building
// them. A wrong call fails closed: a claim requirement finds no claim.
type ClaimsSkipper interface {
	SkipClaims()
}

// Constructor builds a provider from its configuration object. It records
// every configuration problem on o (with the field's path) and returns nil
// when there were any. o.Done() is the constructor's job. Each provider
// package exports one, named FromConfig, and plugin/config maps the "type"
// names to them.
//
// Imported here as a function type only; see package conf.
//	func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider

// Stripper is implemented by providers whose credential can be removed from
// the request before it goes upstream (on by default in the filter).
type Stripper interface {
	// Strip records in e what to remove so the upstream does not see the
	// credential.
	Strip(req *Request, e *Edits)
}

// Edits are changes to the request headers the filter applies before
// forwarding.
type Edits struct {
	// RemoveHeaders lists header names (lower-case) to delete.
	RemoveHeaders []string
	// RemoveQueryParams lists query parameter names to delete from :path.
	RemoveQueryParams []string
}

// Ticker is implemented by providers with background work (key refresh,
// cache expiry). The filter calls Tick from the root context's timer.
type Ticker interface {
	// TickPeriodMillis is how often the provider wants Tick, 0 for never.
	TickPeriodMillis() uint32
	// Tick runs background work. It may return callouts to dispatch; their
	// responses go to the Callout's Resume with a nil request.
	Tick(now int64) []*NeedCallout
}
