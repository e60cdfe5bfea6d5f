// Package tokencache is a bounded, per-VM cache of verification results, so
// a bearer credential presented again is not verified (or looked up
// remotely) again until it expires.
//
// # What may use it
//
// A cache hit skips verification entirely, so only credentials whose
// verdict cannot change between two presentations may be cached:
//
//   - JWTs without a single-use claim: the signature, issuer, audience and
//     lifetime checks give the same answer until exp; the entry expires no
//     later than the token. The jwt provider caches only when its
//     "single_use" (nonce/jti) requirement is off.
//   - Introspection results (positive and negative), bounded by the
//     configured TTLs and, for positive answers, by the token's own exp.
//
// Never cache a credential checked against a replay guard (a JWT with a
// required nonce, an HTTP message signature with a nonce): a hit would skip
// the replay check and accept the replay. Never cache credentials bound to
// the request (HTTP signatures cover method, path and body).
//
// # Keys
//
// An entry holds the whole credential string and a lookup compares it in
// full, so two tokens can never share a result. The index that finds the
// entry is keyed by a 64-bit hash of the token (tokenHash), not by the
// token: in Wasm the runtime's map hash has no AES instructions and would
// hash a ~300-byte JWT with emulated 128-bit multiplies, several times
// per request. Two tokens with the same hash only share an index slot:
// the later one takes it, and the earlier is then simply not found (a
// miss, verified again), never mistaken for the other.
// Credentials longer than MaxTokenBytes are not cached, which bounds memory
// at about Capacity × (MaxTokenBytes + size of the result).
//
// # Eviction
//
// When full, the oldest inserted entry is replaced (FIFO ring). Evicting is
// always safe: the next presentation is simply verified again.
//
// # Notes
//
// A Cache is not safe for concurrent use; proxy-wasm VMs are
// single-threaded and each VM has its own. The cached Identity is returned
// as stored: callers must not modify its slices or maps.
package tokencache

import (
	"github.com/tokengate/tokengate/plugin/provider"
)

// Config configures a Cache.
type Config struct {
	// Capacity is the number of entries (default 1024).
	Capacity int
	// MaxTokenBytes: longer credentials are never cached (default 4096).
	MaxTokenBytes int
	// Hits and Misses, when set, count lookups.
	Hits, Misses provider.Counter
}

// Result is a cached verdict: an Identity, or a refusal.
type Result struct {
	Identity provider.Identity
	// Err is nil for a positive result, or the refusal (negative caching).
	Err error
}

// entry is one ring slot. The token is copied into the slot's own buffer,
// which the next token evicting this slot reuses: the request's string may
// alias a larger request buffer, and a copy per insertion would cost an
// allocation per fresh token.
type entry struct {
	hash      uint64
	token     []byte
	result    Result
	expiresAt int64
}

// Cache is a bounded verification cache. The zero value is unusable; use New.
type Cache struct {
	cfg    Config
	index  map[uint64]int32 // tokenHash → ring slot
	ring   []entry
	next   int
	hits   provider.Counter
	misses provider.Counter
	hash   func(string) uint64 // tokenHash; tests force collisions
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1024
	}
	if cfg.MaxTokenBytes <= 0 {
		cfg.MaxTokenBytes = 4096
	}
	return &Cache{
		cfg:    cfg,
		index:  make(map[uint64]int32, cfg.Capacity),
		ring:   make([]entry, 0, cfg.Capacity),
		hits:   cfg.Hits,
		misses: cfg.Misses,
		hash:   tokenHash,
	}
}

// Get returns the result cached for exactly this token, if it has not
// expired at now (unix ns).
func (c *Cache) Get(token string, now int64) (Result, bool) {
	if c == nil {
		return Result{}, false
	}
	if i, ok := c.index[c.hash(token)]; ok {
		e := &c.ring[i]
		if now < e.expiresAt && string(e.token) == token {
			if c.hits != nil {
				c.hits.Increment(1)
			}
			return e.result, true
		}
	}
	if c.misses != nil {
		c.misses.Increment(1)
	}
	return Result{}, false
}

// Put caches r for token until expiresAt (unix ns). Nothing is stored when
// the token is too long or already expired.
func (c *Cache) Put(token string, r Result, now, expiresAt int64) {
	if c == nil || len(token) == 0 || len(token) > c.cfg.MaxTokenBytes || expiresAt <= now {
		return
	}
	h := c.hash(token)
	if i, ok := c.index[h]; ok && string(c.ring[i].token) == token {
		c.ring[i].result, c.ring[i].expiresAt = r, expiresAt
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, entry{h, []byte(token), r, expiresAt})
		c.index[h] = int32(len(c.ring) - 1)
		return
	}
	old := &c.ring[c.next]
	// The slot may have lost its index entry to a token with the same hash.
	if i, ok := c.index[old.hash]; ok && int(i) == c.next {
		delete(c.index, old.hash)
	}
	old.hash, old.token = h, append(old.token[:0], token...)
	old.result, old.expiresAt = r, expiresAt
	c.index[h] = int32(c.next)
	c.next = (c.next + 1) % len(c.ring)
}

// tokenHash is an FNV-1a-style multiply-xor hash over the token, eight
// bytes a step: cheap in Wasm, and good enough for an index whose every
// hit is confirmed by comparing the whole token.
func tokenHash(s string) uint64 {
	const prime = 0x100000001b3
	h := uint64(0xcbf29ce484222325) ^ uint64(len(s))
	for ; len(s) >= 8; s = s[8:] {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ v) * prime
		h ^= h >> 32 // FNV's multiply moves bits up only: fold them back
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * prime
	}
	return h
}

// Len is the number of entries held (expired ones included until replaced).
func (c *Cache) Len() int { return len(c.ring) }
