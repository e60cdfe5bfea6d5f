package scopedtoken

import (
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type of this provider.
const Kind = "scoped_token"

var (
	errNoCredentials = provider.NewError(provider.ReasonMalformed, "invalid token header: no credentials provided")
	errSpaces        = provider.NewError(provider.ReasonMalformed, "invalid token header: token string should not contain spaces")
	errAmbiguous     = provider.NewError(provider.ReasonAmbiguous, "scoped token presented more than once")
	errQuery         = provider.NewError(provider.ReasonMalformed, "scoped token query parameter is not valid percent-encoding")
)

// Provider is a configured scoped_token provider.
type Provider struct {
	name          string
	keyword       string // lower case
	authHeader    string
	queryParam    string
	recipientName string
	v             *Verifier
	userText      map[int64]string
	tok           []byte
	challenge     string
	replay        provider.ReplayGuard
	keyBuf        []byte
	cache         *verifiedCache

	okCount, badCount provider.Counter
}

// FromConfig builds a scoped_token provider:
//
//	{"type": "scoped_token", "secret_key": {"env": "DJANGO_SECRET_KEY"},
//	 "salt": "django.core.signing", "accept_legacy_sha1": true,
//	 "header_keyword": "TmpToken", "query_param": "TOKEN",
//	 "recipient_header": "x-api-token-recipient", "users": [7, 8],
//	 "max_future_skew_seconds": 60}
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	secret := o.RequiredSecret("secret_key", 16)
	cfg := Config{
		SecretKey:  secret,
		Salt:       o.String("salt", DefaultSalt),
		LegacySHA1: o.Bool("accept_legacy_sha1", false),
	}
	skew := o.Int("max_future_skew_seconds", 60, -1, 86400)
	cfg.MaxFutureSkewNs = skew * 1e9
	if skew < 0 {
		cfg.MaxFutureSkewNs = -1
	}
	keyword := o.String("header_keyword", "TmpToken")
	p := &Provider{
		name:          name,
		keyword:       provider.LowerASCII(keyword),
		authHeader:    provider.LowerASCII(o.String("header", "authorization")),
		queryParam:    o.String("query_param", "TOKEN"),
		recipientName: provider.LowerASCII(o.String("recipient_header", "x-api-token-recipient")),
		tok:           make([]byte, 0, MaxTokenBytes),
	}
	if o.Bool("single_use", false) {
		if d.Replay == nil {
			o.Fail("single_use", "needs the shared replay store, which is not available")
		}
		p.replay = d.Replay
	}
	if p.keyword == "" || containsSpace(p.keyword) {
		o.Fail("header_keyword", "must be one word")
	}
	if raw, typ := o.Raw("users"); raw != nil {
		users, ok := parseUsers(raw, typ)
		if !ok {
			o.Fail("users", "must be an array of integer user ids")
		}
		cfg.Users = users
		p.userText = map[int64]string{}
		for _, u := range users {
			p.userText[u] = strconv.FormatInt(u, 10)
		}
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	p.v = NewVerifier(cfg)
	p.cache = newVerifiedCache()
	p.challenge = keyword + ` realm="tokengate"`
	p.okCount = d.Counter("scoped_token.ok")
	p.badCount = d.Counter("scoped_token.refused")
	return p
}

func containsSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return true
		}
	}
	return false
}

// bothCarriers reports a keyword Authorization header and the query
// parameter in one request.
func (p *Provider) bothCarriers(req *provider.Request) bool {
	if _, qn := req.QueryParam(p.queryParam); qn == 0 {
		return false
	}
	h, n := req.Header(p.authHeader)
	if n == 0 {
		return false
	}
	first, _ := nextWord(h)
	return provider.EqualLowerASCII(first, p.keyword)
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return p.challenge }

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	tok, err := p.credential(req)
	if err == nil {
		var id provider.Identity
		id, err = p.check(req, tok)
		if err == nil && p.bothCarriers(req) {
			// The original lets a keyword header win over the query
			// parameter. A valid header beside a TOKEN parameter is refused
			// instead (as api_key refuses two carriers): with credential
			// stripping off, the upstream could act on the other token. A
			// failing header keeps its own refusal, as in the original.
			err = errAmbiguous
		}
		if err == nil {
			p.okCount.Increment(1)
			return id, nil
		}
	}
	if err != provider.ErrNoCredential {
		p.badCount.Increment(1)
	}
	return provider.Identity{}, err
}

// credential finds the token like the original: an Authorization header
// whose first word is the keyword (any case) must hold exactly one more
// word; any other header (or none) falls back to the query parameter. A
// failing keyword header never falls back.
func (p *Provider) credential(req *provider.Request) ([]byte, error) {
	h, n := req.Header(p.authHeader)
	if n > 1 {
		return nil, errAmbiguous
	}
	if n == 1 {
		first, rest := nextWord(h)
		if provider.EqualLowerASCII(first, p.keyword) {
			tok, rest := nextWord(rest)
			if tok == "" {
				return nil, errNoCredentials
			}
			if extra, _ := nextWord(rest); extra != "" {
				return nil, errSpaces
			}
			if len(tok) > MaxTokenBytes {
				return nil, ErrOversize
			}
			return append(p.tok[:0], tok...), nil
		}
	}
	q, qn := req.QueryParam(p.queryParam)
	switch {
	case qn == 0:
		return nil, provider.ErrNoCredential
	case qn > 1:
		// The original takes the last value; two tokens in one URL are
		// refused instead of guessing (parameter pollution).
		return nil, errAmbiguous
	case len(q) > 3*MaxTokenBytes:
		return nil, ErrOversize
	}
	tok, ok := queryUnescape(p.tok[:0], q)
	if !ok {
		return nil, errQuery
	}
	if len(tok) == 0 {
		return nil, provider.ErrNoCredential
	}
	return tok, nil
}

func (p *Provider) check(req *provider.Request, tok []byte) (provider.Identity, error) {
	id, err := p.authenticate(req, tok)
	if err != nil {
		return provider.Identity{}, err
	}
	if p.replay != nil {
		// One use per token (its signature) across all VMs, remembered
		// until it expires anyway. Cache hits come through here too.
		k := append(p.keyBuf[:0], "st/"...)
		k = append(k, p.name...)
		k = append(k, '/')
		k = append(k, tok[bytesLastIndexByte(tok, ':')+1:]...)
		p.keyBuf = k
		if err := p.replay.Use(string(k), req.Now, id.ExpiresAt); err != nil {
			return provider.Identity{}, err
		}
	}
	return id, nil
}

// authenticate verifies tok for req: from the verified-token cache when it
// holds exactly this token (only the request-dependent checks run again),
// else in full, remembering the token when it passes.
func (p *Provider) authenticate(req *provider.Request, tok []byte) (provider.Identity, error) {
	slash := rawTrailingSlash(req.RawPath)
	h, e := p.cache.get(tok)
	if e != nil {
		if err := p.v.authorize(e.validity, &e.scope, req.Method, req.Path, slash, req.Now); err != nil {
			return provider.Identity{}, err
		}
		return provider.Identity{Subject: e.subject, Headers: e.headers, ExpiresAt: e.validity.expiresAt()}, nil
	}
	c, err := p.v.verify(tok, req.Method, req.Path, slash, req.Now)
	if err != nil {
		return provider.Identity{}, err
	}
	t := validity{c.IssuedAt, c.MaxAge}
	id := provider.Identity{ExpiresAt: t.expiresAt()}
	if s, ok := p.userText[c.User]; ok {
		id.Subject = s
	} else {
		id.Subject = strconv.FormatInt(c.User, 10)
	}
	if len(c.Recipient) > 0 {
		id.Headers = []provider.Header{{Name: p.recipientName, Value: string(c.Recipient)}}
	}
	p.cache.put(h, tok, t, &p.v.scope, &id)
	return id, nil
}

// Strip implements provider.Stripper: the query parameter always goes, the
// Authorization header only when it carried this provider's keyword.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	if _, n := req.QueryParam(p.queryParam); n > 0 {
		e.RemoveQueryParams = append(e.RemoveQueryParams, p.queryParam)
	}
	if h, n := req.Header(p.authHeader); n > 0 {
		if first, _ := nextWord(h); provider.EqualLowerASCII(first, p.keyword) {
			e.RemoveHeaders = append(e.RemoveHeaders, p.authHeader)
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// nextWord splits like Python's bytes.split() with no argument.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

// queryUnescape decodes a form-encoded value ('+' is a space).
func queryUnescape(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst, true
}

func bytesLastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// rawTrailingSlash reports whether the path part of :path ends with '/'.
// The policy engine's normalised path drops a trailing slash, but Django
// sees it, and prefixes such as "/api/v1/reports/" depend on it: the slash
// is put back (on the normalised, dot-free path) before the prefix test.
func rawTrailingSlash(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '?' {
			raw = raw[:i]
			break
		}
	}
	return len(raw) > 1 && raw[len(raw)-1] == '/'
}
