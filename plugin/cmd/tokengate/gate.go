package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

// gate is the real tokengate module running in hostsim, as Envoy would run
// it, for explain (the demo serves through hostsim/serve instead).
type gate struct {
	mu     sync.Mutex // hostsim VMs take one request at a time; the clock is shared
	host   *hostsim.Host
	plugin *hostsim.Plugin
	next   int
}

// errNoWasm is what every command says when the module is not built.
var errNoWasm = errors.New("run make wasm")

func readWasm(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New(path + " does not exist: " + errNoWasm.Error() + " first")
	}
	return b, err
}

// startGate loads the module and starts the plugin with configuration cfg
// and the VM environment env; the test clock starts at start. upstream
// answers forwarded requests (nil: 200 with an empty body).
func startGate(ctx context.Context, wasm, cfg []byte, env map[string]string, upstream http.Handler, start time.Time, workers int) (*gate, error) {
	host, err := hostsim.New(ctx, wasm, hostConfig().WithStartTime(start))
	if err != nil {
		return nil, err
	}
	p, err := host.StartPlugin(ctx, hostsim.PluginConfig{Name: "tokengate", Configuration: cfg, Env: env,
		Workers: workers, UpstreamHandler: upstream})
	if err != nil {
		host.Close(ctx)
		var se *hostsim.StartError
		if errors.As(err, &se) {
			var msgs []string
			for _, l := range se.Logs {
				if l.Level >= hostsim.LogWarn {
					msgs = append(msgs, l.Message)
				}
			}
			if len(msgs) > 0 {
				return nil, errors.New("the plugin refused to start:\n" + strings.Join(msgs, "\n"))
			}
		}
		return nil, err
	}
	return &gate{host: host, plugin: p}, nil
}

func (g *gate) Close(ctx context.Context) { g.host.Close(ctx) }

// hostConfig is hostsim's default (Envoy 1.33–1.39, what fleets run) with
// wazero's compiled code cached on disk, so explain does not compile the
// module again on every run. Without a usable cache directory it compiles.
func hostConfig() hostsim.Config {
	cfg := hostsim.Config{}
	dir, err := os.UserCacheDir()
	if err != nil {
		return cfg
	}
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "tokengate", "wazero"))
	if err != nil {
		return cfg
	}
	return cfg.WithCompilationCache(cache)
}

// decision is what the plugin's request counter says about one request.
type decision struct {
	Rule, Provider, Outcome, Reason string
}

// do sends req at instant at (the clock never goes back) and reports the
// result and the plugin's decision, read from which
// tokengate.requests.rule.<r>.provider.<p>.outcome.<o>.reason.<x> counter
// moved: the plugin counts every request exactly once there.
func (g *gate) do(ctx context.Context, req hostsim.Request, at time.Time) (*hostsim.Result, *decision) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d := at.Sub(g.host.Now()); d > 0 {
		g.host.Advance(ctx, d)
	}
	before := requestCounters(g.host)
	vm := g.plugin.Worker(g.next % len(g.plugin.Workers()))
	g.next++
	res := vm.HTTP(ctx, req)
	var dec *decision
	for name, v := range requestCounters(g.host) {
		if v > before[name] {
			parts := strings.Split(name, ".")
			dec = &decision{Rule: parts[3], Provider: parts[5], Outcome: parts[7], Reason: parts[9]}
		}
	}
	return res, dec
}

func requestCounters(h *hostsim.Host) map[string]int64 {
	out := map[string]int64{}
	for _, m := range h.Metrics() {
		if p := strings.Split(m.Name, "."); len(p) == 10 && p[0] == "tokengate" && p[1] == "requests" &&
			p[2] == "rule" && p[4] == "provider" && p[6] == "outcome" && p[8] == "reason" {
			out[m.Name] = m.Value
		}
	}
	return out
}
