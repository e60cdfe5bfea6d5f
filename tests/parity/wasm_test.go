package parity

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
			check(t, c.expect, runWasm(t, wasm, c.scen, scenario.Options{
				Workers: 2, RoundRobin: true, Config: hostsim.Config{}.WithCompilationCache(cache),
			}))
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
