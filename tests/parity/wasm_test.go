package parity

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
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

// TestScenariosWasm replays every scenario on the built module under
// hostsim, checks the expectations, and requires the same results as the
// native run, request by request.
func TestScenariosWasm(t *testing.T) {
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("built module not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	cache := wazero.NewCompilationCache() // compile the module once for all scenarios
	defer cache.Close(context.Background())
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := runWasm(t, wasm, cache, c.scen, c.expect, 1)
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
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("built module not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	cache := wazero.NewCompilationCache()
	defer cache.Close(context.Background())
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.expect, runWasm(t, wasm, cache, c.scen, c.expect, 2))
		})
	}
}

// TestScenariosWasmProfiles replays every scenario under each Envoy
// profile hostsim models (1.32, 1.33-1.39, current): the behaviour table
// must not depend on the Envoy version the module is loaded into.
func TestScenariosWasmProfiles(t *testing.T) {
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("built module not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	cache := wazero.NewCompilationCache()
	defer cache.Close(context.Background())
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoy132, hostsim.ProfileEnvoyCurrent} { // 1.33 is the default run
		for _, c := range loadCases(t) {
			t.Run(string(p)+"/"+c.name, func(t *testing.T) {
				check(t, c.expect, runWasmWith(t, wasm, hostsim.Config{}.WithProfile(p).WithCompilationCache(cache), c.scen, c.expect, 1))
			})
		}
	}
}

func runWasm(t *testing.T, wasm []byte, cache wazero.CompilationCache, s scenario, exp expectation, workers int) output {
	return runWasmWith(t, wasm, hostsim.Config{}.WithCompilationCache(cache), s, exp, workers)
}

func runWasmWith(t *testing.T, wasm []byte, cfg hostsim.Config, s scenario, exp expectation, workers int) output {
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
	out := output{Metrics: map[string]int64{}}
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
		RootID: s.RootID, Configuration: s.pluginConfig(t), VMConfiguration: []byte(s.VMConfig), Env: s.Env,
		Workers: workers,
	})
	if err != nil {
		return out // configure_ok false; the logs say why
	}
	defer plugin.Stop(ctx)
	out.ConfigureOK = true
	for i, r := range s.Requests {
		if r.AdvanceMs > 0 {
			host.Advance(ctx, time.Duration(r.AdvanceMs)*time.Millisecond)
		}
		res := plugin.Worker(i%workers).HTTP(ctx, hostsim.Request{
			Method: r.Method, Path: r.Path, Authority: r.Authority, Scheme: r.Scheme,
			Headers: r.Headers, Body: []byte(r.Body),
			SourceAddress: r.SourceAddress, DestinationAddress: r.DestinationAddress,
		})
		out.Results = append(out.Results, result{
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

// compare requires native and wasm runs to agree on every request.
func compare(t *testing.T, native, wasm output) {
	t.Helper()
	if native.ConfigureOK != wasm.ConfigureOK {
		t.Fatalf("configure_ok: native %v, wasm %v", native.ConfigureOK, wasm.ConfigureOK)
	}
	if len(native.Results) != len(wasm.Results) {
		t.Fatalf("results: native %d, wasm %d", len(native.Results), len(wasm.Results))
	}
	for i := range native.Results {
		n, w := native.Results[i], wasm.Results[i]
		if n.Outcome != w.Outcome || n.Status != w.Status || n.Body != w.Body || !equalPairs(n.Headers, w.Headers) {
			t.Errorf("%s differs:\n native: %s %d %q %q\n   wasm: %s %d %q %q",
				n.Name, n.Outcome, n.Status, n.Headers, n.Body, w.Outcome, w.Status, w.Headers, w.Body)
		}
	}
	for name, v := range native.Metrics {
		if wasm.Metrics[name] != v {
			t.Errorf("metric %s: native %d, wasm %d", name, v, wasm.Metrics[name])
		}
	}
}
