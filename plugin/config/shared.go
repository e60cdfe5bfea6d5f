package config

import (
	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/ratelimit"
	"github.com/tokengate/tokengate/plugin/replay"
)

// replay reads the optional "replay" object and, when the caller gave no
// guard but a store, installs a lazily built cross-VM guard in p.deps.
// Lazy, so configurations without single-use credentials write nothing
// to shared data at start.
func (p *parser) replay(o *conf.Object) {
	cfg := replay.Config{Namespace: "tokengate"}
	if o != nil {
		cfg.MaxEntries = int(o.Int("max_entries", 65536, 1024, 1<<24))
		cfg.Shards = int(o.Int("shards", 256, 1, 4096))
		o.Done()
	}
	if p.deps.Replay == nil && p.deps.Shared != nil {
		cfg.Full = p.deps.Counter("tokengate.replay.full")
		cfg.Conflicts = p.deps.Counter("tokengate.replay.cas_conflicts")
		p.deps.Replay = &lazyReplay{store: p.deps.Shared, cfg: cfg}
	}
}

type lazyReplay struct {
	store provider.SharedData
	cfg   replay.Config
	g     *replay.Guard
}

func (l *lazyReplay) Use(key string, now, expiresAt int64) error {
	return l.guard().Use(key, now, expiresAt)
}

// UseBytes lets a provider hand its key over without making a string
// (the jwt provider builds replay keys in a scratch buffer).
func (l *lazyReplay) UseBytes(key []byte, now, expiresAt int64) error {
	return l.guard().UseBytes(key, now, expiresAt)
}

func (l *lazyReplay) guard() *replay.Guard {
	if l.g == nil {
		l.g = replay.New(l.store, l.cfg)
	}
	return l.g
}

// limiter returns the rate limiter for rules with a rate_limit: token
// buckets in the shared store, so every worker VM counts against the same
// bucket. Without a store (tools, tests) the buckets are VM-local memory.
func (p *parser) limiter() policy.Limiter {
	store := p.deps.Shared
	if store == nil {
		store = &provider.MemSharedData{}
	}
	return limiterAdapter{ratelimit.New(store, "rules")}
}

// limiterAdapter lets policy (which imports only provider) use ratelimit.
type limiterAdapter struct{ l *ratelimit.Limiter }

func (a limiterAdapter) Take(key string, perSecond float64, burst int64, now int64) (bool, int64) {
	return a.l.Take(key, ratelimit.Limit{PerSecond: perSecond, Burst: burst}, now)
}
