package keys

import (
	"crypto/ecdsa"
	"sync"

	"github.com/tokengate/tokengate/plugin/internal/p256verify"
)

// ES256 with precomputed tables.
//
// p256verify checks a P-256 signature about four times faster than
// crypto/ecdsa in Wasm, from a table of about 80 KB per key that takes
// about 2 ms to build there. Key sets are untrusted input (a remote JWKS
// may list MaxSetKeys keys and is parsed again on every refresh), so no
// table is built when a key is parsed. A key's first valid signature is
// checked by crypto/ecdsa, and only then is its table built, into a cache
// of es256Tables entries per VM, keyed by the point, so a refreshed set
// finds the tables of its unchanged keys. A forged signature never builds
// a table, and more signing keys than entries evict the oldest (their
// signatures are then checked by crypto/ecdsa until signed again). Both
// paths decide alike: p256verify's tests hold it to crypto/ecdsa
// differentially over millions of signatures.

// es256Tables bounds the cached tables: memory per VM stays under
// es256Tables × 80 KB, plus 80 KB for the generator's table.
const es256Tables = 8

type tableCache struct {
	mu      sync.Mutex // natively, providers may verify concurrently
	entries [es256Tables]tableEntry
	next    int // the slot the next table replaces
	built   int // tables built so far (tests)
}

type tableEntry struct {
	point [64]byte
	pub   *p256verify.PublicKey
}

var es256 tableCache

// lookup returns the table of point, or nil.
func (c *tableCache) lookup(point *[64]byte) *p256verify.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.find(point)
}

// find is lookup with c.mu held.
func (c *tableCache) find(point *[64]byte) *p256verify.PublicKey {
	for i := range c.entries {
		if e := &c.entries[i]; e.pub != nil && e.point == *point {
			return e.pub
		}
	}
	return nil
}

// add builds the table of a key that has just verified a signature.
func (c *tableCache) add(point *[64]byte, pub *ecdsa.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.find(point) != nil {
		return
	}
	t, err := p256verify.NewPublicKey(pub)
	if err != nil {
		return // cannot happen for a parsed P-256 key; crypto/ecdsa keeps verifying
	}
	c.entries[c.next] = tableEntry{point: *point, pub: t}
	c.next = (c.next + 1) % es256Tables
	c.built++
}

// verifyES256 checks a JWS ES256 signature (R ‖ S, 32 bytes each) over
// digest: with the key's table when the cache has it, otherwise with
// crypto/ecdsa, caching a table for the key once it verifies.
func (k *Key) verifyES256(digest, sig []byte) bool {
	if k.ec == nil || len(sig) != 64 {
		return false
	}
	if k.p256 != nil {
		if t := es256.lookup(k.p256); t != nil {
			return t.Verify(digest, sig[:32], sig[32:])
		}
	}
	if !verifyEC(k.ec, digest, sig, 32) {
		return false
	}
	if k.p256 != nil {
		es256.add(k.p256, k.ec)
	}
	return true
}
