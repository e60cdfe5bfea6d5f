// Package ratelimit keeps token buckets in proxy-wasm shared data, so all
// worker VMs of one proxy draw from the same bucket for a key.
//
// # Algorithm
//
// Each bucket is a token bucket of Burst tokens refilled at PerSecond,
// implemented as GCRA (generic cell rate algorithm): instead of a token
// count and a refill time, a bucket stores one instant, the theoretical
// arrival time (TAT) of the next request if the caller spent tokens at
// exactly the refill rate. With T = 1/PerSecond, a request at now is
// admitted when max(TAT, now) + T − now ≤ Burst × T, and then TAT becomes
// max(TAT, now) + T. This is the same admission rule as a token bucket, in
// integer nanoseconds, with 9 bytes of state:
//
//	+------+-----------------------+
//	| 0x01 | TAT, unix ns (i64 BE) |
//	+------+-----------------------+
//
// A refusal does not write, so a flood of refused requests costs one read
// each and does not contend.
//
// # Concurrency
//
// Take reads the bucket, decides, and writes it back with the cas it read.
// A cas mismatch means another VM took from the same bucket in between, so
// Take re-reads and decides again, at most MaxAttempts times.
//
// Envoy ignores cas when the key is absent, so two VMs creating the same
// bucket at once could both succeed and both admit. Take therefore creates
// buckets with cas 0xFFFFFFFF: when the key is still absent the write
// succeeds, and when another VM created it in between, the write is refused
// (the other VM's cas differs) and Take retries on the real value. The only
// remaining race is the other VM's write having been given exactly that cas
// by Envoy's global counter, once every 2^32 writes.
//
// # Failure policy: closed
//
// When the store fails (any error but not-found or cas mismatch) or cas
// mismatches exhaust MaxAttempts, Take refuses with a retry-after of one
// second. Contention that heavy means many workers hit the same bucket in
// the same microseconds, which is exactly when a limit matters; letting
// requests through then would make the limit weakest under load. A bucket
// value that cannot be decoded (another plugin in the same vm_id wrote our
// key, or a future encoding) is replaced by a fresh full bucket rather than
// refusing that key forever.
//
// # Memory
//
// Shared data has no delete: every key ever used stays until the last VM
// of the vm_id goes away (a configuration change that restarts them). Keep
// the key space bounded: per configured subject and per API key id are
// bounded by the configuration; per client address is not, so use
// [AddressKey] with a slot count, which maps addresses onto a fixed number
// of buckets (collisions share a bucket, which can only make the limit
// stricter). Each bucket costs its key plus 9 bytes plus the host's
// per-entry overhead.
//
// # Scope
//
// Buckets are per proxy instance (per Envoy process and vm_id). N replicas
// behind a load balancer each allow the full rate; for fleet-wide limits use
// Envoy's global rate limit service (envoy.filters.http.ratelimit), see
// plugin/README.md.
package ratelimit

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Limit is a token bucket: Burst tokens, refilled at PerSecond per second.
type Limit struct {
	PerSecond float64
	Burst     int64
}

// Bounds of a valid Limit. They keep the nanosecond arithmetic exact and
// far from overflow: the longest interval is 10^15 ns (one token per ~11.6
// days) and Burst × interval saturates rather than wraps.
const (
	MinPerSecond = 1e-6
	MaxPerSecond = 1e9
	MaxBurst     = 1 << 30
)

// Valid reports whether l is within the bounds. Take refuses every request
// for an invalid limit; the configuration should refuse it at start.
func (l Limit) Valid() bool {
	return l.PerSecond >= MinPerSecond && l.PerSecond <= MaxPerSecond && // false for NaN
		l.Burst >= 1 && l.Burst <= MaxBurst
}

// MaxAttempts bounds the read-decide-write loop under cas contention.
const MaxAttempts = 8

// createCas is the cas used to create a bucket; see the package doc.
const createCas = 0xFFFFFFFF

const (
	stateVersion = 0x01
	stateLen     = 9
	keyPrefix    = "tokengate/ratelimit/"
	// keyCacheMax bounds the per-Limiter cache of built store keys.
	keyCacheMax = 1024
)

// Limiter takes tokens from buckets in a SharedData store. Create one per
// VM (plugin context) and namespace; it is not safe for concurrent use,
// which proxy-wasm VMs never need. Several Limiters, in one VM or in many,
// over the same store and namespace share the buckets.
type Limiter struct {
	store  provider.SharedData
	prefix string
	buf    [stateLen]byte
	// keys caches prefix+key so the hot path does not build a string per
	// request. It is bounded (cleared when full) and per VM.
	keys map[string]string
}

// New returns a Limiter whose buckets live under namespace in store. Use a
// namespace per rate-limit rule so two rules never share a bucket.
//
// # Notes
//
// store must copy the value passed to Set (both the proxy-wasm host and
// provider.MemSharedData do): Take reuses one buffer.
func New(store provider.SharedData, namespace string) *Limiter {
	return &Limiter{store: store, prefix: keyPrefix + namespace + "/", keys: make(map[string]string)}
}

// Take spends one token from key's bucket at now (unix ns). It returns
// true when the request is admitted; otherwise the whole seconds after
// which one token will be available (at least 1), for Retry-After.
func (l *Limiter) Take(key string, lim Limit, now int64) (allowed bool, retryAfterSeconds int64) {
	if !lim.Valid() || now < 0 || l.store == nil {
		return false, 1 // fail closed on anything the limiter cannot honour
	}
	interval := int64(1e9 / lim.PerSecond)
	if interval < 1 {
		interval = 1
	}
	tolerance := satMul(interval, lim.Burst)
	k := l.storeKey(key)
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		val, cas, err := l.store.Get(k)
		tat := now
		switch {
		case err == nil:
			if t, ok := decode(val); ok {
				tat = t
			} // else: replace the undecodable value through the cas we read
		case errors.Is(err, provider.ErrNotFound):
			cas = createCas
		default:
			return false, 1
		}
		if tat < now {
			tat = now
		}
		next := satAdd(tat, interval)
		if excess := next - now - tolerance; excess > 0 {
			return false, ceilSeconds(excess)
		}
		l.buf[0] = stateVersion
		binary.BigEndian.PutUint64(l.buf[1:], uint64(next))
		err = l.store.Set(k, l.buf[:], cas)
		if err == nil {
			return true, 0
		}
		if !errors.Is(err, provider.ErrCasMismatch) {
			return false, 1
		}
	}
	return false, 1
}

func (l *Limiter) storeKey(key string) string {
	if k, ok := l.keys[key]; ok {
		return k
	}
	k := l.prefix + key
	if len(l.keys) >= keyCacheMax {
		clear(l.keys)
	}
	l.keys[key] = k
	return k
}

func decode(v []byte) (int64, bool) {
	if len(v) != stateLen || v[0] != stateVersion {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v[1:])), true
}

func ceilSeconds(ns int64) int64 {
	s := ns / 1e9
	if ns%1e9 != 0 {
		s++
	}
	if s < 1 {
		s = 1
	}
	return s
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
