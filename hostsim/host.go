package hostsim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/tokengate/tokengate/hostsim/internal/envoy"
)

// ErrLoad is the category of every module load failure (bad module, missing
// ABI marker, missing or mistyped import, missing allocator, bad export
// signature). Match it with errors.Is; the text follows Envoy's messages.
var ErrLoad = errors.New("hostsim: module load failed")

// LoadError is a module load failure with Envoy's message.
type LoadError struct{ Msg string }

func (e *LoadError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrLoad) true.
func (e *LoadError) Unwrap() error { return ErrLoad }

// Host is one simulated Envoy process: one compiled module, a test clock,
// and the process-wide stores every VM shares (shared data, queues,
// metrics). Create it with New; start plugins on it with StartPlugin.
//
// # Notes
//
// A Host is safe for concurrent use: each VM serialises its own callbacks
// and the shared stores have one lock, as in Envoy. Drive different workers
// from different goroutines to race them.
type Host struct {
	cfg        Config
	rt         wazero.Runtime
	compiled   wazero.CompiledModule
	abiVersion string // "0_1_0", "0_2_0" or "0_2_1"
	exports    map[string]api.FunctionDefinition
	malloc     string
	random     io.Reader

	mu        sync.Mutex
	wallNanos int64     // test clock, unix ns
	advanced  int64     // total ns the test clock was advanced
	monoStart time.Time // real monotonic base for clock id 1
	logs      []LogEntry
	shared    map[string]map[string]*sharedEntry // vm_id → key → entry
	cas       uint32
	queues    map[queueKey]*queue
	queueByID map[uint32]*queue
	nextQueue uint32
	metrics   map[string]*metric
	vms       []*VM // live VMs, for ticks and async delivery
	plugins   []*Plugin
	instSeq   int
}

// New compiles wasm once and checks it the way Envoy loads a module: ABI
// marker, allocator, export signatures and every import against the
// profile's link set. Errors wrap ErrLoad.
func New(ctx context.Context, wasm []byte, cfg Config) (*Host, error) {
	if cfg.profile == "" {
		cfg.profile = ProfileEnvoy133
	}
	if !envoy.Known(string(cfg.profile)) {
		return nil, fmt.Errorf("hostsim: unknown profile %q", cfg.profile)
	}
	if cfg.start.IsZero() {
		cfg.start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	cfg = cfg.clone()
	h := &Host{
		cfg:       cfg,
		random:    cfg.random,
		wallNanos: cfg.start.UnixNano(),
		monoStart: time.Now(),
		shared:    map[string]map[string]*sharedEntry{},
		queues:    map[queueKey]*queue{},
		queueByID: map[uint32]*queue{},
		metrics:   map[string]*metric{},
	}
	if h.random == nil {
		h.random = rand.Reader
	}
	// 1 GiB, V8's limit.
	// Closing on context done is the only way out of a guest that never
	// returns: Envoy (V8) has no time limit, so hostsim adds none either,
	// but a test can pass a context with a deadline (unless the host was
	// configured uninterruptible, see WithInterruptible).
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(16384).WithCloseOnContextDone(!cfg.uninterruptible)
	if cfg.cache != nil {
		rc = rc.WithCompilationCache(cfg.cache)
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	compiled, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		h.rt.Close(ctx)
		return nil, &LoadError{Msg: "Failed to load Wasm code: " + err.Error()}
	}
	h.compiled = compiled
	h.exports = compiled.ExportedFunctions()
	if err := h.checkModule(); err != nil {
		h.rt.Close(ctx)
		return nil, err
	}
	if err := h.link(ctx); err != nil {
		h.rt.Close(ctx)
		return nil, err
	}
	return h, nil
}

// Close releases every VM and the runtime.
func (h *Host) Close(ctx context.Context) error { return h.rt.Close(ctx) }

// Profile returns the profile in use.
func (h *Host) Profile() Profile { return h.cfg.profile }

// ABIVersion returns the module's ABI marker ("0_2_0", "0_2_1", "0_1_0").
func (h *Host) ABIVersion() string { return h.abiVersion }

// checkModule reproduces Envoy's load-time checks.
func (h *Host) checkModule() error {
	for _, v := range []string{"0_1_0", "0_2_0", "0_2_1"} {
		if _, ok := h.exports["proxy_abi_version_"+v]; ok {
			// The export section order is not visible through wazero; when a
			// module has several markers, the newest wins here.
			h.abiVersion = v
		}
	}
	if h.abiVersion == "" {
		return &LoadError{Msg: "Missing or unknown Proxy-Wasm ABI version"}
	}
	switch {
	case h.exports["malloc"] != nil:
		h.malloc = "malloc"
	case h.exports["proxy_on_memory_allocate"] != nil:
		h.malloc = "proxy_on_memory_allocate"
	default:
		return &LoadError{Msg: "Wasm module is missing malloc function."}
	}
	names := make([]string, 0, len(h.exports))
	for name := range h.exports {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want, known := exportSignature(h.abiVersion, name)
		if !known {
			continue
		}
		def := h.exports[name]
		if !sameTypes(def.ParamTypes(), want.params) || !sameTypes(def.ResultTypes(), want.results) {
			return &LoadError{Msg: "Bad function signature for: " + name}
		}
	}
	if bad := importProblems(h.compiled, h.abiVersion, h.cfg.profile); len(bad) > 0 {
		return &LoadError{Msg: bad[0].message()}
	}
	return nil
}

// ImportProblem is one import Envoy would refuse to link.
type ImportProblem struct {
	Module, Name string
	// TypeMismatch is true when the name exists with another signature.
	TypeMismatch bool
}

func (p ImportProblem) message() string {
	if p.TypeMismatch {
		return "Failed to load Wasm module due to an import type mismatch for function " + p.Module + "." + p.Name
	}
	return "Failed to load Wasm module due to a missing import: " + p.Module + "." + p.Name
}

func (p ImportProblem) String() string { return p.message() }

// CheckImports lists every function import of wasm that the profile would
// not link (New stops at the first), in import order. Use it to check a
// built module against each Envoy version without starting anything. It
// does not check the ABI marker, allocator or exports (New does).
func CheckImports(ctx context.Context, wasm []byte, p Profile) ([]ImportProblem, error) {
	if p == "" {
		p = ProfileEnvoy133
	}
	if !envoy.Known(string(p)) {
		return nil, fmt.Errorf("hostsim: unknown profile %q", p)
	}
	// Only the import section matters: the interpreter compiles fastest.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, &LoadError{Msg: "Failed to load Wasm code: " + err.Error()}
	}
	abiVersion := "0_2_1"
	exports := compiled.ExportedFunctions()
	for _, v := range []string{"0_1_0", "0_2_0", "0_2_1"} {
		if _, ok := exports["proxy_abi_version_"+v]; ok {
			abiVersion = v
		}
	}
	return importProblems(compiled, abiVersion, p), nil
}

func importProblems(compiled wazero.CompiledModule, abiVersion string, profile Profile) []ImportProblem {
	env := envFuncs(abiVersion)
	wasi := map[string]envoy.Func{}
	for _, f := range envoy.WASIFuncs(string(profile)) {
		wasi[f.Name] = f
	}
	var out []ImportProblem
	for _, imp := range compiled.ImportedFunctions() {
		mod, name, _ := imp.Import()
		var params, results []api.ValueType
		found := false
		switch {
		case mod == envoy.ModuleEnv:
			if f, ok := env[name]; ok {
				params, results, found = f.params, f.results, true
			}
		case profile == ProfileFullWASI:
			// wazero's WASI decides at instantiation.
			continue
		case mod == envoy.ModuleWASI || mod == envoy.ModuleWASIOld:
			if f, ok := wasi[name]; ok {
				params, results, found = f.Params, f.Results, true
			}
		}
		switch {
		case !found:
			out = append(out, ImportProblem{Module: mod, Name: name})
		case !sameTypes(imp.ParamTypes(), params) || !sameTypes(imp.ResultTypes(), results):
			out = append(out, ImportProblem{Module: mod, Name: name, TypeMismatch: true})
		}
	}
	return out
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// link instantiates the host modules: env (proxy_*) and the WASI modules.
func (h *Host) link(ctx context.Context) error {
	eb := h.rt.NewHostModuleBuilder(envoy.ModuleEnv)
	for name, f := range envFuncs(h.abiVersion) {
		eb.NewFunctionBuilder().WithGoModuleFunction(h.wrap(name, f.params, len(f.results) > 0, f.fn), f.params, f.results).Export(name)
	}
	if _, err := eb.Instantiate(ctx); err != nil {
		return fmt.Errorf("hostsim: linking env: %w", err)
	}
	if h.cfg.profile == ProfileFullWASI {
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
			return fmt.Errorf("hostsim: linking wasi: %w", err)
		}
		return nil
	}
	for _, modName := range []string{envoy.ModuleWASI, envoy.ModuleWASIOld} {
		b := h.rt.NewHostModuleBuilder(modName)
		for _, f := range envoy.WASIFuncs(string(h.cfg.profile)) {
			fn := f.Fn
			b.NewFunctionBuilder().WithGoModuleFunction(h.wrap(f.Name, f.Params, len(f.Results) > 0, func(_ context.Context, v *VM, m api.Module, s []uint64) {
				fn(wasiHost{v}, m.Memory(), s)
			}), f.Params, f.Results).Export(f.Name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("hostsim: linking %s: %w", modName, err)
		}
	}
	return nil
}

// restrictedCallError is the trap raised when an import runs in a
// restricted phase (V8's "restricted_callback").
type restrictedCallError struct{ name, phase string }

func (e *restrictedCallError) Error() string {
	return "restricted_callback: " + e.name + " may not be called during " + e.phase
}

// hostFn is the shape of every host function body.
type hostFn func(ctx context.Context, v *VM, m api.Module, stack []uint64)

// wrap turns a host function body into a wazero function: it finds the VM
// the call belongs to, enforces the restricted phases and records the
// transcript.
func (h *Host) wrap(name string, params []api.ValueType, hasResult bool, fn hostFn) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		v, _ := ctx.Value(vmKey{}).(*VM)
		if v == nil {
			panic(errors.New("hostsim: hostcall " + name + " outside a host-initiated call"))
		}
		switch v.phase {
		case phaseStartup:
			if !envoy.StartupAllowed(string(h.cfg.profile), name) {
				panic(&restrictedCallError{name: name, phase: "module start-up"})
			}
		case phaseMalloc:
			if !envoy.MallocAllowed(string(h.cfg.profile), name) {
				panic(&restrictedCallError{name: name, phase: "the allocator"})
			}
		}
		var args []uint64
		if h.cfg.transcript {
			args = make([]uint64, len(params))
			for i, t := range params {
				args[i] = stack[i]
				if t == api.ValueTypeI32 {
					args[i] = uint64(uint32(stack[i])) // upper bits are not defined
				}
			}
		}
		fn(ctx, v, m, stack)
		if h.cfg.transcript {
			hc := HostCall{Name: name, Context: v.cur, Args: args}
			if hasResult {
				hc.Result = uint64(uint32(stack[0])) // every result is an i32 status or errno
			}
			v.transcript = append(v.transcript, hc)
		}
	}
}

// Now returns the test clock's wall time.
func (h *Host) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Unix(0, h.wallNanos).UTC()
}

func (h *Host) nowNanos() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wallNanos
}

// monoNanos is clock id 1: real elapsed time plus every test-clock advance,
// so guest timers (Go's runtime sleeps) both progress and see advances.
func (h *Host) monoNanos() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(time.Since(h.monoStart)) + h.advanced
}

// StepWallClock moves the wall clock (WASI clock 0 and
// proxy_get_current_time_nanoseconds) by d, backward as well as forward, the
// way an NTP step moves a real proxy's clock. Unlike Advance it delivers no
// events and leaves the monotonic clock alone. hostsim schedules ticks and
// callout deadlines on the wall clock, so after a backward step they fall due
// correspondingly later.
func (h *Host) StepWallClock(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wallNanos += int64(d)
}

// setClock moves the test clock forward to t (never backwards).
func (h *Host) setClock(t int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t > h.wallNanos {
		h.advanced += t - h.wallNanos
		h.wallNanos = t
	}
}

// Advance moves the test clock forward by d. On the way, every due event
// on every live VM is delivered in time order: ticks (re-armed one period
// after each tick) and callout responses (including timeouts). Queue
// notifications pending on any VM are delivered too.
func (h *Host) Advance(ctx context.Context, d time.Duration) {
	if d < 0 {
		d = 0
	}
	target := h.nowNanos() + int64(d)
	for {
		v, at := h.nextEvent(target)
		if v == nil {
			break
		}
		h.setClock(at)
		v.mu.Lock()
		v.runDue(ctx, at)
		v.mu.Unlock()
	}
	h.setClock(target)
	h.Flush(ctx)
}

// nextEvent finds the VM with the earliest event due at or before limit.
func (h *Host) nextEvent(limit int64) (*VM, int64) {
	var best *VM
	bestAt := limit + 1
	for _, v := range h.liveVMs() {
		v.mu.Lock()
		at, ok := v.nextDue()
		v.mu.Unlock()
		if ok && at < bestAt {
			best, bestAt = v, at
		}
	}
	return best, bestAt
}

// Flush delivers every asynchronous event already due on every live VM:
// queue notifications and callout responses whose delay has passed.
func (h *Host) Flush(ctx context.Context) {
	now := h.nowNanos()
	for _, v := range h.liveVMs() {
		v.mu.Lock()
		v.runDue(ctx, now)
		v.mu.Unlock()
	}
}

func (h *Host) liveVMs() []*VM {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*VM(nil), h.vms...)
}

func (h *Host) addVM(v *VM) {
	h.mu.Lock()
	h.vms = append(h.vms, v)
	h.mu.Unlock()
}

func (h *Host) removeVM(v *VM) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.vms {
		if x == v {
			h.vms = append(h.vms[:i], h.vms[i+1:]...)
			return
		}
	}
}

// Logs returns every log record the proxy kept so far (after level
// filtering), from every VM, in order (the last Config.WithLogLimit ones
// when a limit is set).
func (h *Host) Logs() []LogEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	logs := h.logs
	if n := h.cfg.logLimit; n > 0 && len(logs) > n {
		logs = logs[len(logs)-n:]
	}
	return append([]LogEntry(nil), logs...)
}

// TakeLogs returns the kept log records and forgets them.
func (h *Host) TakeLogs() []LogEntry {
	logs := h.Logs()
	h.mu.Lock()
	h.logs = nil
	h.mu.Unlock()
	return logs
}

func (h *Host) addLog(e LogEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, e)
	// Trim in batches so a limit costs amortised O(1) per record.
	if n := h.cfg.logLimit; n > 0 && len(h.logs) >= 2*n {
		h.logs = append([]LogEntry(nil), h.logs[len(h.logs)-n:]...)
	}
}

// LogEntry is one record on Envoy's wasm logger.
type LogEntry struct {
	Level   LogLevel
	Message string
	// Plugin, RootID and VMID identify the plugin; Worker is the worker
	// index (-1 canary, -2 base VM); Context the current context id (0
	// during start-up and inside the allocator); Root whether that context
	// is a root context.
	Plugin, RootID, VMID string
	Worker               int
	Context              uint32
	Root                 bool
}

// String renders the entry as Envoy logs it: "wasm log <plugin name>
// <root_id> <vm_id>: <message>", empty parts omitted, and the plugin name
// omitted for root contexts.
func (e LogEntry) String() string {
	var b strings.Builder
	b.WriteString("wasm log")
	for i, part := range []string{e.Plugin, e.RootID, e.VMID} {
		if part == "" || (i == 0 && e.Root) {
			continue
		}
		b.WriteString(" " + part)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// HostCall is one transcript record (Config.WithTranscript).
type HostCall struct {
	Name    string
	Context uint32   // current context id when called
	Args    []uint64 // raw arguments
	Result  uint64   // raw first result (status or errno), 0 if none
}
