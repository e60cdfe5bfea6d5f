package bench

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/tokengate/tokengate/hostsim"
)

// MemTracker is a wazero memory allocator that remembers every linear
// memory it backs, so a run can read each VM's size without any help
// from hostsim (which does not expose guest memory). Install it with
// experimental.WithMemoryAllocator on the context passed to hostsim.
type MemTracker struct {
	mu   sync.Mutex
	mems []*trackedMem
}

type trackedMem struct {
	buf   []byte
	freed bool
}

func (t *MemTracker) Allocate(cap, max uint64) experimental.LinearMemory {
	m := &trackedMem{buf: make([]byte, 0, cap)}
	t.mu.Lock()
	t.mems = append(t.mems, m)
	t.mu.Unlock()
	return m
}

func (m *trackedMem) Reallocate(size uint64) []byte {
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	n := make([]byte, size, size+size/4)
	copy(n, m.buf)
	m.buf = n
	return m.buf
}

func (m *trackedMem) Free() { m.freed = true; m.buf = nil }

// Live returns the sizes of the memories not freed, in creation order.
func (t *MemTracker) Live() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for _, m := range t.mems {
		if !m.freed {
			out = append(out, len(m.buf))
		}
	}
	return out
}

// MemPoint is the state after a number of requests.
type MemPoint struct {
	Requests     int
	LinearMemory []int // bytes, per worker VM
	HostHeap     uint64
	// ReplayEntries is the number of entries in the cross-VM replay
	// store(s), per namespace prefix (from shared data).
	ReplayEntries map[string]int
	Refused       int // requests not forwarded (must stay 0)
	// Refusals counts them by path, outcome, status and body (bodies
	// carry only the reason code).
	Refusals map[string]int
	// Failed is each worker VM's failure (trap) message, "" when alive.
	Failed []string
}

// MemRun sends a mix of fresh credentials round-robin to two worker VMs
// and records memory at each checkpoint. The host clock moves 10 s every
// 1000 requests (100 requests per simulated second), so single-use entries
// expire (JWTs after a minute, HTTP-signature nonces after max_age, 300 s)
// and the replay store recycles them: about 3,300 live entries in steady
// state, under its bound of ReplayMaxEntries. (At ten times that rate the
// live set exceeds the bound and the store correctly refuses with
// replay_store_full.)
func (s *Suite) MemRun(ctx context.Context, checkpoints []int) ([]MemPoint, error) {
	t := &MemTracker{}
	ctx = experimental.WithMemoryAllocator(ctx, t)
	h, err := hostsim.New(ctx, s.Wasm, s.W.HostConfig().WithCompilationCache(s.Cache))
	if err != nil {
		return nil, err
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: s.W.Config, Workers: 2})
	if err != nil {
		return nil, err
	}
	w := s.W
	// The reused JWT is re-minted every 30 s of host time so it stays
	// inside its one-minute lifetime; in between every send is a cache hit.
	reused, reusedAt := jwtReq("/jwted/x", s.tokens["EdDSA"]), T0
	reuse := func(now time.Time) hostsim.Request {
		if now.Sub(reusedAt) > 30*time.Second {
			reused, reusedAt = jwtReq("/jwted/x", w.JWT(w.Ed, "EdDSA", now)), now
		}
		return reused
	}
	mix := []func(now time.Time) hostsim.Request{
		func(time.Time) hostsim.Request { return req("/open/x") },
		func(time.Time) hostsim.Request { return w.apiKeyReq() },
		func(time.Time) hostsim.Request { return req("/ip/x") },
		w.rollingReq,
		w.m2mReq,
		w.scopedReq,
		func(now time.Time) hostsim.Request { return jwtReq("/jwted/x", w.JWT(w.Ed, "EdDSA", now)) },
		func(now time.Time) hostsim.Request { return jwtReq("/jwtonce/x", w.JWT(w.Ed, "EdDSA", now)) },
		reuse,
		func(now time.Time) hostsim.Request { return w.httpSigReq("/hsh/x", "partner", w.HSSecret, true, now) },
		func(time.Time) hostsim.Request { return w.introReq() },
	}
	var out []MemPoint
	refused := 0
	refusals := map[string]int{}
	n := 0
	for _, cp := range checkpoints {
		for ; n < cp; n++ {
			if n > 0 && n%1000 == 0 {
				h.Advance(ctx, 10*time.Second)
			}
			now := h.Now()
			r := mix[n%len(mix)](now)
			if res := p.Worker(n%2).HTTP(ctx, r); res.Outcome != hostsim.OutcomeForwarded {
				refused++
				k := fmt.Sprintf("vm%d %s %s %d %.60s", n%2, r.Path, res.Outcome, res.Status, res.Body)
				refusals[k]++
			}
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		pt := MemPoint{Requests: cp, HostHeap: ms.HeapAlloc, Refused: refused, ReplayEntries: map[string]int{},
			Refusals: map[string]int{}}
		for k, v := range refusals {
			pt.Refusals[k] = v
		}
		for _, vm := range p.Workers() {
			_, msg := vm.Failed()
			pt.Failed = append(pt.Failed, msg)
		}
		mems := t.Live()
		if len(mems) > 2 { // base and canary VMs are closed; keep the workers
			mems = mems[len(mems)-2:]
		}
		pt.LinearMemory = mems
		for _, k := range h.SharedDataKeys("") {
			if !strings.HasPrefix(k, "tokengate/replay/") {
				continue
			}
			v, _, _ := h.SharedData("", k)
			ns := strings.TrimPrefix(k, "tokengate/replay/")
			if i := strings.LastIndexByte(ns, '/'); i >= 0 {
				ns = ns[:i]
			}
			if len(v) > 0 {
				pt.ReplayEntries[ns] += (len(v) - 1) / 24
			}
		}
		out = append(out, pt)
	}
	return out, nil
}
