package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/guestprof"
)

// GuestProfile is where one scheme's requests spent their time in the
// guest (and in host functions), from hostsim/guestprof.
type GuestProfile struct {
	Requests int
	// Total is the wall time of the measured requests with the profiler's
	// listeners attached (slower than the benchmark: read shares, not
	// totals).
	Total time.Duration
	// Functions are every called function by self time, largest first.
	Functions []guestprof.Function
	// Calls is the number of function calls (guest and host) per request.
	Calls float64
	// Pprof is the path of the pprof file written for the scheme, if any.
	Pprof string
}

// Profile runs n requests of each wasm scheme (fresh credentials are minted
// beforehand) on one host compiled with guestprof's listeners and returns
// where the time went per scheme. When pprofDir is not empty a pprof file
// per scheme is written there (go tool pprof -sample_index=self -top).
func (s *Suite) Profile(ctx context.Context, schemes []string, n int, pprofDir string) (map[string]*GuestProfile, error) {
	prof := guestprof.New()
	h, err := hostsim.New(prof.Context(ctx), s.Wasm, s.W.HostConfig())
	if err != nil {
		return nil, err
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: s.W.Config, Workers: 1})
	if err != nil {
		return nil, err
	}
	vm := p.Worker(0)
	out := map[string]*GuestProfile{}
	for _, scheme := range schemes {
		next := s.source(scheme)
		if next == nil {
			return nil, errUnknownScheme
		}
		reqs := make([]hostsim.Request, n)
		for i := range reqs {
			reqs[i] = next(T0)
		}
		// Warm the introspection and JWT caches with a credential of its
		// own: a single-use scheme would refuse reqs[0] a second time.
		vm.HTTP(ctx, next(T0))
		prof.Reset()
		prof.Start()
		t0 := time.Now()
		for _, r := range reqs {
			if res := vm.HTTP(ctx, r); res.Outcome != hostsim.OutcomeForwarded {
				prof.Stop()
				return nil, errRefused
			}
		}
		g := &GuestProfile{Requests: n, Total: time.Since(t0)}
		prof.Stop()
		g.Functions = prof.Functions()
		var calls int64
		for _, f := range g.Functions {
			calls += f.Calls
		}
		g.Calls = float64(calls) / float64(n)
		if pprofDir != "" {
			if err := writePprof(prof, filepath.Join(pprofDir, scheme+".pb.gz")); err != nil {
				return nil, err
			}
			g.Pprof = filepath.Join(pprofDir, scheme+".pb.gz")
		}
		out[scheme] = g
	}
	return out, nil
}

func writePprof(prof *guestprof.Profiler, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return prof.WritePprofFile(path)
}

var (
	errUnknownScheme = errors.New("bench: unknown scheme")
	errRefused       = errors.New("bench: request refused while profiling")
)
