package compat

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// An allow-list check written independently of hostsim: a bare wazero host
// (full WASI, env functions that do nothing) with a function listener that
// records every import the module calls while _initialize or malloc is on
// the stack. Agreement with hostsim's enforcement is the evidence.

// Envoy ≤1.32's lists (host doc §6.3, §2.2), the strictest of all
// versions: whatever passes here passes on every newer Envoy.
var (
	startupAllowed132 = map[string]bool{"proxy_log": true, "fd_write": true, "args_sizes_get": true,
		"args_get": true, "environ_sizes_get": true, "environ_get": true, "fd_prestat_get": true,
		"fd_prestat_dir_name": true, "clock_time_get": true, "random_get": true}
	mallocAllowed = map[string]bool{"proxy_log": true, "fd_write": true, "clock_time_get": true}
)

// phaseRecorder is a FunctionListener tracking restricted phases by the
// exports on the stack.
type phaseRecorder struct {
	// Function indices (in the guest) of the exports that open a phase.
	initIdx, mallocIdx uint32
	startup, malloc    int
	calls              map[string]map[string]int // phase → import → count
}

func (r *phaseRecorder) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	return r
}

func (r *phaseRecorder) Before(_ context.Context, _ api.Module, def api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if def.GoFunction() != nil { // a host function: what the guest imported
		phase := "other"
		switch {
		case r.malloc > 0:
			phase = "malloc"
		case r.startup > 0:
			phase = "startup"
		}
		if r.calls[phase] == nil {
			r.calls[phase] = map[string]int{}
		}
		r.calls[phase][def.ModuleName()+"."+def.Name()]++
		return
	}
	r.step(def, 1)
}

// step opens or closes a phase when def is one of the phase exports.
func (r *phaseRecorder) step(def api.FunctionDefinition, d int) {
	if def.GoFunction() != nil {
		return
	}
	if _, _, imported := def.Import(); imported {
		return
	}
	switch def.Index() {
	case r.initIdx:
		r.startup += d
	case r.mallocIdx:
		r.malloc += d
	}
}

func (r *phaseRecorder) leave(def api.FunctionDefinition) { r.step(def, -1) }

func (r *phaseRecorder) After(_ context.Context, _ api.Module, def api.FunctionDefinition, _ []uint64) {
	r.leave(def)
}

func (r *phaseRecorder) Abort(_ context.Context, _ api.Module, def api.FunctionDefinition, _ error) {
	r.leave(def)
}

// violations lists the imports called in a phase that Envoy 1.32 forbids.
func (r *phaseRecorder) violations(phase string, allowed map[string]bool) []string {
	var out []string
	for full := range r.calls[phase] {
		name := full[strings.LastIndexByte(full, '.')+1:]
		if !allowed[name] {
			out = append(out, full)
		}
	}
	sort.Strings(out)
	return out
}

// recordPhases instantiates wasm (running _initialize), then does what a
// host does with an allocator-heavy guest: a few requests through
// proxy_on_request_headers (the guest arms a runtime timer), then a 48 MiB
// malloc, far beyond the GC goal, so a collection starts inside it.
func recordPhases(t *testing.T, wasm []byte) *phaseRecorder {
	t.Helper()
	rec := &phaseRecorder{calls: map[string]map[string]int{}}
	ctx := experimental.WithFunctionListenerFactory(context.Background(), rec)
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	exports := cm.ExportedFunctions()
	if exports["_initialize"] == nil {
		t.Fatal("module has no _initialize")
	}
	rec.initIdx = exports["_initialize"].Index()
	rec.mallocIdx = ^uint32(0)
	for _, name := range []string{"malloc", "proxy_on_memory_allocate"} {
		if f := exports[name]; f != nil {
			rec.mallocIdx = f.Index()
			break
		}
	}
	env := r.NewHostModuleBuilder("env")
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if mod != "env" {
			continue
		}
		results := imp.ResultTypes()
		status := uint64(0)
		if strings.HasPrefix(name, "proxy_get_") {
			status = 1 // NotFound: the guest takes its defaults
		}
		env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			if len(results) > 0 {
				stack[0] = status
			}
		}), imp.ParamTypes(), results).Export(name)
	}
	if _, err := env.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatalf("_initialize: %v", err)
	}
	if f := mod.ExportedFunction("proxy_on_request_headers"); f != nil {
		for i := uint64(0); i < 3; i++ {
			if _, err := f.Call(ctx, 2+i, 0, 1); err != nil {
				t.Fatalf("proxy_on_request_headers: %v", err)
			}
		}
	}
	alloc := mod.ExportedFunction("malloc")
	if alloc == nil {
		alloc = mod.ExportedFunction("proxy_on_memory_allocate")
	}
	if _, err := alloc.Call(ctx, 48<<20); err != nil {
		t.Fatalf("malloc: %v", err)
	}
	if len(rec.calls["startup"]) == 0 {
		t.Fatal("no import calls seen during _initialize: the recorder is not working")
	}
	return rec
}

// TestPhasesIndependent: the rewritten modules call nothing outside Envoy
// 1.32's start-up and allocator allow-lists; the raw guest, under the same
// recorder, does (the control).
func TestPhasesIndependent(t *testing.T) {
	rawGuest, guest := guestModules(t)
	_, plugin := pluginModules(t)
	for _, m := range []struct {
		name string
		wasm []byte
	}{{"guest", guest}, {"tokengate", plugin}} {
		t.Run(m.name, func(t *testing.T) {
			rec := recordPhases(t, m.wasm)
			if v := rec.violations("startup", startupAllowed132); len(v) != 0 {
				t.Errorf("called during _initialize, not allowed by Envoy 1.32: %v", v)
			}
			if v := rec.violations("malloc", mallocAllowed); len(v) != 0 {
				t.Errorf("called from the allocator, not allowed by Envoy: %v", v)
			}
			t.Logf("start-up imports: %v; allocator imports: %v", rec.calls["startup"], rec.calls["malloc"])
		})
	}
	t.Run("raw-guest-control", func(t *testing.T) {
		rec := recordPhases(t, rawGuest)
		start := strings.Join(rec.violations("startup", startupAllowed132), " ")
		if !strings.Contains(start, "fd_fdstat_get") {
			t.Errorf("control: want fd_fdstat_get during _initialize, got %v", rec.calls["startup"])
		}
		if v := strings.Join(rec.violations("malloc", mallocAllowed), " "); !strings.Contains(v, "poll_oneoff") {
			t.Errorf("control: want poll_oneoff from the allocator, got %v", rec.calls["malloc"])
		}
	})
}
