// Package session verifies opaque session tokens (bottleship's uuid4
// tokens, authnzerver's session tokens, or any server-side session) by
// asking the service that issued them, through an HTTP call-out from the
// proxy. It is the "session" provider type.
//
// # Where the token is found
//
// "sources" is an ordered list; the first source holding a non-empty value
// wins, as bottleship does (cookie "Token" first, then the "Token" field):
//
//	"sources": [{"cookie": "Token"}, {"query": "Token"}, {"header": "x-session"}]
//
// A source present twice (two cookies or two query parameters of that
// name) is refused as ambiguous. Tokens are 1..max_token_bytes (default
// 256) visible ASCII characters without '"' or '\'.
//
// # Auth-service contract
//
// The proxy sends, to "cluster" with ":authority" "authority":
//
//	POST <path>                      (default /tokengate/session)
//	content-type: application/json
//
//	{"token": "<token>", "client_ip": "203.0.113.7", "user_agent": "curl/8.0"}
//
// client_ip is "" when the proxy does not know the address; user_agent is
// "" when absent. The service answers 200 with a JSON object:
//
//	{"valid": true, "subject": "svc-reporter", "role": "service",
//	 "expires_at": 1718400600.25, "bound_ip": "192.0.2.10"}
//	{"valid": false}
//
// "subject" (non-empty string) and "expires_at" (unix seconds, may be
// fractional) are required when valid; "role" and "bound_ip" are optional.
// The session is accepted while now <= expires_at (bottleship's rule). Any
// other status, a malformed body, no answer or a timeout (timeout_ms,
// default 200) refuses the request (deny by default, callout_failed → 503).
//
// # Binding
//
// With bind_ip (default true), a session whose answer carries bound_ip is
// refused (binding_mismatch) from any other source address, including an
// unknown one. bottleship itself only checks the address at login; its
// session table does not record it, so an adapter in front of bottleship
// simply omits bound_ip.
//
// # Cache
//
// Answers are cached per VM, keyed by the token's SHA-256 (the token itself
// is not kept): valid ones for cache_seconds (default 5, never past
// expires_at), invalid ones for negative_cache_seconds (default 2). The
// cache holds at most cache_size entries (default 1024); when full, expired
// entries go first, then arbitrary ones. Revoking a session therefore takes
// effect at the edge within cache_seconds.
//
// # Configuration
//
//	{"name": "sessions", "type": "session", "cluster": "bottleship-auth",
//	 "authority": "auth.internal", "path": "/tokengate/session",
//	 "timeout_ms": 200, "sources": [{"cookie": "Token"}, {"query": "Token"}],
//	 "cache_seconds": 5, "negative_cache_seconds": 2, "cache_size": 1024,
//	 "bind_ip": true, "strip": true}
//
// Client: unchanged (the browser or bot sends the Token cookie it got at
// login, or ?Token=...).
package session

import (
	"crypto/sha256"
	"net/netip"
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type of this provider.
const Kind = "session"

var (
	ErrUnknown      = provider.NewError(provider.ReasonUnknown, "session does not exist")
	ErrExpired      = provider.NewError(provider.ReasonExpired, "session has expired")
	ErrBinding      = provider.NewError(provider.ReasonBinding, "session is bound to another address")
	ErrMalformed    = provider.NewError(provider.ReasonMalformed, "session token has invalid characters")
	ErrOversize     = provider.NewError(provider.ReasonOversize, "session token is too long")
	ErrAmbiguous    = provider.NewError(provider.ReasonAmbiguous, "session token presented more than once")
	ErrCalloutFails = provider.NewError(provider.ReasonCalloutFailed, "auth service did not answer usably")
)

type sourceKind uint8

const (
	srcCookie sourceKind = iota
	srcHeader
	srcQuery
)

type source struct {
	kind sourceKind
	name string // cookie and query names as configured; header names lower case
}

type entry struct {
	valid     bool
	subject   string
	role      string
	expiresAt int64 // ns
	boundIP   netip.Addr
	until     int64 // ns
}

// Provider is a configured session provider.
type Provider struct {
	name, cluster, authority, path string
	timeoutMs                      uint32
	sources                        []source
	maxToken                       int
	posNs, negNs                   int64
	size                           int
	bindIP, strip                  bool
	cache                          map[[32]byte]entry
	tok                            []byte

	okCount, badCount, hitCount, calloutCount provider.Counter
	sizeGauge                                 provider.Gauge
}

// FromConfig builds a session provider (see the package doc).
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{
		name:      name,
		cluster:   o.RequiredString("cluster"),
		authority: o.String("authority", ""),
		path:      o.String("path", "/tokengate/session"),
		timeoutMs: uint32(o.Int("timeout_ms", 200, 1, 60000)),
		maxToken:  int(o.Int("max_token_bytes", 256, 8, 8192)),
		posNs:     o.Int("cache_seconds", 5, 0, 3600) * 1e9,
		negNs:     o.Int("negative_cache_seconds", 2, 0, 3600) * 1e9,
		size:      int(o.Int("cache_size", 1024, 1, 1<<20)),
		bindIP:    o.Bool("bind_ip", true),
		strip:     o.Bool("strip", true),
		cache:     map[[32]byte]entry{},
	}
	if p.authority == "" {
		p.authority = p.cluster
	}
	if len(p.path) == 0 || p.path[0] != '/' {
		o.Fail("path", "must start with '/'")
	}
	if o.Has("sources") {
		for _, so := range o.Objects("sources") {
			names := so.Names()
			if len(names) != 1 {
				so.Fail("", `must be exactly one of {"cookie": NAME}, {"header": NAME}, {"query": NAME}`)
				continue
			}
			var s source
			switch names[0] {
			case "cookie":
				s.kind = srcCookie
			case "header":
				s.kind = srcHeader
			case "query":
				s.kind = srcQuery
			default:
				so.Fail(names[0], "unknown source kind (cookie, header or query)")
				continue
			}
			s.name = so.RequiredString(names[0])
			if s.kind == srcHeader {
				s.name = provider.LowerASCII(s.name)
			}
			p.sources = append(p.sources, s)
		}
		if len(p.sources) == 0 {
			o.Fail("sources", "must list at least one source")
		}
	} else {
		p.sources = []source{{srcCookie, "Token"}, {srcQuery, "Token"}}
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	p.tok = make([]byte, 0, p.maxToken)
	p.okCount = d.Counter("session.ok")
	p.badCount = d.Counter("session.refused")
	p.hitCount = d.Counter("session.cache_hit")
	p.calloutCount = d.Counter("session.callout")
	p.sizeGauge = d.Gauge("session.cache_entries")
	return p
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return "" }

// Verify implements provider.Provider. It answers from the cache or returns
// a *provider.NeedCallout to the auth service.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	tok, err := p.token(req)
	if err != nil {
		if err != provider.ErrNoCredential {
			p.badCount.Increment(1)
		}
		return provider.Identity{}, err
	}
	key := sha256.Sum256(tok)
	if e, ok := p.cache[key]; ok && e.until >= req.Now {
		p.hitCount.Increment(1)
		return p.decide(&e, req)
	}
	return provider.Identity{}, p.callout(req, tok, key)
}

func (p *Provider) decide(e *entry, req *provider.Request) (provider.Identity, error) {
	var err error
	switch {
	case !e.valid:
		err = ErrUnknown
	case req.Now > e.expiresAt:
		err = ErrExpired
	case p.bindIP && e.boundIP.IsValid() && (!req.ClientAddr().IsValid() || e.boundIP != req.ClientAddr().Unmap()):
		err = ErrBinding
	}
	if err != nil {
		p.badCount.Increment(1)
		return provider.Identity{}, err
	}
	p.okCount.Increment(1)
	return provider.Identity{Subject: e.subject, Role: e.role, ExpiresAt: e.expiresAt}, nil
}

// token finds the token in the configured sources (a view into scratch
// space or into the request).
func (p *Provider) token(req *provider.Request) ([]byte, error) {
	for _, s := range p.sources {
		var v string
		var n int
		switch s.kind {
		case srcCookie:
			v, n = cookie(req, s.name)
		case srcHeader:
			v, n = req.Header(s.name)
		case srcQuery:
			v, n = req.QueryParam(s.name)
		}
		if n > 1 {
			return nil, ErrAmbiguous
		}
		if n == 0 || v == "" {
			continue
		}
		if len(v) > 3*p.maxToken {
			return nil, ErrOversize
		}
		t := append(p.tok[:0], v...)
		if s.kind == srcQuery {
			var ok bool
			if t, ok = queryUnescape(p.tok[:0], v); !ok {
				return nil, ErrMalformed
			}
		}
		if len(t) > p.maxToken {
			return nil, ErrOversize
		}
		for _, c := range t {
			if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
				return nil, ErrMalformed
			}
		}
		if len(t) == 0 {
			continue
		}
		return t, nil
	}
	return nil, provider.ErrNoCredential
}

func (p *Provider) callout(req *provider.Request, tok []byte, key [32]byte) error {
	p.calloutCount.Increment(1)
	ua, _ := req.Header("user-agent")
	ip := ""
	if req.ClientAddr().IsValid() {
		ip = req.ClientAddr().Unmap().String()
	}
	body := make([]byte, 0, 64+len(tok)+len(ua)+len(ip))
	body = append(body, `{"token":`...)
	body = appendJSONString(body, tok)
	body = append(body, `,"client_ip":`...)
	body = appendJSONString(body, []byte(ip))
	body = append(body, `,"user_agent":`...)
	body = appendJSONString(body, []byte(ua))
	body = append(body, '}')
	// Resume may run in a later callback: keep only what it needs.
	now, source := req.Now, req.ClientAddr()
	return &provider.NeedCallout{
		Call: provider.Callout{
			Cluster: p.cluster,
			Headers: []provider.Header{
				{Name: ":method", Value: "POST"}, {Name: ":path", Value: p.path},
				{Name: ":authority", Value: p.authority},
				{Name: "content-type", Value: "application/json"},
			},
			Body:          body,
			TimeoutMillis: p.timeoutMs,
		},
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			e, ok := parseAnswer(resp)
			if !ok {
				p.badCount.Increment(1)
				return provider.Identity{}, ErrCalloutFails // deny by default, not cached
			}
			p.remember(key, e, now)
			r := provider.Request{Now: now, Source: source}
			return p.decide(&e, &r)
		},
	}
}

// parseAnswer reads the auth service's answer; ok is false when it is not
// a usable answer.
func parseAnswer(resp *provider.CalloutResponse) (entry, bool) {
	if resp == nil || resp.Status != 200 {
		return entry{}, false
	}
	b := resp.Body
	valid, err := jsonparser.GetBoolean(b, "valid")
	if err != nil {
		return entry{}, false
	}
	if !valid {
		return entry{}, true
	}
	subject, err := jsonparser.GetString(b, "subject")
	if err != nil || subject == "" {
		return entry{}, false
	}
	exp, err := jsonparser.GetFloat(b, "expires_at")
	if err != nil || exp != exp || exp <= 0 || exp > 1e11 {
		return entry{}, false
	}
	e := entry{valid: true, subject: subject, expiresAt: int64(exp*1e6) * 1000}
	if v, t, _, err := jsonparser.Get(b, "role"); err == nil && t != jsonparser.Null {
		if t != jsonparser.String {
			return entry{}, false
		}
		r, err := jsonparser.ParseString(v)
		if err != nil {
			return entry{}, false
		}
		e.role = r
	}
	if v, t, _, err := jsonparser.Get(b, "bound_ip"); err == nil && t != jsonparser.Null {
		a, err := netip.ParseAddr(string(v))
		if t != jsonparser.String || err != nil {
			return entry{}, false
		}
		e.boundIP = a.Unmap()
	}
	return e, true
}

func (p *Provider) remember(key [32]byte, e entry, now int64) {
	ttl := p.negNs
	if e.valid {
		ttl = p.posNs
	}
	if ttl == 0 {
		return
	}
	e.until = now + ttl
	if e.valid && e.until > e.expiresAt {
		e.until = e.expiresAt
	}
	if len(p.cache) >= p.size {
		for k, old := range p.cache {
			if old.until < now {
				delete(p.cache, k)
			}
		}
		for k := range p.cache {
			if len(p.cache) < p.size {
				break
			}
			delete(p.cache, k)
		}
	}
	p.cache[key] = e
	p.sizeGauge.Set(int64(len(p.cache)))
}

// Strip implements provider.Stripper for header and query sources (and not
// for cookies: removing one cookie would need a header rewrite). Disabled
// with "strip": false for apps that check the session again.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	if !p.strip {
		return
	}
	for _, s := range p.sources {
		switch s.kind {
		case srcHeader:
			e.RemoveHeaders = append(e.RemoveHeaders, s.name)
		case srcQuery:
			if _, n := req.QueryParam(s.name); n > 0 {
				e.RemoveQueryParams = append(e.RemoveQueryParams, s.name)
			}
		}
	}
}

// cookie returns the value of the named cookie across all Cookie headers,
// and how many times it occurs.
func cookie(req *provider.Request, name string) (value string, n int) {
	for _, h := range req.Headers {
		if h.Name != "cookie" {
			continue
		}
		s := h.Value
		for len(s) > 0 {
			var part string
			if i := strings.IndexByte(s, ';'); i >= 0 {
				part, s = s[:i], s[i+1:]
			} else {
				part, s = s, ""
			}
			part = trimSpace(part)
			eq := strings.IndexByte(part, '=')
			if eq < 0 || trimSpace(part[:eq]) != name {
				continue
			}
			v := trimSpace(part[eq+1:])
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if n == 0 {
				value = v
			}
			n++
		}
	}
	return value, n
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func appendJSONString(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c >= 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func queryUnescape(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return nil, false
			}
			c = byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		}
		dst = append(dst, c)
	}
	return dst, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
