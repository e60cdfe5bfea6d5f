// Package httpsig verifies HTTP Message Signatures (RFC 9421), provider
// type "http_signature".
//
// # What is supported
//
//   - Fields Signature-Input and Signature (several field lines are joined),
//     one signature per request: the configured label, or the only one sent.
//   - Algorithms, decided by the key (an "alg" parameter must agree):
//     hmac-sha256, ed25519, and also ecdsa-p256-sha256, rsa-pss-sha512,
//     rsa-v1_5-sha256 for keys of those types.
//   - Derived components @method, @authority, @path, @query,
//     @request-target; HTTP fields by lower-case name (all field lines,
//     trimmed, joined with ", ").
//   - content-digest (RFC 9530, sha-256 and sha-512): when covered it is
//     also checked against the request body (Request.Body; the route must
//     buffer the body). Every supported digest present must match.
//   - Parameters created, expires, nonce, keyid, alg, tag.
//
// # What is not
//
// @target-uri and @scheme (the proxy does not know the client's scheme
// reliably), @query-param, @status, component parameters (;sf ;key ;bs
// ;req ;name), responses, trailers, and multiple signatures per request.
// Such signatures are refused, never skipped.
//
// # Time and replay
//
// created is required by default and must not be older than
// max_age_seconds nor newer than clock_skew_seconds; expires, when given,
// must be in the future. A nonce, when present (or required), is accepted
// once per key across all VMs (plugin/replay) until the signature's
// lifetime ends. Results are never cached: a signature covers one request.
//
// # Cost
//
// Verification allocates nothing in the steady state (issue 7) for the
// usual request: each field on one line, strings without escapes, the
// label the client used before, no nonce (the replay key is one string).
// The fields are parsed into per-provider dictionaries, the signature base
// is built in a per-provider buffer (a canonically written inner list is
// copied, not re-serialised), and each HMAC key keeps one keyed hash whose
// Reset reuses the precomputed pads. A Provider is therefore not safe for
// concurrent use; proxy-wasm VMs are single-threaded and each has its own.
package httpsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/keys"
	"github.com/tokengate/tokengate/plugin/replay"
)

// Kind is the configuration type name.
const Kind = "http_signature"

var errUnsupportedComponent = errors.New("component parameters are not supported")

var (
	errMissingSig   = provider.NewError(provider.ReasonMalformed, "Signature-Input without Signature, or the reverse")
	errSyntax       = provider.NewError(provider.ReasonMalformed, "Signature-Input or Signature is not a valid structured field")
	errOversize     = provider.NewError(provider.ReasonOversize, "signature fields longer than max_header_bytes")
	errAmbiguous    = provider.NewError(provider.ReasonAmbiguous, "several signatures and no configured label")
	errNoLabel      = provider.NewError(provider.ReasonMissing, "no signature with the configured label")
	errMismatch     = provider.NewError(provider.ReasonMalformed, "Signature-Input and Signature labels differ")
	errComponent    = provider.NewError(provider.ReasonMalformed, "unsupported, duplicate or absent covered component")
	errParams       = provider.NewError(provider.ReasonMalformed, "unknown or mistyped signature parameter")
	errRequired     = provider.NewError(provider.ReasonClaims, "a required component is not covered")
	errKeyID        = provider.NewError(provider.ReasonUnknown, "unknown keyid")
	errNoKeyID      = provider.NewError(provider.ReasonMalformed, "keyid parameter missing")
	errAlg          = provider.NewError(provider.ReasonAlgorithm, "alg parameter differs from the key's algorithm")
	errSig          = provider.NewError(provider.ReasonBadSignature, "signature does not verify")
	errNoCreated    = provider.NewError(provider.ReasonClaims, "created parameter required")
	errTooOld       = provider.NewError(provider.ReasonExpired, "created older than max_age_seconds")
	errExpires      = provider.NewError(provider.ReasonExpired, "signature past its expires")
	errFuture       = provider.NewError(provider.ReasonNotYetValid, "created in the future")
	errNoNonce      = provider.NewError(provider.ReasonClaims, "nonce parameter required")
	errDigest       = provider.NewError(provider.ReasonBadSignature, "content-digest does not match the body")
	errDigestSyntax = provider.NewError(provider.ReasonMalformed, "content-digest has no usable sha-256/sha-512 digest")
)

type algorithm uint8

const (
	algHMACSHA256 algorithm = iota + 1
	algEd25519
	algECDSAP256
	algRSAPSS512
	algRSA15SHA256
)

var algNames = map[string]algorithm{
	"hmac-sha256": algHMACSHA256, "ed25519": algEd25519, "ecdsa-p256-sha256": algECDSAP256,
	"rsa-pss-sha512": algRSAPSS512, "rsa-v1_5-sha256": algRSA15SHA256,
}

type key struct {
	id      string // the keyid, as configured
	alg     algorithm
	algName string
	subject string
	mac     hash.Hash // HMAC-SHA256 keyed once with the secret
	pub     *keys.Key // asymmetric
	jws     keys.Alg  // the JWS algorithm with the same verification

	// claims is the Identity.Claims of the last success with this key,
	// for label claimsLabel. Maps handed out are never written again, so
	// successive requests with the same label share one.
	claims      map[string][]string
	claimsLabel string
}

// Provider is a configured HTTP message signature verifier.
type Provider struct {
	name                   string
	label                  string
	keys                   map[string]*key
	required               []string
	maxAge                 int64
	skew                   int64
	needCreated, needNonce bool
	maxBytes               int
	replay                 provider.ReplayGuard

	// Per-request scratch, reused because a VM is single-threaded. Nothing
	// returned from Verify points into it.
	inputs, sigs, digests dict
	base                  []byte   // the signature base
	sum                   [32]byte // the computed HMAC
	replayKey             []byte   // the nonce's replay key
}

var _ provider.Provider = (*Provider)(nil)

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider: RFC 9421 §5 Accept-Signature is a
// separate field; the WWW-Authenticate challenge names the scheme only.
func (p *Provider) Challenge() string { return `Signature realm="tokengate"` }

// FromConfig builds an "http_signature" provider. See README.md.
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{name: name, keys: map[string]*key{}}
	p.label = o.String("label", "")
	p.required = o.Strings("required_components")
	if p.required == nil {
		p.required = []string{"@method", "@path", "@authority"}
	}
	for i, c := range p.required {
		if !supportedComponent(c) {
			o.Fail("required_components["+strconv.Itoa(i)+"]", strconv.Quote(c)+" is not a supported component")
		}
	}
	if o.Bool("require_content_digest", false) {
		p.required = append(p.required, "content-digest")
	}
	p.maxAge = o.Int("max_age_seconds", 300, 1, 86400) * 1e9
	p.skew = o.Int("clock_skew_seconds", 5, 0, 300) * 1e9
	p.needCreated = o.Bool("require_created", true)
	p.needNonce = o.Bool("require_nonce", false)
	p.maxBytes = int(o.Int("max_header_bytes", 8192, 256, 65536))
	if ks := o.Object("keys"); ks == nil {
		o.Fail("keys", "is required")
	} else {
		for _, id := range ks.Names() {
			ko := ks.Object(id)
			if ko == nil {
				continue
			}
			if k := readKey(ko, id); k != nil {
				k.id = id
				p.keys[id] = k
			}
			ko.Done()
		}
		if len(p.keys) == 0 {
			ks.Fail("", "needs at least one key")
		}
	}
	p.replay = d.Replay
	if p.replay == nil && d.Shared != nil {
		p.replay = replay.New(d.Shared, replay.Config{Namespace: "httpsig/" + name, Full: d.Counter("replay_store_full")})
	}
	if p.replay == nil {
		o.Fail("", "needs the shared replay store for nonces, which this host does not provide")
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	return p
}

func readKey(ko *conf.Object, id string) *key {
	k := &key{subject: ko.String("subject", id)}
	k.algName = ko.Enum("alg", "", "hmac-sha256", "ed25519", "ecdsa-p256-sha256", "rsa-pss-sha512", "rsa-v1_5-sha256")
	k.alg = algNames[k.algName]
	if k.alg == algHMACSHA256 {
		enc := ko.Enum("secret_encoding", "raw", "raw", "base64")
		s := ko.RequiredSecret("secret", 1)
		if ko.Has("key") {
			ko.Fail("key", "an HMAC key takes secret, not key")
		}
		if enc == "base64" && s != nil {
			b, err := base64.StdEncoding.DecodeString(string(s))
			if err != nil {
				ko.Fail("secret", "is not base64")
				return nil
			}
			s = b
		}
		if s != nil && len(s) < 32 {
			ko.Fail("secret", "secret is too weak: at least 32 bytes required")
			return nil
		}
		if s != nil {
			k.mac = hmac.New(sha256.New, s)
		}
		return k
	}
	if k.alg == 0 {
		ko.Fail("alg", "is required")
		return nil
	}
	text := ko.RequiredSecret("key", 1) // public, but may come from {"env": NAME}
	if text == nil {
		return nil
	}
	pub, err := keys.ParsePublicKey(text)
	if err != nil {
		ko.Fail("key", err.Error())
		return nil
	}
	want := map[algorithm]struct {
		t keys.Type
		a keys.Alg
	}{
		algEd25519: {keys.TypeEd25519, keys.EdDSA}, algECDSAP256: {keys.TypeP256, keys.ES256},
		algRSAPSS512: {keys.TypeRSA, keys.PS512}, algRSA15SHA256: {keys.TypeRSA, keys.RS256},
	}[k.alg]
	if pub.Type != want.t {
		ko.Fail("key", "is a "+pub.Type.String()+" key, not one for "+k.algName)
		return nil
	}
	k.pub, k.jws = pub.Restrict(keys.AlgSet(0).With(want.a)), want.a
	return k
}

func supportedComponent(c string) bool {
	switch c {
	case "@method", "@authority", "@path", "@query", "@request-target":
		return true
	}
	if c == "" || c[0] == '@' {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

// fieldValue joins all lines of a header as RFC 9421 §2.1 does. A field
// sent on one line, the usual case, is returned without copying.
func fieldValue(req *provider.Request, name string) (string, bool) {
	first, n := -1, 0
	for i := range req.Headers {
		if req.Headers[i].Name == name {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	switch n {
	case 0:
		return "", false
	case 1:
		return trimOWS(req.Headers[first].Value), true
	}
	b, _ := appendField(nil, req, name)
	return string(b), true
}

// appendField appends the joined lines of a header and reports whether
// there was one.
func appendField(b []byte, req *provider.Request, name string) ([]byte, bool) {
	found := false
	for i := range req.Headers {
		if req.Headers[i].Name != name {
			continue
		}
		if found {
			b = append(b, ", "...)
		}
		b = append(b, trimOWS(req.Headers[i].Value)...)
		found = true
	}
	return b, found
}

// trimOWS is strings.Trim(s, " \t") without building a cutset per call.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	id, err := p.verifyFields(req)
	p.releaseLargeScratch()
	return id, err
}

// useNonce marks (provider, keyid, nonce) as used across all VMs, building
// the key in scratch when the guard takes bytes.
func (p *Provider) useNonce(keyid, nonce string, now, until int64) error {
	g, ok := p.replay.(provider.BytesReplayGuard)
	if !ok {
		return p.replay.Use(p.name+"\x00"+keyid+"\x00"+nonce, now, until)
	}
	k := append(p.replayKey[:0], p.name...)
	k = append(append(k, 0), keyid...)
	k = append(append(k, 0), nonce...)
	p.replayKey = k
	return g.UseBytes(k, now, until)
}

// scratchKeep bounds the scratch a provider keeps between requests: one
// hostile request with huge fields must not pin that much memory for the
// VM's lifetime. Ordinary signatures need far less, so they reuse it.
const scratchKeep = 8 << 10

// releaseLargeScratch drops scratch that grew past scratchKeep.
func (p *Provider) releaseLargeScratch() {
	if cap(p.base) > scratchKeep {
		p.base = nil
	}
	if cap(p.replayKey) > scratchKeep {
		p.replayKey = nil
	}
	p.inputs.releaseLarge()
	p.sigs.releaseLarge()
	p.digests.releaseLarge()
}

// verifyFields reads, parses and checks the signature fields.
func (p *Provider) verifyFields(req *provider.Request) (provider.Identity, error) {
	in, hasIn := fieldValue(req, "signature-input")
	sig, hasSig := fieldValue(req, "signature")
	switch {
	case !hasIn && !hasSig:
		return provider.Identity{}, provider.ErrNoCredential
	case !hasIn || !hasSig:
		return provider.Identity{}, errMissingSig
	case len(in)+len(sig) > p.maxBytes:
		return provider.Identity{}, errOversize
	}
	err := p.inputs.parse(in)
	if err == errUnsupportedComponent {
		return provider.Identity{}, errComponent
	}
	if err != nil {
		return provider.Identity{}, errSyntax
	}
	if err := p.sigs.parse(sig); err != nil {
		return provider.Identity{}, errSyntax
	}
	inputs, sigs := p.inputs.members, p.sigs.members
	var m *member
	switch {
	case p.label != "":
		for i := range inputs {
			if inputs[i].name == p.label {
				m = &inputs[i]
			}
		}
		if m == nil {
			return provider.Identity{}, errNoLabel
		}
	case len(inputs) == 1:
		m = &inputs[0]
	default:
		return provider.Identity{}, errAmbiguous
	}
	var sigBytes []byte
	found := false
	for i := range sigs {
		if s := &sigs[i]; s.name == m.name {
			// A member that is not an inner list is a byte sequence.
			if s.inner || len(s.params) != 0 {
				return provider.Identity{}, errSyntax
			}
			sigBytes, found = s.bytes, true
		}
	}
	if !found || !m.inner {
		return provider.Identity{}, errMismatch
	}
	return p.verify(req, m, sigBytes)
}

func (p *Provider) verify(req *provider.Request, m *member, sig []byte) (provider.Identity, error) {
	var created, expires int64
	var hasCreated, hasExpires bool
	var keyid, alg, nonce string
	var hasNonce bool
	for _, pr := range m.params {
		switch pr.name {
		case "created", "expires":
			if !pr.isNum || pr.num < 0 || pr.num > 1<<33 {
				return provider.Identity{}, errParams
			}
			if pr.name == "created" {
				created, hasCreated = pr.num*1e9, true
			} else {
				expires, hasExpires = pr.num*1e9, true
			}
		case "keyid", "alg", "nonce", "tag":
			if !pr.isStr {
				return provider.Identity{}, errParams
			}
			switch pr.name {
			case "keyid":
				keyid = pr.str
			case "alg":
				alg = pr.str
			case "nonce":
				nonce, hasNonce = pr.str, true
			}
		default:
			return provider.Identity{}, errParams
		}
	}
	if keyid == "" {
		return provider.Identity{}, errNoKeyID
	}
	k := p.keys[keyid]
	if k == nil {
		return provider.Identity{}, errKeyID
	}
	if alg != "" && alg != k.algName {
		return provider.Identity{}, errAlg
	}
	// Covered components: supported, unique, and the required ones present.
	for i, c := range m.items {
		if !supportedComponent(c) {
			return provider.Identity{}, errComponent
		}
		for _, d := range m.items[:i] {
			if d == c {
				return provider.Identity{}, errComponent
			}
		}
	}
	for _, r := range p.required {
		covered := false
		for _, c := range m.items {
			if c == r {
				covered = true
			}
		}
		if !covered {
			return provider.Identity{}, errRequired
		}
	}
	base, err := appendSignatureBase(p.base[:0], req, m)
	p.base = base
	if err != nil {
		return provider.Identity{}, err
	}
	if !k.check(base, sig, p.sum[:0]) {
		return provider.Identity{}, errSig
	}
	// Only now, with the parameters authenticated, look at time and body.
	now := req.Now
	if !hasCreated && p.needCreated {
		return provider.Identity{}, errNoCreated
	}
	until := now + p.maxAge
	if hasCreated {
		if created > now+p.skew {
			return provider.Identity{}, errFuture
		}
		if now-created > p.maxAge {
			return provider.Identity{}, errTooOld
		}
		until = created + p.maxAge + p.skew
	}
	if hasExpires {
		if now >= expires {
			return provider.Identity{}, errExpires
		}
		if expires < until {
			until = expires
		}
	}
	for _, c := range m.items {
		if c == "content-digest" {
			if err := checkDigest(req, &p.digests); err != nil {
				return provider.Identity{}, err
			}
		}
	}
	if !hasNonce && p.needNonce {
		return provider.Identity{}, errNoNonce
	}
	if hasNonce {
		if err := p.useNonce(keyid, nonce, now, until); err != nil {
			return provider.Identity{}, err
		}
	}
	return provider.Identity{
		Subject:   k.subject,
		ExpiresAt: until,
		Claims:    k.claimsFor(m.name),
	}, nil
}

// claimsFor returns the claims {"keyid": [id], "label": [label]}, reusing
// the previous map when the label is the same (clients keep theirs).
func (k *key) claimsFor(label string) map[string][]string {
	if k.claims == nil || k.claimsLabel != label {
		label = strings.Clone(label) // not a view into the request
		k.claims = map[string][]string{"keyid": {k.id}, "label": {label}}
		k.claimsLabel = label
	}
	return k.claims
}

// check verifies sig over base; sum is scratch for the computed MAC.
func (k *key) check(base, sig, sum []byte) bool {
	if k.alg == algHMACSHA256 {
		k.mac.Reset()
		k.mac.Write(base)
		ok := hmac.Equal(k.mac.Sum(sum), sig)
		clear(sum[:cap(sum)]) // the valid MAC of a forged base does not linger
		return ok
	}
	return k.pub.Verify(k.jws, base, sig)
}

// appendSignatureBase appends the RFC 9421 §2.5 signature base to b.
func appendSignatureBase(b []byte, req *provider.Request, m *member) ([]byte, error) {
	for _, c := range m.items {
		b = append(b, '"')
		b = append(b, c...)
		b = append(b, `": `...)
		var ok bool
		if b, ok = appendComponent(b, req, c); !ok {
			return b, errComponent
		}
		b = append(b, '\n')
	}
	b = append(b, `"@signature-params": `...)
	if m.canonical {
		return append(b, m.raw...), nil // as sent is as serialized
	}
	return m.appendSerialized(b), nil
}

// appendComponent appends the value of component c, or reports that the
// request has none (or one that cannot go into a signature base).
func appendComponent(b []byte, req *provider.Request, c string) ([]byte, bool) {
	switch c {
	case "@method":
		return append(b, req.Method...), req.Method != ""
	case "@authority":
		// Lower-cased; the port is kept as sent (no scheme to decide
		// whether it is the default one).
		return appendLower(b, req.Authority), req.Authority != ""
	case "@path":
		rawPath, _ := splitQuery(req.RawPath)
		if rawPath == "" {
			rawPath = "/"
		}
		return append(b, rawPath...), true
	case "@query":
		_, query := splitQuery(req.RawPath)
		return append(append(b, '?'), query...), true
	case "@request-target":
		return append(b, req.RawPath...), req.RawPath != ""
	}
	start := len(b)
	b, found := appendField(b, req, c)
	if !found {
		return b, false
	}
	for _, ch := range b[start:] {
		if ch < 0x20 && ch != '\t' {
			return b, false // no line breaks in the base
		}
	}
	return b, true
}

// splitQuery cuts a request target at its first '?' (the query is "" when
// there is none).
func splitQuery(target string) (path, query string) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:]
		}
	}
	return target, ""
}

// appendLower appends strings.ToLower(s) without its allocation when s is
// ASCII (always, for a valid authority); other input takes the general
// path so the result is the same.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// checkDigest verifies Content-Digest (RFC 9530) against the body; d is
// scratch for the parsed field.
func checkDigest(req *provider.Request, d *dict) error {
	v, ok := fieldValue(req, "content-digest")
	if !ok {
		return errDigestSyntax
	}
	if d.parse(v) != nil {
		return errDigestSyntax
	}
	checked := 0
	for i := range d.members {
		dg := &d.members[i]
		var sum []byte
		switch dg.name {
		case "sha-256":
			s := sha256.Sum256(req.Body)
			sum = s[:]
		case "sha-512":
			s := sha512.Sum512(req.Body)
			sum = s[:]
		default:
			continue // other algorithms are ignored (RFC 9530 §2)
		}
		if dg.inner || !hmac.Equal(sum, dg.bytes) {
			return errDigest
		}
		checked++
	}
	if checked == 0 {
		return errDigestSyntax
	}
	return nil
}
