package hostsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/hostsim/internal/abi"
)

type vmKey struct{}

const (
	phaseNone = iota
	phaseStartup
	phaseMalloc
)

// VM is one module instance: one Envoy worker's copy of the plugin, with its
// own linear memory, context ids, ticker and pending calls.
type VM struct {
	host     *Host
	plugin   *Plugin
	index    int
	mod      api.Module
	mallocFn api.Function
	// exports caches callback functions by name: looking one up builds a
	// new wazero call engine and stack, which dominated the host's cost per
	// callback. busy marks one in a call, so a re-entrant call gets its own.
	exports map[string]*cachedExport

	mu       sync.Mutex
	closed   bool
	failed   bool
	trap     string
	failedAt int64

	phase       int
	nextID      uint32
	contexts    map[uint32]*vmContext
	root        *vmContext
	cur         uint32
	eff         uint32
	effSet      bool
	inConfigure bool
	callResp    *callResponse

	nextToken     uint32
	calls         []*pendingCall
	noteMu        sync.Mutex // queueNotes may be posted from another VM's callback
	queueNotes    []queueNote
	pendingDelete *vmContext // proxy_done called: on_delete after the callback
	stopping      bool       // Plugin.Stop ran; close once no root is left
	sharers       []*Plugin  // plugins that joined this VM after the first

	metricIDs map[uint32]*metric
	metricSeq [3]uint32

	capture    *[]LogEntry
	transcript []HostCall
	stats      VMStats
}

// VMStats counts what the host did to this VM (for lifecycle tests).
type VMStats struct {
	Initialize int // start-up export runs (1 per instance)
	Callbacks  map[string]int
}

// vmContext is a root or stream context inside one VM.
type vmContext struct {
	id     uint32
	plugin *Plugin    // the plugin whose root this context is or belongs to
	root   *vmContext // nil for a root context
	stream *Stream    // nil for a root context
	// root-only state
	tickPeriod  int64 // ns; 0 = off
	nextTick    int64
	statusCode  uint32
	statusMsg   string
	waitingDone bool
	deleted     bool
}

func (c *vmContext) rootCtx() *vmContext {
	if c.root != nil {
		return c.root
	}
	return c
}

// instantiate creates one module instance with its own memory.
func (h *Host) instantiate(ctx context.Context, p *Plugin, index int) (*VM, error) {
	v := &VM{host: h, plugin: p, index: index, contexts: map[uint32]*vmContext{}, metricIDs: map[uint32]*metric{},
		stats: VMStats{Callbacks: map[string]int{}}}
	h.mu.Lock()
	h.instSeq++
	name := "vm-" + strconv.Itoa(h.instSeq)
	h.mu.Unlock()
	mc := wazero.NewModuleConfig().WithName(name).WithStartFunctions()
	if h.cfg.profile == ProfileFullWASI {
		mc = mc.WithStdout(stdioWriter{v, 1}).WithStderr(stdioWriter{v, 2}).
			WithWalltime(func() (int64, int32) {
				n := h.nowNanos()
				return n / 1e9, int32(n % 1e9)
			}, 1).WithNanotime(h.monoNanos, 1).WithSysNanosleep().WithRandSource(h.random)
		for _, kv := range p.env {
			k, val, _ := strings.Cut(kv, "=")
			mc = mc.WithEnv(k, val)
		}
	}
	// Instantiation itself runs no guest code (no start functions), but the
	// wasm start section could; give it a VM so hostcalls have one.
	v.phase = phaseStartup
	mod, err := h.rt.InstantiateModule(context.WithValue(ctx, vmKey{}, v), h.compiled, mc)
	v.phase = phaseNone
	if err != nil {
		return nil, &LoadError{Msg: "Failed to instantiate Wasm module: " + err.Error()}
	}
	v.mod = mod
	v.mallocFn = mod.ExportedFunction(h.malloc)
	return v, nil
}

type stdioWriter struct {
	v  *VM
	fd uint32
}

func (w stdioWriter) Write(b []byte) (int, error) {
	msg := strings.TrimSuffix(string(b), "\n")
	if len(b) > 0 {
		wasiHost{w.v}.Stdio(w.fd, msg)
	}
	return len(b), nil
}

// startup runs the start-up exports in the restricted phase.
func (v *VM) startup(ctx context.Context) bool {
	v.stats.Initialize++
	ex := v.host.exports
	run := func(name string, args ...uint64) bool {
		_, ok := v.callRaw(ctx, name, phaseStartup, args...)
		return ok
	}
	if ex["_initialize"] != nil {
		if !run("_initialize") {
			return false
		}
		if ex["main"] != nil {
			return run("main", 0, 0)
		}
		return true
	}
	if ex["_start"] != nil {
		return run("_start")
	}
	return true
}

// startRoot creates plugin p's root context in this VM and runs
// context_create, vm_start and configure on it.
func (v *VM) startRoot(ctx context.Context, p *Plugin) (root *vmContext, vmOK, cfgOK bool) {
	root = v.newContext(nil)
	root.plugin = p
	if v.root == nil {
		v.root = root
	}
	vmOK, cfgOK = v.runRootSequence(ctx, root)
	return root, vmOK, cfgOK
}

func (v *VM) runRootSequence(ctx context.Context, root *vmContext) (vmOK, cfgOK bool) {
	pc := root.plugin.cfg
	v.inConfigure = true
	v.callback(ctx, "proxy_on_context_create", root.id, uint64(root.id), 0)
	v.inConfigure = false
	if v.failed {
		return false, false
	}
	r, ok := v.callback(ctx, "proxy_on_vm_start", root.id, uint64(root.id), uint64(len(pc.VMConfiguration)))
	if v.failed || (ok && uint32(r) == 0) {
		return false, false
	}
	v.inConfigure = true
	r, ok = v.callback(ctx, "proxy_on_configure", root.id, uint64(root.id), uint64(len(pc.Configuration)))
	v.inConfigure = false
	if v.failed || (ok && uint32(r) == 0) {
		return true, false
	}
	return true, true
}

// stopRoot runs proxy_on_done on root (and proxy_on_delete when it
// returns true).
func (v *VM) stopRoot(ctx context.Context, root *vmContext) {
	if v.failed || v.closed || root == nil || root.deleted {
		return
	}
	r, ok := v.callback(ctx, "proxy_on_done", root.id, uint64(root.id))
	if !ok || uint32(r) != 0 {
		v.deleteRoot(ctx, root)
		return
	}
	root.waitingDone = true
}

func (v *VM) deleteRoot(ctx context.Context, root *vmContext) {
	if root.deleted {
		return
	}
	root.deleted = true
	root.waitingDone = false
	v.callback(ctx, "proxy_on_delete", root.id, uint64(root.id))
}

// liveRoots reports whether any root context is not yet deleted.
func (v *VM) liveRoots() bool {
	for _, c := range v.contexts {
		if c.root == nil && !c.deleted {
			return true
		}
	}
	return false
}

func (v *VM) newContext(root *vmContext) *vmContext {
	v.nextID++
	c := &vmContext{id: v.nextID, root: root}
	if root != nil {
		c.plugin = root.plugin
	}
	v.contexts[c.id] = c
	return c
}

func (v *VM) close(ctx context.Context) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closeLocked(ctx)
}

func (v *VM) closeLocked(ctx context.Context) {
	if v.closed {
		return
	}
	v.closed = true
	v.host.removeVM(v)
	if v.mod != nil {
		_ = v.mod.Close(ctx)
	}
	v.host.dropPartitionIfUnused(v.plugin.cfg.VMID)
}

// callback calls an exported callback with ctxID as the current context.
// ok is false when the export is absent or the VM has failed (then the
// caller applies Envoy's default).
func (v *VM) callback(ctx context.Context, name string, ctxID uint32, args ...uint64) (uint64, bool) {
	if v.failed || v.closed {
		return 0, false
	}
	if v.host.exports[name] == nil {
		return 0, false
	}
	v.stats.Callbacks[name]++
	prevCur, prevEff, prevSet := v.cur, v.eff, v.effSet
	v.cur, v.eff, v.effSet = ctxID, 0, false
	r, ok := v.callRaw(ctx, name, phaseNone, args...)
	v.cur, v.eff, v.effSet = prevCur, prevEff, prevSet
	if r := v.pendingDelete; r != nil {
		v.pendingDelete = nil
		v.deleteRoot(ctx, r)
		if v.stopping && !v.liveRoots() {
			v.closeLocked(ctx)
		}
	}
	return r, ok
}

// callRaw calls an export; a trap marks the VM failed.
func (v *VM) callRaw(ctx context.Context, name string, phase int, args ...uint64) (uint64, bool) {
	ce := v.exports[name]
	if ce == nil {
		ce = &cachedExport{fn: v.mod.ExportedFunction(name)}
		if v.exports == nil {
			v.exports = map[string]*cachedExport{}
		}
		v.exports[name] = ce
	}
	fn := ce.fn
	if fn == nil {
		return 0, false
	}
	if ce.busy {
		fn = v.mod.ExportedFunction(name)
	} else {
		ce.busy = true
		defer func() { ce.busy = false }()
	}
	prev := v.phase
	v.phase = phase
	res, err := fn.Call(context.WithValue(ctx, vmKey{}, v), args...)
	v.phase = prev
	if err != nil {
		v.markFailed(name, err)
		return 0, false
	}
	if len(res) > 0 {
		return res[0], true
	}
	return 0, true
}

type cachedExport struct {
	fn   api.Function
	busy bool
}

// markFailed records a trap: the VM gets no further callbacks.
func (v *VM) markFailed(export string, err error) {
	if v.failed {
		return
	}
	msg := err.Error()
	var rc *restrictedCallError
	if errors.As(err, &rc) && !strings.Contains(msg, "restricted_callback") {
		msg = rc.Error() + ": " + msg
	}
	v.failed = true
	v.failedAt = v.host.nowNanos()
	v.trap = "Function: " + export + " failed: " + capFrames(msg, maxBacktrace)
	v.log(LogCritical, v.trap)
}

// Failed reports whether the VM trapped, and the trap text.
func (v *VM) Failed() (bool, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.failed, v.trap
}

// Index returns the worker index.
func (v *VM) Index() int { return v.index }

// RootContextID returns the id of this VM's root context (1 for the first
// plugin in a VM).
func (v *VM) RootContextID() uint32 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.root == nil {
		return 0
	}
	return v.root.id
}

// Stats returns counts of start-up runs and callbacks made on this VM.
func (v *VM) Stats() VMStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := VMStats{Initialize: v.stats.Initialize, Callbacks: map[string]int{}}
	for k, n := range v.stats.Callbacks {
		s.Callbacks[k] = n
	}
	return s
}

// Transcript returns and clears the recorded hostcalls
// (Config.WithTranscript).
func (v *VM) Transcript() []HostCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	t := v.transcript
	v.transcript = nil
	return t
}

// log records a message if the proxy's level lets it through.
func (v *VM) log(level LogLevel, msg string) {
	if level < v.host.cfg.logLevel {
		return
	}
	pc := v.curPlugin().cfg
	e := LogEntry{Level: level, Message: msg, Plugin: pc.Name, RootID: pc.RootID, VMID: pc.VMID, Worker: v.index, Context: v.cur}
	if c, ok := v.contexts[v.cur]; ok && c.root == nil {
		e.Root = true
	}
	if v.capture != nil {
		*v.capture = append(*v.capture, e)
	}
	v.host.addLog(e)
}

// wasiHost adapts a VM to envoy.Host for the WASI stubs; it is a separate
// type so that these hooks stay out of VM's public API.
type wasiHost struct{ v *VM }

// Stdio logs fd 1 at info and fd 2 at error, as Envoy does.
func (w wasiHost) Stdio(fd uint32, msg string) {
	if fd == 2 {
		w.v.log(LogError, msg)
		return
	}
	w.v.log(LogInfo, msg)
}

// Environ returns the plugin's environment as KEY=VALUE.
func (w wasiHost) Environ() []string { return w.v.plugin.env }

// WallNanos is the test clock.
func (w wasiHost) WallNanos() int64 { return w.v.host.nowNanos() }

// MonoNanos is real elapsed time plus test-clock advances.
func (w wasiHost) MonoNanos() int64 { return w.v.host.monoNanos() }

// Random fills p from the configured source.
func (w wasiHost) Random(p []byte) { _, _ = io.ReadFull(w.v.host.random, p) }

// ErrorHook is Envoy's context error hook: a trace log.
func (w wasiHost) ErrorHook(msg string) { w.v.log(LogTrace, msg) }

// curPlugin is the plugin of the effective context (the VM's first plugin
// outside any context, e.g. during start-up).
func (v *VM) curPlugin() *Plugin {
	if c := v.effective(); c != nil && c.plugin != nil {
		return c.plugin
	}
	return v.plugin
}

// effective returns the context hostcalls act on.
func (v *VM) effective() *vmContext {
	if v.effSet {
		if c, ok := v.contexts[v.eff]; ok {
			return c
		}
	}
	if c, ok := v.contexts[v.cur]; ok {
		return c
	}
	return nil
}

// ---- guest memory helpers ----

// read copies size bytes at ptr; ok is false when out of bounds.
func read(m api.Module, ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	b, ok := m.Memory().Read(ptr, size)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// readString copies guest memory into a string: one copy, straight from
// the memory view (read's copy would be a second).
func readString(m api.Module, ptr, size uint32) (string, bool) {
	if size == 0 {
		return "", true
	}
	b, ok := m.Memory().Read(ptr, size)
	if !ok {
		return "", false
	}
	return string(b), true
}

// writeOut hands data to the guest: allocate with the guest allocator,
// copy, then write the pointer and size. Empty data is (0, 0) without
// allocating.
func (v *VM) writeOut(ctx context.Context, m api.Module, ptrPtr, sizePtr uint32, data []byte) abi.Status {
	if len(data) == 0 {
		if !m.Memory().WriteUint32Le(ptrPtr, 0) || !m.Memory().WriteUint32Le(sizePtr, 0) {
			return abi.InvalidMemoryAccess
		}
		return abi.OK
	}
	ptr, st := v.alloc(ctx, uint32(len(data)))
	if st != abi.OK {
		return st
	}
	mem := m.Memory()
	if !mem.Write(ptr, data) || !mem.WriteUint32Le(ptrPtr, ptr) || !mem.WriteUint32Le(sizePtr, uint32(len(data))) {
		return abi.InvalidMemoryAccess
	}
	return abi.OK
}

// alloc calls the guest allocator in the restricted malloc phase. A trap
// inside it propagates as a trap of the calling callback.
func (v *VM) alloc(ctx context.Context, size uint32) (uint32, abi.Status) {
	if v.mallocFn == nil {
		return 0, abi.InvalidMemoryAccess
	}
	prevPhase := v.phase
	prevCur := v.cur
	v.phase = phaseMalloc
	v.cur = 0 // the allocator runs with the VM context current
	res, err := v.mallocFn.Call(ctx, uint64(size))
	v.phase = prevPhase
	v.cur = prevCur
	if err != nil {
		panic(fmt.Errorf("%s: %w", v.host.malloc, err))
	}
	if len(res) == 0 || uint32(res[0]) == 0 {
		return 0, abi.InvalidMemoryAccess
	}
	return uint32(res[0]), abi.OK
}

// postQueueNote posts on_queue_ready to this VM's event loop.
func (v *VM) postQueueNote(n queueNote) {
	v.noteMu.Lock()
	v.queueNotes = append(v.queueNotes, n)
	v.noteMu.Unlock()
}

func (v *VM) popQueueNote() (queueNote, bool) {
	v.noteMu.Lock()
	defer v.noteMu.Unlock()
	if len(v.queueNotes) == 0 {
		return queueNote{}, false
	}
	n := v.queueNotes[0]
	v.queueNotes = v.queueNotes[1:]
	return n, true
}

func (v *VM) hasQueueNotes() bool {
	v.noteMu.Lock()
	defer v.noteMu.Unlock()
	return len(v.queueNotes) > 0
}

// maxBacktrace is Envoy's limit on the in-VM backtrace it logs.
const maxBacktrace = 20

// capFrames keeps the message and at most n backtrace lines of wazero's
// "wasm stack trace:" section.
func capFrames(msg string, n int) string {
	head, trace, ok := strings.Cut(msg, "wasm stack trace:")
	if !ok {
		return msg
	}
	lines := strings.Split(strings.TrimPrefix(trace, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "\t...")
	}
	return head + "wasm stack trace:\n" + strings.Join(lines, "\n")
}
