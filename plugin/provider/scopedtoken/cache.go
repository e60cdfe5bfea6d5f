package scopedtoken

import (
	"crypto/subtle"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Cache bounds (see the package documentation, "Verified-token cache").
const (
	// cacheSlots is the number of tokens remembered per VM (a power of 2).
	cacheSlots = 256
	// maxCachedToken: longer tokens are always verified in full.
	maxCachedToken = 2048
	// maxCachedScope bounds a cached token's compiled endpoints (bytes of
	// prefixes plus spans): a compressed token can carry far more than its
	// own length. Together with maxCachedToken it bounds the cache at
	// about cacheSlots × 4 KiB = 1 MiB per VM, reached only with that many
	// distinct maximum-size tokens signed by the issuer.
	maxCachedScope = 2048
)

// verified is what a token's signature and payload checks produced: all
// that depends on the token alone. A hit reruns only the request-dependent
// checks (Verifier.authorize) on it.
type verified struct {
	hash   uint64
	token  []byte // the whole token, compared in full on every hit
	claims Claims // Recipient is not kept: it is in headers
	scope  scope
	// subject and headers are the identity the token produced.
	subject string
	headers []provider.Header
}

// verifiedCache is a direct-mapped table of tokens that verified: a token
// can only live in the slot its hash picks, and a new token evicts the one
// there. Every slot keeps its buffers, so once warm, inserting allocates
// nothing but the identity's strings. Not safe for concurrent use (one per
// VM, like the Verifier).
type verifiedCache struct {
	slots [cacheSlots]verified
	hash  func([]byte) uint64 // tokenHash; tests force collisions
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{hash: tokenHash}
}

// get returns the entry holding exactly token, or nil (always nil on a
// nil cache).
func (vc *verifiedCache) get(token []byte) *verified {
	if vc == nil {
		return nil
	}
	h := vc.hash(token)
	e := &vc.slots[h&(cacheSlots-1)]
	// The hash only picks the slot; the token is compared in full, in
	// constant time (tokens are bearer secrets).
	if e.token == nil || e.hash != h || len(e.token) != len(token) ||
		subtle.ConstantTimeCompare(e.token, token) != 1 {
		return nil
	}
	return e
}

// put remembers a token that passed every check, with its claims, its
// compiled scope and the identity it produced.
func (vc *verifiedCache) put(token []byte, c Claims, sc *scope, id *provider.Identity) {
	if vc == nil || len(token) > maxCachedToken || sc.size() > maxCachedScope {
		return
	}
	h := vc.hash(token)
	e := &vc.slots[h&(cacheSlots-1)]
	e.hash = h
	e.token = append(e.token[:0], token...)
	c.Recipient = nil
	e.claims = c
	e.scope.prefixes = append(e.scope.prefixes[:0], sc.prefixes...)
	e.scope.spans = append(e.scope.spans[:0], sc.spans...)
	e.scope.invalid = sc.invalid
	e.subject, e.headers = id.Subject, id.Headers
}

// tokenHash mixes the token's length and its last 16 bytes, which are
// HMAC output (the signature's base64): evenly spread for every token that
// can be in the cache, and cheap in Wasm whatever the token's length. It
// only picks a slot: a token crafted to share a slot merely evicts the
// entry there (the next presentation of that token is verified in full).
func tokenHash(t []byte) uint64 {
	h := uint64(len(t)) * 0x9e3779b97f4a7c15
	if len(t) > 16 {
		t = t[len(t)-16:]
	}
	for _, c := range t {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return h ^ h>>29
}
