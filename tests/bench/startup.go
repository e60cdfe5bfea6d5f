package bench

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

// CompileTime compiles the module in a fresh runtime without a cache
// (what Envoy's wazero-like hosts pay once per module).
func (s *Suite) CompileTime(ctx context.Context) (time.Duration, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithMemoryLimitPages(16384))
	defer rt.Close(ctx)
	t0 := time.Now()
	m, err := rt.CompileModule(ctx, s.Wasm)
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	return d, m.Close(ctx)
}

// StartTime is instantiate plus configure after compilation: one
// StartPlugin with one worker on a host whose module is already compiled
// (through the suite's compilation cache). Envoy starts three VMs for one
// worker (base, canary, worker: each instantiated, _initialize run,
// on_vm_start, on_configure), so the per-VM figure is the third.
func (s *Suite) StartTime(ctx context.Context) (perVM time.Duration, err error) {
	return s.startTime(ctx, s.W.Config)
}

// MinimalConfig has one anonymous rule and no provider: StartTime with it
// is the Go runtime's and the filter's own start-up, without the
// benchmark configuration's providers.
var MinimalConfig = []byte(`{"rules":[{"name":"open","anonymous":true}]}`)

// StartTimeMinimal is StartTime with MinimalConfig.
func (s *Suite) StartTimeMinimal(ctx context.Context) (time.Duration, error) {
	return s.startTime(ctx, MinimalConfig)
}

func (s *Suite) startTime(ctx context.Context, cfg []byte) (perVM time.Duration, err error) {
	h, err := hostsim.New(ctx, s.Wasm, s.W.HostConfig().WithCompilationCache(s.Cache))
	if err != nil {
		return 0, err
	}
	defer h.Close(ctx)
	t0 := time.Now()
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: cfg, Workers: 1})
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	p.Stop(ctx)
	return d / 3, nil
}
