// Package introspect checks opaque tokens and session ids against an auth
// service by HTTP callout (provider type "introspection").
//
// By default it speaks OAuth 2.0 Token Introspection (RFC 7662): a POST of
// `token=<token>` as a form, answered by a JSON object whose "active" is
// true for a good token, with "sub"/"username", "scope" and "exp". The
// request body and the answer's field paths are configurable, so services
// with their own shape (e.g. an authnzerver-like `session-exists` call
// answering {"success": true, "response": {"session_info": {...}}}) fit.
//
// # Failure policy
//
// An answer that is not a 200 with a strict JSON object, that lacks the
// configured fields, or that does not arrive in time is a failure:
// callout_failed / callout_timeout (503), never a pass. Only with
// "failure_policy": "allow" is the request let through on failure; that
// opt-in is logged at start, every fail-open is counted (metric
// "fail_open") and marked upstream with the header x-tokengate-fail-open.
//
// # Caching
//
// Verdicts are cached per VM by the whole token (package tokencache):
// active answers for positive_ttl_seconds but never past the token's "exp",
// inactive answers for negative_ttl_seconds. Failures are never cached.
package introspect

import (
	"strconv"
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
	"github.com/tokengate/tokengate/plugin/provider/tokencache"
)

// Kind is the configuration type name.
const Kind = "introspection"

var (
	errOversize  = provider.NewError(provider.ReasonOversize, "token longer than max_token_bytes")
	errMalformed = provider.NewError(provider.ReasonMalformed, "token has characters outside the token alphabet")
	errAmbiguous = provider.NewError(provider.ReasonAmbiguous, "credential sent more than once")
	errHeader    = provider.NewError(provider.ReasonMalformed, "authorization header is not '<scheme> <token>'")
	errInactive  = provider.NewError(provider.ReasonUnknown, "token not active")
	errExpired   = provider.NewError(provider.ReasonExpired, "token past its exp")
	errNoAnswer  = provider.NewError(provider.ReasonCalloutFailed, "auth service unreachable")
	errTimeout   = provider.NewError(provider.ReasonCalloutTimeout, "auth service timed out")
	errStatus    = provider.NewError(provider.ReasonCalloutFailed, "auth service answered with an error status")
	errGarbage   = provider.NewError(provider.ReasonCalloutFailed, "auth service answer is not the expected JSON")
)

// FailOpenHeader marks requests let through because the auth service failed.
const FailOpenHeader = "x-tokengate-fail-open"

// Provider is a configured introspection check.
type Provider struct {
	name, challenge string

	// Where the credential is.
	header, scheme, cookie string
	maxBytes               int

	// The call.
	cluster, authority, path, method string
	contentType                      string
	bodyPrefix, bodySuffix           string // around the (encoded) token
	form                             bool
	extraHeaders                     []provider.Header
	timeout                          uint32

	// The answer.
	activePath, subjectPaths, scopePath, rolePath, expPath [][]string
	activeEquals                                           string
	toHeaders                                              [][2]string
	maxBody                                                int

	cache               *tokencache.Cache
	positiveTTL, negTTL int64
	failOpen            bool
	failOpenSubject     string
	failOpenCount       provider.Counter
	failures, timeouts  provider.Counter
	lastFailOpenLog     int64
	warn                func(string)
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Stripper = (*Provider)(nil)
)

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return p.challenge }

// Strip removes the credential before the request goes upstream. Cookies
// are left alone: removing one cookie would mean rewriting the header.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	if p.cookie == "" {
		e.RemoveHeaders = append(e.RemoveHeaders, p.header)
	}
}

// FromConfig builds an "introspection" provider. See README.md.
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{name: name, warn: d.Warn}
	p.cluster = o.RequiredString("cluster")
	p.authority = o.RequiredString("authority")
	p.path = o.String("path", "/introspect")
	if !strings.HasPrefix(p.path, "/") {
		o.Fail("path", `must start with "/"`)
	}
	p.method = o.Enum("method", "POST", "POST", "GET")
	p.timeout = uint32(o.Int("timeout_ms", 2000, 1, 60000))
	p.maxBytes = int(o.Int("max_token_bytes", 4096, 8, 65536))
	p.maxBody = int(o.Int("max_response_bytes", 65536, 256, 1<<20))

	p.header = "authorization"
	p.scheme = "Bearer"
	if src := o.Object("source"); src != nil {
		p.header = strings.ToLower(src.String("header", "authorization"))
		p.scheme = src.String("scheme", "")
		p.cookie = src.String("cookie", "")
		if p.cookie != "" && (src.Has("header") || src.Has("scheme")) {
			src.Fail("cookie", "use either cookie or header/scheme")
		}
		if p.cookie != "" {
			p.header = "cookie"
		}
		if src.Has("header") && !src.Has("scheme") {
			p.scheme = ""
		}
		src.Done()
	}
	if p.scheme != "" {
		p.challenge = p.scheme + ` realm="tokengate"`
	}

	// Request shape: RFC 7662 form by default, or a JSON template.
	p.form = true
	p.contentType = "application/x-www-form-urlencoded"
	p.bodyPrefix = "token="
	if rq := o.Object("request"); rq != nil {
		if tmpl := rq.String("json_template", ""); tmpl != "" {
			before, after, ok := strings.Cut(tmpl, `"{token}"`)
			if !ok || strings.Contains(after, `"{token}"`) {
				rq.Fail("json_template", `must contain "{token}" (with its quotes) exactly once`)
			} else if err := jsonobj.ValidateObject([]byte(before + `"x"` + after)); err != nil {
				rq.Fail("json_template", "is not a JSON object")
			}
			p.form, p.contentType = false, "application/json"
			p.bodyPrefix, p.bodySuffix = before+`"`, `"`+after
		} else if f := rq.String("form_field", ""); f != "" {
			p.bodyPrefix = formEscape(f) + "="
		}
		if extra := rq.Object("form_extra"); extra != nil && p.form {
			for _, k := range extra.Names() {
				p.bodySuffix += "&" + formEscape(k) + "=" + formEscape(extra.String(k, ""))
			}
			extra.Done()
		}
		if hs := rq.Object("headers"); hs != nil {
			for _, k := range hs.Names() {
				v := hs.Secret(k, 1) // credentials for the auth service: inline or {"env": NAME}
				if v != nil {
					p.extraHeaders = append(p.extraHeaders, provider.Header{Name: strings.ToLower(k), Value: string(v)})
				}
			}
			hs.Done()
		}
		rq.Done()
	}

	// Answer mapping (dotted paths).
	p.activePath = [][]string{{"active"}}
	p.subjectPaths = [][]string{{"sub"}, {"username"}}
	p.scopePath = [][]string{{"scope"}}
	p.expPath = [][]string{{"exp"}}
	if rs := o.Object("response"); rs != nil {
		if s := rs.String("active_path", ""); s != "" {
			p.activePath = [][]string{strings.Split(s, ".")}
		}
		p.activeEquals = rs.String("active_equals", "")
		if s := rs.Strings("subject_paths"); len(s) > 0 {
			p.subjectPaths = nil
			for _, x := range s {
				p.subjectPaths = append(p.subjectPaths, strings.Split(x, "."))
			}
		}
		if s := rs.String("scope_path", ""); s != "" {
			p.scopePath = [][]string{strings.Split(s, ".")}
		}
		if s := rs.String("role_path", ""); s != "" {
			p.rolePath = [][]string{strings.Split(s, ".")}
		}
		if s := rs.String("exp_path", ""); s != "" {
			p.expPath = [][]string{strings.Split(s, ".")}
		}
		if h := rs.Object("claims_to_headers"); h != nil {
			for _, c := range h.Names() {
				p.toHeaders = append(p.toHeaders, [2]string{c, strings.ToLower(h.String(c, ""))})
			}
			h.Done()
		}
		rs.Done()
	}

	capacity := int(o.Int("cache_capacity", 4096, 0, 1<<20))
	p.positiveTTL = o.Int("positive_ttl_seconds", 60, 0, 86400) * 1e9
	p.negTTL = o.Int("negative_ttl_seconds", 10, 0, 3600) * 1e9
	if capacity > 0 {
		p.cache = tokencache.New(tokencache.Config{Capacity: capacity, MaxTokenBytes: p.maxBytes,
			Hits: d.Counter("cache_hit"), Misses: d.Counter("cache_miss")})
	}
	p.failOpen = o.Enum("failure_policy", "deny", "deny", "allow") == "allow"
	p.failOpenSubject = o.String("fail_open_subject", "unverified")
	if p.failOpen {
		d.Warn("introspection provider " + strconv.Quote(name) + ": failure_policy allow lets requests through when the auth service fails")
	}
	p.failOpenCount = d.Counter("fail_open")
	p.failures = d.Counter("callout_failed")
	p.timeouts = d.Counter("callout_timeout")
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	return p
}

// formEscape percent-encodes everything but RFC 3986 unreserved characters.
func formEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// token finds the credential.
func (p *Provider) token(req *provider.Request) (string, error) {
	if p.cookie != "" {
		return p.cookieToken(req)
	}
	v, n := req.Header(p.header)
	if n == 0 {
		return "", provider.ErrNoCredential
	}
	if n > 1 {
		return "", errAmbiguous
	}
	if p.scheme != "" {
		sp := strings.IndexByte(v, ' ')
		if sp < 0 {
			if strings.EqualFold(v, p.scheme) {
				return "", errHeader
			}
			return "", provider.ErrNoCredential
		}
		if !strings.EqualFold(v[:sp], p.scheme) {
			return "", provider.ErrNoCredential
		}
		v = v[sp+1:]
	}
	return v, p.check(v)
}

func (p *Provider) cookieToken(req *provider.Request) (string, error) {
	found, val := 0, ""
	for _, h := range req.Headers {
		if h.Name != "cookie" {
			continue
		}
		rest := h.Value
		for rest != "" {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			part = strings.TrimSpace(part)
			if k, v, ok := strings.Cut(part, "="); ok && k == p.cookie {
				found++
				val = v
			}
		}
	}
	switch {
	case found == 0:
		return "", provider.ErrNoCredential
	case found > 1:
		return "", errAmbiguous
	}
	return val, p.check(val)
}

// check bounds the token and restricts it to visible ASCII without quotes,
// backslashes or separators, so it can be placed in a form or JSON body
// without escaping surprises.
func (p *Provider) check(tok string) error {
	if len(tok) > p.maxBytes {
		return errOversize
	}
	if tok == "" {
		return errMalformed
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';' {
			return errMalformed
		}
	}
	return nil
}

// Verify implements provider.Provider: a cached verdict, or a callout.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	tok, err := p.token(req)
	if err != nil {
		return provider.Identity{}, err
	}
	if r, ok := p.cache.Get(tok, req.Now); ok {
		return r.Identity, r.Err
	}
	now := req.Now
	tok = strings.Clone(tok)
	return provider.Identity{}, &provider.NeedCallout{
		Call: p.call(tok),
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			return p.resume(tok, now, resp)
		},
	}
}

func (p *Provider) call(tok string) provider.Callout {
	enc := tok
	if p.form {
		enc = formEscape(tok)
	}
	headers := []provider.Header{
		{Name: ":method", Value: p.method},
		{Name: ":path", Value: p.path},
		{Name: ":authority", Value: p.authority},
		{Name: "accept", Value: "application/json"},
	}
	c := provider.Callout{Cluster: p.cluster, TimeoutMillis: p.timeout}
	if p.method == "GET" {
		sep := "?"
		if strings.Contains(p.path, "?") {
			sep = "&"
		}
		headers[1].Value = p.path + sep + p.bodyPrefix + formEscape(tok)
	} else {
		headers = append(headers, provider.Header{Name: "content-type", Value: p.contentType})
		c.Body = []byte(p.bodyPrefix + enc + p.bodySuffix)
	}
	c.Headers = append(headers, p.extraHeaders...)
	return c
}

func (p *Provider) resume(tok string, now int64, resp *provider.CalloutResponse) (provider.Identity, error) {
	id, err, cacheable := p.interpret(now, resp)
	if err == nil {
		exp := now + p.positiveTTL
		if id.ExpiresAt > 0 && id.ExpiresAt < exp {
			exp = id.ExpiresAt
		}
		p.cache.Put(tok, tokencache.Result{Identity: id}, now, exp)
		return id, nil
	}
	if cacheable {
		p.cache.Put(tok, tokencache.Result{Err: err}, now, now+p.negTTL)
		return provider.Identity{}, err
	}
	// The service failed: deny, or (opt-in) let through, metered and logged.
	if err == errTimeout {
		p.timeouts.Increment(1)
	} else {
		p.failures.Increment(1)
	}
	if !p.failOpen {
		return provider.Identity{}, err
	}
	p.failOpenCount.Increment(1)
	if now-p.lastFailOpenLog > 60e9 {
		p.lastFailOpenLog = now
		p.warn("introspection provider " + p.name + ": auth service failing (" + string(provider.ReasonOf(err)) + "), failing open")
	}
	return provider.Identity{Subject: p.failOpenSubject, Headers: []provider.Header{{Name: FailOpenHeader, Value: "1"}}}, nil
}

// interpret reads the answer. cacheable is true for a definitive negative
// verdict (inactive, expired), false for failures.
func (p *Provider) interpret(now int64, resp *provider.CalloutResponse) (provider.Identity, error, bool) {
	switch {
	case resp == nil || resp.Status == 0:
		return provider.Identity{}, errNoAnswer, false
	case resp.Status == 504:
		return provider.Identity{}, errTimeout, false
	case resp.Status != 200:
		return provider.Identity{}, errStatus, false
	case len(resp.Body) > p.maxBody || jsonobj.ValidateObject(resp.Body) != nil:
		return provider.Identity{}, errGarbage, false
	}
	// Duplicate members anywhere along the paths would make the verdict
	// ambiguous: walk the document once to refuse them.
	claims := make(map[string][]string, 8)
	if jsonobj.Flatten(claims, "", resp.Body) != nil {
		return provider.Identity{}, errGarbage, false
	}
	v, t, _, err := jsonparser.Get(resp.Body, p.activePath[0]...)
	if err != nil {
		return provider.Identity{}, errGarbage, false
	}
	active := false
	switch {
	case p.activeEquals != "":
		s, ok := jsonobj.Scalar(v, t)
		active = ok && s == p.activeEquals
	case t == jsonparser.Boolean:
		active = string(v) == "true"
	default:
		return provider.Identity{}, errGarbage, false
	}
	if !active {
		return provider.Identity{}, errInactive, true
	}
	id := provider.Identity{Claims: claims}
	for _, sp := range p.subjectPaths {
		if v, t, _, err := jsonparser.Get(resp.Body, sp...); err == nil {
			if s, ok := jsonobj.Scalar(v, t); ok && s != "" {
				id.Subject = s
				break
			}
		}
	}
	if id.Subject == "" || !headerSafe(id.Subject) {
		return provider.Identity{}, errGarbage, false
	}
	if v, t, _, err := jsonparser.Get(resp.Body, p.expPath[0]...); err == nil {
		if t != jsonparser.Number {
			return provider.Identity{}, errGarbage, false
		}
		f, err := jsonparser.ParseFloat(v)
		if err != nil || f > 1<<33 {
			return provider.Identity{}, errGarbage, false
		}
		id.ExpiresAt = int64(f) * 1e9
		if id.ExpiresAt <= now {
			return provider.Identity{}, errExpired, true
		}
	}
	if v, t, _, err := jsonparser.Get(resp.Body, p.scopePath[0]...); err == nil {
		if s, ok := jsonobj.Scalar(v, t); ok && t == jsonparser.String {
			id.Scopes = strings.Fields(s)
		} else if t == jsonparser.Array {
			id.Scopes = claims[strings.Join(p.scopePath[0], ".")]
		}
	}
	if p.rolePath != nil {
		if v, t, _, err := jsonparser.Get(resp.Body, p.rolePath[0]...); err == nil {
			id.Role, _ = jsonobj.Scalar(v, t)
		}
	}
	for _, h := range p.toHeaders {
		if vals := claims[h[0]]; len(vals) > 0 {
			if s := strings.Join(vals, ","); headerSafe(s) {
				id.Headers = append(id.Headers, provider.Header{Name: h[1], Value: s})
			}
		}
	}
	return id, nil, false
}

func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
