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
	hash     uint64
	token    []byte // the whole token, compared in full on every hit
	validity validity
	scope    scope
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

// get returns token's hash (for put) and the entry holding exactly token,
// or nil (always nil on a nil cache).
func (vc *verifiedCache) get(token []byte) (uint64, *verified) {
	if vc == nil {
		return 0, nil
	}
	h := vc.hash(token)
	e := &vc.slots[h&(cacheSlots-1)]
	// The hash only picks the slot; the token is compared in full, in
	// constant time (tokens are bearer secrets).
	if e.token == nil || e.hash != h || len(e.token) != len(token) ||
		subtle.ConstantTimeCompare(e.token, token) != 1 {
		return h, nil
	}
	return h, e
}

// put remembers a token (whose tokenHash is h) that passed every check,
// with its validity, its compiled scope and the identity it produced.
func (vc *verifiedCache) put(h uint64, token []byte, t validity, sc *scope, id *provider.Identity) {
	if vc == nil || len(token) > maxCachedToken || sc.size() > maxCachedScope {
		return
	}
	e := &vc.slots[h&(cacheSlots-1)]
	e.hash, e.validity = h, t
	// Truncate, then append in place: while the slot's buffers are large
	// enough only lengths change, so a miss pays no pointer stores (GC
	// write barriers, costly in Wasm while the collector marks).
	e.token = e.token[:0]
	e.token = append(e.token, token...)
	e.scope.prefixes = e.scope.prefixes[:0]
	e.scope.prefixes = append(e.scope.prefixes, sc.prefixes...)
	e.scope.spans = e.scope.spans[:0]
	e.scope.spans = append(e.scope.spans, sc.spans...)
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
