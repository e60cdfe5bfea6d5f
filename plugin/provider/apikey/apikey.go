// Package apikey is the "api_key" provider: static API keys, stored in the
// configuration only as SHA-256 hashes.
//
// # Keys
//
// A key is an opaque, high-entropy string; [Generate] makes them in the
// form tg_<id>_<43 base62 characters> and [Hash] gives the "sha256:<hex>"
// form the configuration stores. Each configured key has an id, a subject,
// scopes, an optional role, an expiry and optionally the source prefixes it
// may be used from.
//
// # Presentation
//
// A client sends the key either in a dedicated header (default x-api-key)
// or as Authorization: ApiKey <key> (the scheme name is configurable and
// matched case-insensitively). Either carrier may be switched off. A key
// presented twice — the header repeated, Authorization repeated, or both
// carriers at once, even with the same value — is refused as
// credential_ambiguous, because proxies and applications disagree on which
// copy wins.
//
// # Verification
//
// The presented key is hashed and looked up in a map keyed by hash (O(1)
// whatever the number of keys); the stored hash is then compared in
// constant time. The map lookup's timing depends only on the hash of the
// presented string, which tells an attacker nothing about any configured
// key. Then the expiry (now >= expires is expired) and the source binding
// are checked. Verification does not allocate.
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"github.com/buger/jsonparser"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type name.
const Kind = "api_key"

// Configuration limits.
const (
	DefaultHeader    = "x-api-key"
	DefaultScheme    = "ApiKey"
	DefaultMaxLength = 256
	// MinKeyLength: shorter keys are refused before lookup. A fast hash is
	// only safe for keys with plenty of entropy; 16 characters is the
	// least that can carry ~96 bits, so a weak key (a word, a PIN) can never
	// work even if an operator hashed one into the configuration.
	MinKeyLength = 16
	maxMaxLength = 4096
	MaxKeys      = 100000
	maxSources   = 256
)

var (
	errAmbiguous       = provider.NewError(provider.ReasonAmbiguous, "API key presented more than once")
	errEmpty           = provider.NewError(provider.ReasonMalformed, "API key is empty")
	errShort           = provider.NewError(provider.ReasonMalformed, "API key shorter than 16 characters")
	errBadChar         = provider.NewError(provider.ReasonMalformed, "API key contains characters outside visible ASCII")
	errOversize        = provider.NewError(provider.ReasonOversize, "API key longer than max_length")
	errUnknown         = provider.NewError(provider.ReasonUnknown, "no such API key")
	errExpired         = provider.NewError(provider.ReasonExpired, "API key expired")
	errBinding         = provider.NewError(provider.ReasonBinding, "API key used from an address it is not bound to")
	errBindingNoSource = provider.NewError(provider.ReasonBinding, "API key is address-bound but the source address is unknown")
)

type entry struct {
	id        string
	hash      [sha256.Size]byte
	subject   string
	role      string
	scopes    []string
	expiresAt int64 // unix ns; 0 = never
	sources   []netip.Prefix
	claims    map[string][]string
}

// Provider is a configured API-key provider. It is immutable after
// FromConfig.
type Provider struct {
	name      string
	header    string // lower-case header name, "" when off
	scheme    string // Authorization scheme as configured, "" when off
	schemeLow string // the scheme, ASCII lower-cased, for matching
	challenge string
	maxLength int
	keys      map[[sha256.Size]byte]*entry
}

// FromConfig builds an API-key provider:
//
//	{
//	  "header": "x-api-key",        // "" switches the header off
//	  "scheme": "ApiKey",           // "" switches Authorization off
//	  "realm": "tokengate",
//	  "max_length": 256,
//	  "keys": [{
//	    "id": "ci-bot", "hash": "sha256:<64 hex>", "subject": "ci-bot",
//	    "scopes": ["read"], "role": "deployer",
//	    "expires": "2027-01-01T00:00:00Z",   // or unix seconds, or "never"
//	    "sources": ["10.0.0.0/8"]
//	  }]
//	}
//
// Every problem is recorded on o with its JSON path; the result is nil
// when there was any. A key that never expires is logged with d.Warn.
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{name: name}

	p.header = o.String("header", DefaultHeader)
	if p.header != "" {
		if !validHeaderName(p.header) {
			o.Fail("header", strconv.Quote(p.header)+" is not a valid header name")
		}
		p.header = provider.LowerASCII(p.header)
		if p.header == "authorization" {
			o.Fail("header", `use "scheme" to read the Authorization header`)
		}
	}
	p.scheme = o.String("scheme", DefaultScheme)
	if p.scheme != "" && !validToken(p.scheme) {
		o.Fail("scheme", strconv.Quote(p.scheme)+" is not a valid authentication scheme name")
	}
	p.schemeLow = provider.LowerASCII(p.scheme)
	if p.header == "" && p.scheme == "" {
		o.Fail("", "header and scheme are both off: the key could never be presented")
	}
	realm := o.String("realm", "tokengate")
	if !validRealm(realm) {
		o.Fail("realm", "must be printable ASCII without quotes or backslashes")
	}
	if p.scheme != "" {
		p.challenge = p.scheme + ` realm="` + realm + `"`
	}
	p.maxLength = int(o.Int("max_length", DefaultMaxLength, 16, maxMaxLength))

	var keys []*conf.Object
	if !o.Has("keys") {
		o.Fail("keys", "is required")
	} else if keys = o.Objects("keys"); keys != nil && len(keys) == 0 {
		o.Fail("keys", "must list at least one key")
	}
	if len(keys) > MaxKeys {
		o.Fail("keys", "too many keys: at most "+strconv.Itoa(MaxKeys))
		keys = nil
	}
	p.keys = make(map[[sha256.Size]byte]*entry, len(keys))
	ids := make(map[string]bool, len(keys))
	for _, k := range keys {
		e := readKey(k, d)
		if e == nil {
			continue
		}
		if ids[e.id] {
			k.Fail("id", "duplicate key id "+strconv.Quote(e.id))
			continue
		}
		ids[e.id] = true
		if _, dup := p.keys[e.hash]; dup {
			k.Fail("hash", "the same key hash is configured twice")
			continue
		}
		p.keys[e.hash] = e
	}
	o.Done()
	if len(o.Errs().List) != before {
		return nil
	}
	return p
}

func readKey(k *conf.Object, d provider.Deps) *entry {
	before := len(k.Errs().List)
	e := &entry{}
	e.id = k.RequiredString("id")
	if e.id != "" && !ValidID(e.id) {
		k.Fail("id", "must be 1-64 characters of A-Z a-z 0-9 -")
	}
	h := k.RequiredString("hash")
	if h != "" {
		if !parseHash(h, &e.hash) {
			k.Fail("hash", `must be "sha256:" followed by 64 hex digits (make keys with: tokengate apikey new ID)`)
		}
	}
	e.subject = k.RequiredString("subject")
	e.role = k.String("role", "")
	e.scopes = k.Strings("scopes")
	for i, s := range e.scopes {
		if s == "" {
			k.Errs().Add(k.Path("scopes")+"["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	e.expiresAt = readExpiry(k)
	if e.expiresAt == 0 && len(k.Errs().List) == before {
		d.Warn("key " + strconv.Quote(e.id) + " never expires")
	}
	srcs := k.Strings("sources")
	if len(srcs) > maxSources {
		k.Fail("sources", "too many prefixes: at most "+strconv.Itoa(maxSources))
		srcs = nil
	}
	for i, s := range srcs {
		pf, msg := parsePrefix(s)
		if msg != "" {
			k.Errs().Add(k.Path("sources")+"["+strconv.Itoa(i)+"]", msg)
			continue
		}
		e.sources = append(e.sources, pf)
	}
	if srcs != nil && len(srcs) == 0 {
		k.Fail("sources", "must not be empty; leave it out to allow any address")
	}
	e.claims = map[string][]string{"key_id": {e.id}}
	k.Done()
	if len(k.Errs().List) != before {
		return nil
	}
	return e
}

// readExpiry reads "expires": RFC 3339 text, unix seconds, or "never"
// (returned as 0). Errors are recorded on k.
func readExpiry(k *conf.Object) int64 {
	raw, typ := k.Raw("expires")
	switch typ {
	case jsonparser.NotExist:
		k.Fail("expires", `is required (RFC 3339 time, unix seconds, or "never")`)
	case jsonparser.Number:
		secs, err := jsonparser.ParseInt(raw)
		if err != nil || secs <= 0 || secs > 1<<33 {
			k.Fail("expires", "must be a positive whole number of unix seconds")
			return -1
		}
		return secs * 1e9
	case jsonparser.String:
		s, err := jsonparser.ParseString(raw)
		if err != nil {
			k.Fail("expires", "invalid string escape")
			return -1
		}
		if s == "never" {
			return 0
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			k.Fail("expires", strconv.Quote(s)+` is not an RFC 3339 time such as "2027-01-01T00:00:00Z"`)
			return -1
		}
		if t.Unix() <= 0 || t.Unix() > 1<<33 {
			k.Fail("expires", "is out of range")
			return -1
		}
		return t.UnixNano()
	default:
		k.Fail("expires", `must be an RFC 3339 string, unix seconds or "never"`)
	}
	return -1
}

func parseHash(s string, out *[sha256.Size]byte) bool {
	if len(s) != len(HashPrefix)+2*sha256.Size || s[:len(HashPrefix)] != HashPrefix {
		return false
	}
	n, err := hex.Decode(out[:], []byte(s[len(HashPrefix):]))
	return err == nil && n == sha256.Size
}

func parsePrefix(s string) (netip.Prefix, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				return netip.Prefix{}, strconv.Quote(s) + " is not a valid CIDR prefix"
			}
			if pf.Masked() != pf {
				return netip.Prefix{}, strconv.Quote(s) + " has host bits set; did you mean " + pf.Masked().String() + "?"
			}
			if a := pf.Addr(); a.Is4In6() {
				pf = netip.PrefixFrom(a.Unmap(), pf.Bits()-96)
			}
			return pf, ""
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, strconv.Quote(s) + " is not an IP address or CIDR prefix"
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), ""
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider: `ApiKey realm="tokengate"`, or
// "" when only the header carrier is on (it has no HTTP challenge).
func (p *Provider) Challenge() string { return p.challenge }

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	key, err := p.presented(req)
	if err != nil {
		return provider.Identity{}, err
	}
	if len(key) > p.maxLength {
		return provider.Identity{}, errOversize
	}
	if key == "" {
		return provider.Identity{}, errEmpty
	}
	if len(key) < MinKeyLength {
		return provider.Identity{}, errShort
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return provider.Identity{}, errBadChar
		}
	}
	// Copy into a stack buffer so hashing the string does not allocate.
	var buf [maxMaxLength]byte
	n := copy(buf[:], key)
	sum := sha256.Sum256(buf[:n])
	e, ok := p.keys[sum]
	if !ok || subtle.ConstantTimeCompare(sum[:], e.hash[:]) != 1 {
		return provider.Identity{}, errUnknown
	}
	if e.expiresAt != 0 && req.Now >= e.expiresAt {
		return provider.Identity{}, errExpired
	}
	if len(e.sources) > 0 {
		src := req.ClientAddr()
		if !src.IsValid() {
			return provider.Identity{}, errBindingNoSource
		}
		src = src.WithZone("").Unmap()
		bound := false
		for _, pf := range e.sources {
			if pf.Contains(src) {
				bound = true
				break
			}
		}
		if !bound {
			return provider.Identity{}, errBinding
		}
	}
	return provider.Identity{
		Subject:   e.subject,
		Scopes:    e.scopes,
		Role:      e.role,
		Claims:    e.claims,
		ExpiresAt: e.expiresAt,
	}, nil
}

// presented finds the one key the request carries. It returns
// ErrNoCredential when there is none, errAmbiguous when there are several.
func (p *Provider) presented(req *provider.Request) (string, error) {
	var key string
	found := 0
	auths, ours := 0, false
	for i := range req.Headers {
		h := &req.Headers[i]
		switch {
		case p.header != "" && h.Name == p.header:
			found++
			key = h.Value
		case p.scheme != "" && h.Name == "authorization":
			auths++
			if v, ok := p.schemeValue(h.Value); ok {
				found++
				ours = true
				key = v
			}
		}
	}
	// Several Authorization headers, one of them ours: whoever reads the
	// other copy (the upstream, another provider) would see a different
	// credential, so refuse rather than pick one.
	if found > 1 || ours && auths > 1 {
		return "", errAmbiguous
	}
	if found == 0 {
		return "", provider.ErrNoCredential
	}
	return key, nil
}

// schemeValue returns the credential after "<scheme> " when value uses the
// configured scheme (compared case-insensitively, RFC 9110 §11.1).
func (p *Provider) schemeValue(value string) (string, bool) {
	s := p.schemeLow
	if len(value) < len(s) || !provider.EqualLowerASCII(value[:len(s)], s) {
		return "", false
	}
	rest := value[len(s):]
	if rest == "" {
		return "", true // our scheme with no credential: malformed, not absent
	}
	if rest[0] != ' ' {
		return "", false // a longer scheme name, e.g. "ApiKeyV2"
	}
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest, true
}

// Strip implements provider.Stripper: the carrier the key came in is
// removed before the request goes upstream.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	if p.header != "" {
		if _, n := req.Header(p.header); n > 0 {
			e.RemoveHeaders = append(e.RemoveHeaders, p.header)
		}
	}
	if p.scheme != "" {
		for i := range req.Headers {
			if req.Headers[i].Name == "authorization" {
				if _, ok := p.schemeValue(req.Headers[i].Value); ok {
					e.RemoveHeaders = append(e.RemoveHeaders, "authorization")
					break
				}
			}
		}
	}
}

// validToken reports whether s is an RFC 9110 token (header names and
// authentication scheme names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

func validHeaderName(s string) bool { return validToken(s) }

func validRealm(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}
