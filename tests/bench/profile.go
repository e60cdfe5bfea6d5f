package bench

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tokengate/tokengate/hostsim"
)

// Watched are the guest functions the profiler times, by name prefix
// (the Go toolchain keeps the wasm name section, with '/' in import paths
// written '_'). Each one's time is
// inclusive and counted at its outermost frame only.
var Watched = []string{
	"runtime.gcStart",        // one call per GC cycle
	"runtime.gcDrain",        // marking, wherever it runs
	"runtime.gcBgMarkWorker", // background marking (a goroutine)
	"runtime.gcAssistAlloc",  // marking charged to allocating code
	"runtime.mallocgc",       // every heap allocation (includes assists)
	"github.com_buger_jsonparser.",
	"github.com_tokengate_tokengate_plugin_provider_jwt.",
	"github.com_tokengate_tokengate_plugin_provider_keys.",
	"github.com_tokengate_tokengate_plugin_filter.",
	"github.com_tokengate_tokengate_plugin_internal_abi.",
	"github.com_tokengate_tokengate_plugin_policy.",
}

// GuestProfile is time and calls per watched prefix.
type GuestProfile struct {
	Requests int
	Total    time.Duration // wall time of the measured requests
	Time     map[string]time.Duration
	Calls    map[string]int
}

type watch struct {
	prefix string
	depth  int
	start  time.Time
	prof   **GuestProfile // the profile being recorded
}

func (w *watch) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
	if w.depth == 0 {
		w.start = time.Now()
	}
	w.depth++
	(*w.prof).Calls[w.prefix]++
}

func (w *watch) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {
	w.exit()
}

func (w *watch) Abort(context.Context, api.Module, api.FunctionDefinition, error) { w.exit() }

func (w *watch) exit() {
	if w.depth == 0 {
		return
	}
	w.depth--
	if w.depth == 0 {
		(*w.prof).Time[w.prefix] += time.Since(w.start)
	}
}

func newProfile(n int) *GuestProfile {
	return &GuestProfile{Requests: n, Time: map[string]time.Duration{}, Calls: map[string]int{}}
}

// Profile runs n requests of each wasm scheme (see Cases; fresh
// credentials are minted beforehand) on one host compiled with function
// listeners on the watched guest functions, and returns where the time
// went per scheme. Listeners slow the watched calls down (about a
// microsecond per call); read the shares, not the totals.
func (s *Suite) Profile(ctx context.Context, schemes []string, n int) (map[string]*GuestProfile, error) {
	cur := newProfile(n)
	watches := map[string]*watch{}
	factory := experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
		name := def.Name()
		for _, p := range Watched {
			if strings.HasPrefix(name, p) {
				if watches[p] == nil {
					watches[p] = &watch{prefix: p, prof: &cur}
				}
				return watches[p]
			}
		}
		return nil
	})
	lctx := experimental.WithFunctionListenerFactory(ctx, factory)
	h, err := hostsim.New(lctx, s.Wasm, s.W.HostConfig())
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
		vm.HTTP(ctx, reqs[0]) // warm (introspection and JWT caches)
		cur = newProfile(n)
		t0 := time.Now()
		for _, r := range reqs {
			if res := vm.HTTP(ctx, r); res.Outcome != hostsim.OutcomeForwarded {
				return nil, errRefused
			}
		}
		cur.Total = time.Since(t0)
		out[scheme] = cur
	}
	return out, nil
}

// Sorted lists the watched prefixes by time, largest first.
func (g *GuestProfile) Sorted() []string {
	var ks []string
	for k := range g.Calls {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return g.Time[ks[i]] > g.Time[ks[j]] })
	return ks
}

var (
	errUnknownScheme = errors.New("bench: unknown scheme")
	errRefused       = errors.New("bench: request refused while profiling")
)
