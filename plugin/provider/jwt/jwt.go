// Package jwt verifies client-signed JSON Web Tokens (provider type "jwt").
//
// Two shapes of token are covered by one verifier whose claim names are
// configurable:
//
//   - asymmetric-jwt-auth (crgwbr/asymmetric-jwt-auth, profile
//     "asymmetric_jwt_auth"): `Authorization: JWT <jws>`, claims username,
//     time, nonce; each client signs with its own key; time within ±20 s;
//     each nonce accepted once per (username, time).
//   - standard JWTs (profile "standard"): `Authorization: Bearer <jws>`,
//     claims iss, sub, aud, exp, nbf, iat, jti; keys from a JWKS looked up
//     by kid, possibly fetched remotely (see package keys).
//
// # Security rules
//
// The key decides the algorithm: every configured key carries the set of
// algorithms it may verify (its type's, narrowed by a JWK "alg" and by the
// provider's "algorithms"), so "none", HMAC algorithms, an algorithm of
// another key type or one outside the list are refused whatever the header
// says. Keys are found in O(1): by client (the client claim) or by kid;
// a client's own few keys are tried in order, never the keys of others.
// The token is parsed strictly (see token.go). Keys named by the token
// (jku, x5u, jwk, x5c) are ignored.
//
// # Replay and caching
//
// With single_use on (the asymmetric_jwt_auth default) the nonce claim is
// required and accepted once per subject and time across all VMs through
// provider.ReplayGuard; such tokens are never cached. Without single_use,
// verified tokens are cached per VM (package tokencache) until they expire.
//
// # Cost
//
// A fresh token costs its signature check and little else: one pass over
// the header and one over the payload that both validate strictly and
// read the claims (package jsonobj's Object), base64 decoded into a
// buffer reused across requests, no string made for a claim that is only
// compared, and the identity's claims built from one string. A Provider is
// therefore not safe for concurrent use (nor is its cache).
package jwt

import (
	"strconv"
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/keys"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
	"github.com/tokengate/tokengate/plugin/provider/tokencache"
)

// Kind is the configuration type name.
const Kind = "jwt"

// Refusals, declared once.
var (
	errAmbiguous    = provider.NewError(provider.ReasonAmbiguous, "authorization header sent more than once")
	errHeader       = provider.NewError(provider.ReasonMalformed, "authorization header is not '<scheme> <token>'")
	errNoClient     = provider.NewError(provider.ReasonClaims, "client claim missing or not a non-empty string")
	errUnknownClt   = provider.NewError(provider.ReasonUnknown, "unknown client")
	errNoKey        = provider.NewError(provider.ReasonUnknown, "no key of this client or kid")
	errKidRequired  = provider.NewError(provider.ReasonUnknown, "token has no kid and the key set has several keys")
	errAlg          = provider.NewError(provider.ReasonAlgorithm, "algorithm not allowed for the key")
	errSig          = provider.NewError(provider.ReasonBadSignature, "signature does not verify")
	errSubject      = provider.NewError(provider.ReasonClaims, "subject claim missing or not a non-empty string")
	errTimeMissing  = provider.NewError(provider.ReasonClaims, "time claim missing or not a number")
	errTimeOld      = provider.NewError(provider.ReasonExpired, "time claim older than the tolerance")
	errTimeNew      = provider.NewError(provider.ReasonNotYetValid, "time claim newer than the tolerance")
	errNonceMissing = provider.NewError(provider.ReasonClaims, "nonce claim missing or empty")
	errExpType      = provider.NewError(provider.ReasonClaims, "exp, nbf or iat is not a number")
	errExpMissing   = provider.NewError(provider.ReasonClaims, "exp claim required")
	errExpired      = provider.NewError(provider.ReasonExpired, "token is past exp")
	errNbf          = provider.NewError(provider.ReasonNotYetValid, "token is before nbf")
	errIat          = provider.NewError(provider.ReasonNotYetValid, "token iat is in the future")
	errLifetime     = provider.NewError(provider.ReasonClaims, "token lifetime exceeds max_lifetime_seconds")
	errIssuer       = provider.NewError(provider.ReasonIssuer, "issuer does not match")
	errAudience     = provider.NewError(provider.ReasonAudience, "audience does not match")
	errClaimType    = provider.NewError(provider.ReasonClaims, "a checked claim has the wrong type")
)

// client is one configured caller with its own keys.
type client struct {
	keys   []*keys.Key // stored keys, tried in order (kid ignored, as the reference does)
	set    *keys.Set   // static JWKS: kid must match
	remote *keys.Remote
}

// Provider is a configured JWT verifier.
type Provider struct {
	name, challenge string
	header          string
	schemes         []string

	maxBytes     int
	subjectClaim string
	clientClaim  string
	timeClaim    string
	nonceClaim   string
	singleUse    bool
	tolerance    int64 // ns
	leeway       int64 // ns
	requireExp   bool
	maxLifetime  int64 // ns, 0 = unbounded
	issuer       string
	audiences    []string

	clients map[string]*client
	set     *keys.Set    // issuer-wide static keys, by kid
	remote  *keys.Remote // issuer-wide remote keys, by kid
	remotes []*keys.Remote

	toHeaders  []claimHeader
	skipClaims bool // no rule reads Identity.Claims (SkipClaims)
	replay     provider.ReplayGuard
	cache      *tokencache.Cache
	cacheTTL   int64 // ns; bounds how long a key rotation can go unnoticed

	// scratch is reused by every verification: like the cache, it makes
	// a Provider unsafe for concurrent use, which proxy-wasm never asks
	// for (a VM is single-threaded; each VM has its own providers).
	scratch scratch
}

type claimHeader struct{ claim, header string }

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Stripper = (*Provider)(nil)
	_ provider.Ticker   = (*Provider)(nil)
)

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return p.challenge }

// Strip removes the credential header before the request goes upstream.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	e.RemoveHeaders = append(e.RemoveHeaders, p.header)
}

// TickPeriodMillis implements provider.Ticker.
func (p *Provider) TickPeriodMillis() uint32 {
	var period uint32
	for _, r := range p.remotes {
		if t := r.TickPeriodMillis(); period == 0 || t < period {
			period = t
		}
	}
	return period
}

// Tick refreshes remote key sets.
func (p *Provider) Tick(now int64) []*provider.NeedCallout {
	var out []*provider.NeedCallout
	for _, r := range p.remotes {
		out = append(out, r.Tick(now)...)
	}
	return out
}

// token extracts the credential from the configured header.
func (p *Provider) token(req *provider.Request) (string, error) {
	v, n := req.Header(p.header)
	if n == 0 {
		return "", provider.ErrNoCredential
	}
	if n > 1 {
		return "", errAmbiguous
	}
	// Split at the first space, as the reference does; the scheme is
	// compared case-insensitively.
	sp := strings.IndexByte(v, ' ')
	scheme, tok := v, ""
	if sp >= 0 {
		scheme, tok = v[:sp], v[sp+1:]
	}
	matched := false
	for _, s := range p.schemes {
		if strings.EqualFold(scheme, s) {
			matched = true
			break
		}
	}
	if !matched {
		return "", provider.ErrNoCredential
	}
	if tok == "" {
		return "", errHeader
	}
	return tok, nil
}

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	tok, err := p.token(req)
	if err != nil {
		return provider.Identity{}, err
	}
	if p.cache != nil {
		if r, ok := p.cache.Get(tok, req.Now); ok {
			return r.Identity, r.Err
		}
	}
	return p.verifyToken(tok, req.Now, true)
}

// claims are the values the checks need, read in one pass. The byte
// slices are unescaped text in the provider's scratch.
type claims struct {
	client, subject, nonce, issuer  []byte
	hasClient, hasSubject, hasNonce bool
	subjectItem                     int // the subject's index in scratch.flat
	time, exp, nbf, iat             int64
	hasTime, hasExp, hasNbf, hasIat bool
	aud                             []byte
	audType                         jsonparser.ValueType
	badType                         error
}

// readClaims reads the payload strictly (a strict JSON object with unique
// members, else errPayloadJSON) and, in the same pass, the claims the
// checks need and every claim for the identity (scratch.flat).
func (p *Provider) readClaims(payload []byte, sc *scratch) (claims, error) {
	var c claims
	o := &sc.obj
	o.Reset(payload)
	sc.flat.Reset()
	for o.Next() {
		p.readClaim(&c, o.Name(), o.Value(), o.Type(), sc)
		// Gathered now, turned into the identity's claims only once the
		// token has verified (fillClaims).
		sc.flat.Add(o.Name(), o.Value(), o.Type())
	}
	if o.Finish() != nil {
		return c, errPayloadJSON
	}
	return c, nil
}

// readClaim records one payload member. A claim may play several roles
// (e.g. subject and client).
func (p *Provider) readClaim(c *claims, name, value []byte, typ jsonparser.ValueType, sc *scratch) {
	n := string(name) // compared only: no allocation
	if n == p.clientClaim && p.clientClaim != "" {
		c.client, c.hasClient = sc.stringClaim(value, typ)
	}
	if n == p.subjectClaim {
		c.subject, c.hasSubject = sc.stringClaim(value, typ)
		c.subjectItem = sc.flat.Len() // readClaims adds the member next
	}
	if n == p.nonceClaim && p.nonceClaim != "" {
		c.nonce, c.hasNonce = sc.nonceClaim(value, typ)
	}
	if n == p.timeClaim && p.timeClaim != "" {
		c.time, c.hasTime = numericDate(value, typ)
	}
	switch n {
	case "exp":
		if c.exp, c.hasExp = numericDate(value, typ); !c.hasExp {
			c.badType = errExpType
		}
	case "nbf":
		if c.nbf, c.hasNbf = numericDate(value, typ); !c.hasNbf {
			c.badType = errExpType
		}
	case "iat":
		if c.iat, c.hasIat = numericDate(value, typ); !c.hasIat {
			c.badType = errExpType
		}
	case "iss":
		var ok bool
		if c.issuer, ok = sc.stringClaim(value, typ); !ok && typ != jsonparser.Null {
			c.badType = errClaimType
		}
	case "aud":
		c.aud, c.audType = value, typ
	}
}

// verifyToken verifies tok at now. mayCallout is false when resuming after
// a key refresh, so one request triggers at most one refresh.
func (p *Provider) verifyToken(tok string, now int64, mayCallout bool) (provider.Identity, error) {
	sc := &p.scratch
	sc.text = sc.text[:0]
	t, err := parseCompact(tok, p.maxBytes, sc)
	if err != nil {
		return provider.Identity{}, err
	}
	c, err := p.readClaims(t.payload, sc)
	if err != nil {
		return provider.Identity{}, err
	}
	cands, err := p.candidates(&t, &c, now, mayCallout)
	if err != nil {
		if nc, ok := err.(*provider.NeedCallout); ok {
			return provider.Identity{}, p.resumeAfter(nc, tok, now)
		}
		return provider.Identity{}, err
	}
	if err := verifySig(&t, cands); err != nil {
		return provider.Identity{}, err
	}
	id, err := p.checkClaims(&t, &c, now)
	if err != nil {
		return provider.Identity{}, err
	}
	if p.cache != nil && id.ExpiresAt > 0 {
		p.cache.Put(tok, tokencache.Result{Identity: id}, now, min(id.ExpiresAt, now+p.cacheTTL))
	}
	return id, nil
}

// resumeAfter wraps a key-refresh callout: when the answer arrives the
// token is verified again, without another refresh.
func (p *Provider) resumeAfter(nc *provider.NeedCallout, tok string, now int64) *provider.NeedCallout {
	tok = strings.Clone(tok)
	return &provider.NeedCallout{
		Call: nc.Call,
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			_, err := nc.Resume(resp)
			if next, ok := err.(*provider.NeedCallout); ok {
				// Discovery answered; the key set itself comes next.
				return provider.Identity{}, p.resumeAfter(next, tok, now)
			}
			return p.verifyToken(tok, now, false)
		},
	}
}

// candidates returns the keys that may have signed t, or a refusal.
// With mayRefresh, an unknown kid or a missing key set may return the
// remote's rate-limited refresh callout.
func (p *Provider) candidates(t *parsed, c *claims, now int64, mayRefresh bool) ([]*keys.Key, error) {
	if p.clients != nil {
		if !c.hasClient {
			return nil, errNoClient
		}
		cl := p.clients[string(c.client)]
		if cl == nil {
			return nil, errUnknownClt
		}
		var out []*keys.Key
		// JWKS sources first, and only with a matching kid (reference order).
		if t.hasKid {
			if k := cl.set.LookupBytes(t.kid); k != nil {
				out = append(out, k)
			}
			if cl.remote != nil {
				k, err := cl.remote.LookupBytes(t.kid, now)
				if k != nil {
					out = append(out, k)
				} else if len(cl.keys) == 0 && len(out) == 0 {
					if mayRefresh {
						if nc := cl.remote.Refresh(now); nc != nil {
							return nil, nc
						}
					}
					if err != nil {
						return nil, err
					}
				}
			}
		}
		if len(out) == 0 {
			if len(cl.keys) == 0 {
				return nil, errNoKey
			}
			return cl.keys, nil // the common case: no copy
		}
		return append(out, cl.keys...), nil
	}
	// Issuer mode: by kid.
	if !t.hasKid {
		if p.set.Len()+remoteLen(p.remote, now) == 1 {
			if p.set.Len() == 1 {
				return p.set.Keys(), nil
			}
			s, _ := p.remote.Current(now)
			return s.Keys(), nil
		}
		return nil, errKidRequired
	}
	if k := p.set.LookupBytes(t.kid); k != nil {
		return []*keys.Key{k}, nil
	}
	if p.remote != nil {
		k, err := p.remote.LookupBytes(t.kid, now)
		if k != nil {
			return []*keys.Key{k}, nil
		}
		if mayRefresh {
			if nc := p.remote.Refresh(now); nc != nil {
				return nil, nc
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, errNoKey
}

func remoteLen(r *keys.Remote, now int64) int {
	if r == nil {
		return 0
	}
	s, _ := r.Current(now)
	return s.Len()
}

// verifySig tries the candidate keys that allow the token's algorithm.
func verifySig(t *parsed, cands []*keys.Key) error {
	allowed := false
	msg := t.signingInput
	for _, k := range cands {
		if !k.Allows(t.alg) {
			continue
		}
		allowed = true
		if k.Verify(t.alg, msg, t.sig) {
			return nil
		}
	}
	if !allowed {
		return errAlg
	}
	return errSig
}

func (p *Provider) checkClaims(t *parsed, c *claims, now int64) (provider.Identity, error) {
	if c.badType != nil {
		return provider.Identity{}, c.badType
	}
	if !c.hasSubject {
		return provider.Identity{}, errSubject
	}
	var expires int64
	if p.timeClaim != "" {
		if !c.hasTime || c.time == 0 {
			return provider.Identity{}, errTimeMissing
		}
		switch {
		case c.time < now-p.tolerance:
			return provider.Identity{}, errTimeOld
		case c.time > now+p.tolerance:
			return provider.Identity{}, errTimeNew
		}
		expires = c.time + p.tolerance + 1
	}
	if c.hasExp {
		if now >= c.exp+p.leeway {
			return provider.Identity{}, errExpired
		}
		if expires == 0 || c.exp+p.leeway < expires {
			expires = c.exp + p.leeway
		}
	} else if p.requireExp {
		return provider.Identity{}, errExpMissing
	}
	if c.hasNbf && now < c.nbf-p.leeway {
		return provider.Identity{}, errNbf
	}
	// As PyJWT (and so the reference) does: an iat in the future is refused
	// beyond the leeway.
	if c.hasIat && c.iat > now+p.leeway {
		return provider.Identity{}, errIat
	}
	if p.maxLifetime > 0 && c.hasExp {
		start := now
		if c.hasIat {
			start = c.iat
		}
		if c.exp-start > p.maxLifetime {
			return provider.Identity{}, errLifetime
		}
	}
	if p.issuer != "" && string(c.issuer) != p.issuer {
		return provider.Identity{}, errIssuer
	}
	if err := p.checkAudience(c); err != nil {
		return provider.Identity{}, err
	}
	id := provider.Identity{ExpiresAt: expires}
	if p.fillClaims(&id) != nil {
		return provider.Identity{}, errPayloadJSON
	}
	// The subject is a top-level string claim, so it is among the values
	// of the claims just built: share that string.
	if id.Subject = p.scratch.flat.Value(c.subjectItem); id.Subject == "" {
		return provider.Identity{}, errSubject // cannot happen: hasSubject
	}
	if p.singleUse {
		if !c.hasNonce {
			return provider.Identity{}, errNonceMissing
		}
		if expires == 0 {
			// Unbounded single-use values cannot be remembered safely.
			return provider.Identity{}, errExpMissing
		}
		if err := p.useOnce(c, now, expires); err != nil {
			return provider.Identity{}, err
		}
	}
	return id, nil
}

// useOnce marks the token's single-use value (provider, subject, time,
// nonce) as used across all VMs.
func (p *Provider) useOnce(c *claims, now, expires int64) error {
	sc := &p.scratch
	k := append(sc.key[:0], p.name...)
	k = append(append(k, 0), c.subject...)
	k = strconv.AppendInt(append(k, 0), c.time, 10)
	k = append(append(k, 0), c.nonce...)
	sc.key = k
	if g, ok := p.replay.(provider.BytesReplayGuard); ok {
		return g.UseBytes(k, now, expires)
	}
	return p.replay.Use(string(k), now, expires)
}

// checkAudience: with audiences configured, aud must name one of them;
// without, a token carrying aud is refused (as PyJWT does), since it was
// meant for a specific recipient.
func (p *Provider) checkAudience(c *claims) error {
	switch c.audType {
	case jsonparser.NotExist:
		if len(p.audiences) > 0 {
			return errAudience
		}
		return nil
	case jsonparser.String:
		if p.audienceOK(c.aud) {
			return nil
		}
		return errAudience
	case jsonparser.Array:
		found, bad := false, false
		_, _ = jsonparser.ArrayEach(c.aud, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
			if t != jsonparser.String {
				bad = true
				return
			}
			if p.audienceOK(v) {
				found = true
			}
		})
		if bad {
			return errClaimType
		}
		if found {
			return nil
		}
		return errAudience
	}
	return errClaimType
}

// audienceOK reports whether the raw (still escaped) string value names a
// configured audience, compared after unescaping.
func (p *Provider) audienceOK(raw []byte) bool {
	var stack [128]byte
	s := jsonobj.AppendString(stack[:0], raw)
	for _, a := range p.audiences {
		if a == string(s) {
			return true
		}
	}
	return false
}

// stringClaim is a non-empty string value, unescaped into the scratch text.
func (sc *scratch) stringClaim(v []byte, t jsonparser.ValueType) ([]byte, bool) {
	if t != jsonparser.String {
		return nil, false
	}
	from := len(sc.text)
	sc.text = jsonobj.AppendString(sc.text, v)
	s := sc.text[from:]
	return s, len(s) > 0
}

// nonceClaim accepts a non-empty string or a non-zero number (0.x clients
// sent random.random() floats), which is kept as "#" and its JSON text.
func (sc *scratch) nonceClaim(v []byte, t jsonparser.ValueType) ([]byte, bool) {
	switch t {
	case jsonparser.String:
		return sc.stringClaim(v, t)
	case jsonparser.Number:
		f, err := jsonparser.ParseFloat(v)
		if err != nil || f == 0 {
			return nil, false
		}
		from := len(sc.text)
		sc.text = append(append(sc.text, '#'), v...)
		return sc.text[from:], true
	}
	return nil, false
}

// numericDate reads a JSON number of seconds (integer or fraction) as unix
// nanoseconds, refusing values outside ±2^33 s.
func numericDate(v []byte, t jsonparser.ValueType) (int64, bool) {
	if t != jsonparser.Number {
		return 0, false
	}
	if i, err := jsonparser.ParseInt(v); err == nil {
		if i < -(1<<33) || i > 1<<33 {
			return 0, false
		}
		return i * 1e9, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != f || f < -(1<<33) || f > 1<<33 {
		return 0, false
	}
	return int64(f * 1e9), true
}
