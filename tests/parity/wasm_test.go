package parity

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/scenario"
)

// wasmPath is the built module; TOKENGATE_WASM overrides it. `make test`
// builds it first; a missing module fails the test rather than skipping it,
// so a parity run can never pass by accident.
func wasmPath() string {
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "build", "tokengate.wasm")
}

// builtModule reads the module and a compilation cache shared by every
// scenario of the test, so the module is compiled once.
func builtModule(t *testing.T) ([]byte, wazero.CompilationCache) {
	t.Helper()
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("built module not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	cache := wazero.NewCompilationCache()
	t.Cleanup(func() { cache.Close(context.Background()) })
	return wasm, cache
}

// TestScenariosWasm replays every scenario on the built module under
// hostsim, checks the expectations, and requires the same results as the
// native run, request by request.
func TestScenariosWasm(t *testing.T) {
	wasm, cache := builtModule(t)
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := runWasm(t, wasm, c.scen, scenario.Options{Config: hostsim.Config{}.WithCompilationCache(cache)})
			check(t, c.expect, got)
			native := runNative(t, c.scen, c.expect)
			compare(t, native, got)
		})
	}
}

// TestScenariosWasmTwoWorkers sends the requests round-robin to two worker
// VMs (separate memories, shared data in common, as with two Envoy worker
// threads): state that must hold across workers (rate limits, replay) has
// to live in shared data, or the expectations break.
func TestScenariosWasmTwoWorkers(t *testing.T) {
	wasm, cache := builtModule(t)
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.expect, runWasmRoundRobin(t, wasm, hostsim.Config{}.WithCompilationCache(cache), c.scen, c.expect, 2))
		})
	}
}

// TestScenariosWasmProfiles replays every scenario under each Envoy
// profile hostsim models (1.32, 1.33-1.39, current): the behaviour table
// must not depend on the Envoy version the module is loaded into.
func TestScenariosWasmProfiles(t *testing.T) {
	wasm, cache := builtModule(t)
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoy132, hostsim.ProfileEnvoyCurrent} { // 1.33 is the default run
		for _, c := range loadCases(t) {
			t.Run(string(p)+"/"+c.name, func(t *testing.T) {
				check(t, c.expect, runWasm(t, wasm, c.scen, scenario.Options{Profile: p, Config: hostsim.Config{}.WithCompilationCache(cache)}))
			})
		}
	}
}

// runWasm runs s with scenario.Run, the same runner as `hostsim run`.
func runWasm(t *testing.T, wasm []byte, s *scenario.Scenario, opts scenario.Options) *scenario.Result {
	t.Helper()
	res, err := scenario.Run(context.Background(), wasm, s, opts)
	if err != nil {
		t.Fatalf("scenario.Run: %v", err)
	}
	return res
}

// runWasmRoundRobin is the one run loop parity keeps: scenario.md sends
// every request to one VM, so scenario.Run (Options.Workers included)
// always uses worker 0, while this test needs request i on worker
// i%workers to prove that cross-request state lives in shared data. It
// sets the host up from the scenario as scenario.Run does (clock,
// upstreams as canned clusters) and reports the expected metrics.
func runWasmRoundRobin(t *testing.T, wasm []byte, cfg hostsim.Config, s *scenario.Scenario, exp expectation, workers int) *scenario.Result {
	t.Helper()
	ctx := context.Background()
	cfg = cfg.WithStartTime(time.UnixMilli(s.NowUnixMs))
	for name, u := range s.Upstreams {
		cfg = cfg.WithCannedCluster(name, hostsim.CannedResponse{
			Status: u.Status, Headers: u.Headers, Body: []byte(u.Body), Delay: time.Duration(u.DelayMs) * time.Millisecond,
		})
	}
	host, err := hostsim.New(ctx, wasm, cfg)
	if err != nil {
		t.Fatalf("hostsim: %v", err)
	}
	defer host.Close(ctx)
	out := &scenario.Result{Metrics: map[string]int64{}}
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
		RootID: s.RootID, Configuration: s.PluginConfig, VMConfiguration: []byte(s.VMConfig), Env: s.Env,
		Workers: workers,
	})
	if err != nil {
		return out // configure_ok false; the logs say why
	}
	defer plugin.Stop(ctx)
	out.VMStartOK, out.ConfigureOK = true, true
	for i, r := range s.Requests {
		if r.AdvanceMs > 0 {
			host.Advance(ctx, time.Duration(r.AdvanceMs)*time.Millisecond)
		}
		res := plugin.Worker(i%workers).HTTP(ctx, hostsim.Request{
			Method: r.Method, Path: r.Path, Authority: r.Authority, Scheme: r.Scheme,
			Headers: r.Headers, Body: []byte(r.Body),
			SourceAddress: r.SourceAddress, DestinationAddress: r.DestinationAddress,
		})
		out.Results = append(out.Results, scenario.RequestResult{
			Name: r.Name, Outcome: string(res.Outcome), Status: res.Status, Headers: res.Headers, Body: string(res.Body),
		})
	}
	for name := range exp.Metrics {
		if m, ok := host.Metric(name); ok {
			out.Metrics[name] = m.Value
		}
	}
	return out
}
