package authnz

import (
	"encoding/base64"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type of this provider.
const Kind = "authnzerver_key"

// MaxTokenBytes is the largest credential looked at.
const MaxTokenBytes = 8192

var (
	errOversize  = provider.NewError(provider.ReasonOversize, "api key is too long")
	errAmbiguous = provider.NewError(provider.ReasonAmbiguous, "authorization header repeated")
	errMalformed = provider.NewError(provider.ReasonMalformed, "authorization header is not \"<scheme> <key>\"")
	errEnvelope  = provider.NewError(provider.ReasonMalformed, "api key envelope is not canonical padded base64")
)

// Provider is a configured authnzerver_key provider.
type Provider struct {
	name      string
	header    string
	scheme    string // lower case; "" means the header holds the bare key
	b64       bool   // "b64-fernet" envelope: base64 of the Fernet token
	ttl       int64
	f         *Fernet
	pol       Policy
	outer     []byte
	intern    map[string]string
	challenge string
	revoke    *revocation
	replay    provider.ReplayGuard
	keyBuf    []byte

	okCount, badCount provider.Counter
}

// FromConfig builds an authnzerver_key provider:
//
//	{"type": "authnzerver_key", "fernet_key": {"env": "AUTHNZERVER_SECRET"},
//	 "envelope": "fernet", "header": "authorization", "scheme": "Bearer",
//	 "ttl_seconds": 900, "issuer": "authnzerver", "api_version": 1,
//	 "audiences": ["api.example.org"], "check_ip": true,
//	 "check_user_agent": false, "check_subject": true, "single_use": false,
//	 "revocation": {"cluster": "authnzerver", "authority": "authnzerver",
//	                "path": "/", "timeout_ms": 300, "cache_seconds": 30,
//	                "cache_size": 4096}}
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	keyText := o.RequiredSecret("fernet_key", 44)
	var key []byte
	if keyText != nil {
		k, err := ParseFernetKey(string(keyText))
		if err != nil {
			o.Fail("fernet_key", err.Error())
		}
		key = k
	}
	p := &Provider{
		name:   name,
		header: provider.LowerASCII(o.String("header", "authorization")),
		b64:    o.Enum("envelope", "fernet", "fernet", "b64-fernet") == "b64-fernet",
		ttl:    o.Int("ttl_seconds", 0, 0, 10*365*86400),
		intern: map[string]string{},
		outer:  make([]byte, 0, MaxTokenBytes),
	}
	scheme := o.String("scheme", "Bearer")
	p.scheme = provider.LowerASCII(scheme)
	p.pol.Issuer = o.RequiredString("issuer")
	if raw, typ := o.Raw("api_version"); raw == nil {
		o.Fail("api_version", "is required (the API version the keys carry, number or string)")
	} else if typ != jsonparser.Number && typ != jsonparser.String {
		o.Fail("api_version", "must be a number or a string")
	} else {
		p.pol.Version, p.pol.VersionType = raw, typ
	}
	p.pol.Audiences = o.Strings("audiences")
	p.pol.CheckIP = o.Bool("check_ip", true)
	p.pol.CheckUA = o.Bool("check_user_agent", false)
	p.pol.CheckSubject = o.Bool("check_subject", true)
	if o.Bool("single_use", false) {
		if d.Replay == nil {
			o.Fail("single_use", "needs the shared replay store, which is not available")
		}
		p.replay = d.Replay
	}
	if r := o.Object("revocation"); r != nil {
		p.revoke = newRevocation(name, r)
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	f, err := NewFernet(key, MaxTokenBytes)
	if err != nil {
		o.Fail("fernet_key", err.Error())
		return nil
	}
	p.f = f
	if p.revoke != nil {
		// The revocation envelope is encrypted with the same shared key
		// (authnzerver's AUTHNZERVER_SECRET), by a Fernet of its own.
		p.revoke.f, _ = NewFernet(key, 64<<10)
	}
	if p.scheme != "" {
		p.challenge = scheme + ` realm="tokengate"`
	}
	if p.ttl == 0 {
		d.Warn("ttl_seconds is 0, so only the keys' own exp limits their age")
	}
	p.okCount = d.Counter("authnzerver_key.ok")
	p.badCount = d.Counter("authnzerver_key.refused")
	return p
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return p.challenge }

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	id, err := p.verify(req)
	switch err.(type) {
	case nil:
		p.okCount.Increment(1)
	case *provider.NeedCallout:
	default:
		if err != provider.ErrNoCredential {
			p.badCount.Increment(1)
		}
	}
	return id, err
}

func (p *Provider) verify(req *provider.Request) (provider.Identity, error) {
	h, n := req.Header(p.header)
	switch {
	case n == 0:
		return provider.Identity{}, provider.ErrNoCredential
	case n > 1:
		return provider.Identity{}, errAmbiguous
	case len(h) > MaxTokenBytes+len(p.scheme)+1:
		return provider.Identity{}, errOversize
	}
	tok := h
	if p.scheme != "" {
		i := 0
		for i < len(h) && h[i] != ' ' {
			i++
		}
		if !provider.EqualLowerASCII(h[:i], p.scheme) {
			return provider.Identity{}, provider.ErrNoCredential // another scheme
		}
		if i+1 >= len(h) {
			return provider.Identity{}, errMalformed
		}
		tok = h[i+1:]
	}
	c, err := p.Check(unsafeBytes(tok), req)
	if err != nil {
		return provider.Identity{}, err
	}
	id := provider.Identity{
		Subject:   p.interned(c.Uid),
		Role:      p.interned(c.Rol),
		ExpiresAt: c.Exp * 1000,
	}
	if p.replay != nil {
		// One use per key (its tkn) across all VMs, until exp.
		k := append(p.keyBuf[:0], "az/"...)
		k = append(k, p.name...)
		k = append(k, '/')
		k = append(k, c.Tkn...)
		p.keyBuf = k
		if err := p.replay.Use(string(k), req.Now, id.ExpiresAt); err != nil {
			return provider.Identity{}, err
		}
	}
	if p.revoke != nil {
		return p.revoke.check(id, &c, req, p.plainJSON())
	}
	return id, nil
}

// Check decrypts a key (in the configured envelope) and applies the claim
// policy for req. The claims are views into scratch space.
func (p *Provider) Check(tok []byte, req *provider.Request) (Claims, error) {
	if p.b64 {
		n := base64.StdEncoding.DecodedLen(len(tok))
		if n > cap(p.outer) {
			return Claims{}, errOversize
		}
		m, err := strictStd.Decode(p.outer[:n], tok)
		if err != nil || len(tok)%4 != 0 {
			return Claims{}, errEnvelope
		}
		tok = p.outer[:m]
	}
	plain, _, err := p.f.Decrypt(tok, req.Now, p.ttl)
	if err != nil {
		return Claims{}, err
	}
	c, err := parseClaims(plain)
	if err != nil {
		return Claims{}, err
	}
	if err := p.pol.check(&c, req); err != nil {
		return Claims{}, err
	}
	return c, nil
}

var strictStd = base64.StdEncoding.Strict()

// plainJSON is the last decrypted key JSON (for the revocation call-out).
func (p *Provider) plainJSON() []byte { return p.f.lastPlain }

// interned returns b as a string, reusing earlier strings so repeated
// subjects and roles do not allocate; the table is bounded.
func (p *Provider) interned(b []byte) string {
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.intern) < 4096 {
		p.intern[s] = s
	}
	return s
}

// Strip implements provider.Stripper: the key is not forwarded.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	e.RemoveHeaders = append(e.RemoveHeaders, p.header)
}
