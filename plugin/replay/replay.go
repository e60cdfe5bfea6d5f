// Package replay remembers single-use values (nonces, jti, signature
// nonces) across every VM of a proxy, in bounded memory, so a credential
// accepted once inside its lifetime is refused the second time.
//
// # Design
//
// The store is proxy-wasm shared data: one map per proxy with
// compare-and-swap and no delete. A Guard splits its namespace into a fixed
// number of shards; the shard of a key is chosen by the key's hash, so every
// key is looked up with exactly one shared-data read. A shard value is a
// version byte followed by fixed 24-byte entries:
//
//	+---------+----------------------+------------------+
//	| 0x01    | 16-byte key hash     | expiry (i64 BE)  | ... repeated
//	+---------+----------------------+------------------+
//
// Use reads the shard, refuses the key if a live entry with the same hash is
// there, otherwise drops expired entries, appends the new one and writes the
// shard back with the cas it read. A cas mismatch means another VM wrote in
// between: Use re-reads and tries again (a bounded number of times).
//
// Hash-sharding rather than time buckets was chosen because it costs one
// read and one write per request whatever the key's lifetime, spreads the
// cas contention of concurrent workers over many keys, and never depends on
// callers passing the same expiry twice for the same key.
//
// # Memory bound and eviction policy
//
// Each shard holds at most ceil(MaxEntries/Shards) entries, so the store
// never exceeds Shards × (1 + 24×that) bytes. Entries are dropped only when
// their expiry has passed. When a shard is full of live entries the new key
// is refused with ReasonReplayStoreFull (HTTP 503) and the "full" counter is
// incremented: a nonce is never forgotten inside its window, so a flood can
// deny service but never enable a replay.
//
// # Failure policy
//
// A shard that cannot be decoded (someone else wrote to our key) is never
// overwritten: Use refuses with ReasonInternal, because rewriting it would
// forget live nonces. Keys are hashed (SHA-256, truncated to 128 bits) with
// the namespace, so the store never holds a credential in clear.
//
// # Notes
//
// Shared data ignores cas when a key is absent, so two VMs creating the same
// shard at the same instant could overwrite each other. New creates every
// shard of its namespace once, at start, so the first request of a VM
// already writes with cas; the remaining window is two VMs starting at the
// same time while one of them already serves.
package replay

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Config configures a Guard.
type Config struct {
	// Namespace separates guards sharing one store (e.g. the provider name).
	Namespace string
	// MaxEntries bounds how many live keys the guard remembers in total
	// (default 65536).
	MaxEntries int
	// Shards is how many shared-data keys the entries are spread over
	// (default 256). More shards mean smaller values copied per request.
	Shards int
	// Full, when set, is incremented each time a key is refused because its
	// shard is full of live entries.
	Full provider.Counter
	// Conflicts, when set, is incremented on each cas retry.
	Conflicts provider.Counter
}

const (
	defaultMaxEntries = 65536
	defaultShards     = 256
	entrySize         = 16 + 8
	version           = 0x01
	maxAttempts       = 16
	keyPrefix         = "tokengate/replay/"
)

// Errors returned by Use. They are shared values: compare with errors.Is.
var (
	ErrReplayed  = provider.NewError(provider.ReasonReplayed, "single-use value already used")
	ErrFull      = provider.NewError(provider.ReasonReplayStoreFull, "replay store full")
	ErrBusy      = provider.NewError(provider.ReasonReplayStoreFull, "replay store busy")
	ErrCorrupt   = provider.NewError(provider.ReasonInternal, "replay store entry unreadable")
	ErrStore     = provider.NewError(provider.ReasonInternal, "replay store unavailable")
	errNoStorage = provider.NewError(provider.ReasonInternal, "replay guard has no store")
)

// Guard is a provider.ReplayGuard over shared data.
type Guard struct {
	store     provider.SharedData
	ns        string
	keys      []string // shared-data key of each shard, built once
	perShard  int
	full      provider.Counter
	conflicts provider.Counter
	buf       []byte // scratch for the value being written; VMs are single-threaded
}

var _ provider.ReplayGuard = (*Guard)(nil)

// New returns a Guard storing into store. It creates every shard that does
// not exist yet (see the package Notes).
func New(store provider.SharedData, cfg Config) *Guard {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = defaultMaxEntries
	}
	if cfg.Shards <= 0 {
		cfg.Shards = defaultShards
	}
	if cfg.Shards > cfg.MaxEntries {
		cfg.Shards = cfg.MaxEntries
	}
	g := &Guard{
		store:     store,
		ns:        cfg.Namespace,
		perShard:  (cfg.MaxEntries + cfg.Shards - 1) / cfg.Shards,
		full:      cfg.Full,
		conflicts: cfg.Conflicts,
		keys:      make([]string, cfg.Shards),
	}
	for i := range g.keys {
		g.keys[i] = keyPrefix + cfg.Namespace + "/" + strconv.Itoa(i)
	}
	if store != nil {
		for _, k := range g.keys {
			if _, _, err := store.Get(k); err == provider.ErrNotFound {
				_ = store.Set(k, []byte{version}, 0)
			}
		}
	}
	return g
}

// Capacity is the most live keys the guard can hold.
func (g *Guard) Capacity() int { return g.perShard * len(g.keys) }

// Use marks key as used until expiresAt (unix ns). It returns nil the first
// time, ErrReplayed while the key is remembered, ErrFull when the key's shard
// is full of live keys, ErrBusy when concurrent writers kept winning the
// cas race, and an internal error when the store misbehaves. A key whose
// expiresAt is not after now is remembered for one nanosecond past now, so
// a caller that forgot to check lifetimes still gets single use.
func (g *Guard) Use(key string, now, expiresAt int64) error {
	if g == nil || g.store == nil {
		return errNoStorage
	}
	return g.use(keyHash(g.ns, key), now, expiresAt)
}

// UseBytes is Use for a key built in a caller's buffer, sparing the
// caller a string per request. The key is not retained.
func (g *Guard) UseBytes(key []byte, now, expiresAt int64) error {
	if g == nil || g.store == nil {
		return errNoStorage
	}
	return g.use(keyHash(g.ns, key), now, expiresAt)
}

func (g *Guard) use(h [16]byte, now, expiresAt int64) error {
	if expiresAt <= now {
		expiresAt = now + 1
	}
	shard := binary.BigEndian.Uint64(h[8:16]) % uint64(len(g.keys))
	skey := g.keys[shard]
	for attempt := 0; attempt < maxAttempts; attempt++ {
		val, cas, err := g.store.Get(skey)
		switch err {
		case nil:
		case provider.ErrNotFound:
			// Created by New; only missing if the partition was reset.
			val, cas = []byte{version}, 0
		default:
			return ErrStore
		}
		if len(val) == 0 || val[0] != version || (len(val)-1)%entrySize != 0 {
			return ErrCorrupt
		}
		// Rebuild the value without expired entries, looking for the key.
		// Live entries are copied a run at a time (a run ends at an expired
		// entry): a shard is mostly live, and per-entry appends dominated
		// the cost of a full shard in Wasm.
		out := append(g.buf[:0], version)
		run := 1 // start of the live entries not yet copied
		for off := 1; off < len(val); off += entrySize {
			e := val[off : off+entrySize]
			if int64(binary.BigEndian.Uint64(e[16:])) <= now {
				out = append(out, val[run:off]...)
				run = off + entrySize
				continue
			}
			if [16]byte(e[:16]) == h {
				return ErrReplayed
			}
		}
		out = append(out, val[run:]...)
		if (len(out)-1)/entrySize >= g.perShard {
			g.buf = out
			if g.full != nil {
				g.full.Increment(1)
			}
			return ErrFull
		}
		out = append(out, h[:]...)
		out = binary.BigEndian.AppendUint64(out, uint64(expiresAt))
		g.buf = out
		switch err := g.store.Set(skey, out, cas); err {
		case nil:
			return nil
		case provider.ErrCasMismatch:
			if g.conflicts != nil {
				g.conflicts.Increment(1)
			}
			continue
		default:
			return ErrStore
		}
	}
	return ErrBusy
}

// keyHash is SHA-256(namespace ‖ 0x00 ‖ key) truncated to 128 bits: the
// store never holds the single-use value itself, and a collision needs
// ~2^64 keys.
func keyHash[K string | []byte](ns string, key K) [16]byte {
	var stack [256]byte
	b := stack[:0]
	b = append(b, ns...)
	b = append(b, 0)
	b = append(b, key...)
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}
