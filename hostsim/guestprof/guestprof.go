// Package guestprof profiles the guest code a hostsim Host runs: calls and
// time per guest function and per call stack, as a table or as a pprof
// profile that `go tool pprof` reads.
//
// It uses wazero's function listeners, which are compiled into the module,
// so the profiler is attached when the Host is created:
//
//	prof := guestprof.New()
//	h, err := hostsim.New(prof.Context(ctx), wasm, cfg)
//	...
//	prof.Start()
//	vm.HTTP(ctx, req) // as many as you like
//	prof.Stop()
//	prof.WritePprof(f) // go tool pprof -top f
//
// # What the numbers mean
//
// Self time is the wall time between a function's listener events that no
// callee claims; total time is from entry to return at the outermost frame
// of that function (recursion is not counted twice). Imported (host)
// functions appear under their import name, so host work is visible too.
//
// Every call crosses from compiled code into Go twice (entry and exit),
// which costs a fraction of a microsecond that lands in the caller's self
// time. Functions that make many small calls therefore look more expensive
// than they are; the call counts, which are exact, tell where that is the
// case. Use the profile to find where the work is, and benchmarks without
// the profiler to measure it.
//
// A Profiler may watch several VMs (each module instance keeps its own
// stack) but it serialises their events on one mutex.
package guestprof

import (
	"context"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Profiler records guest calls while started.
type Profiler struct {
	mu      sync.Mutex
	on      bool
	started time.Time
	elapsed time.Duration
	funcs   []*funcStat           // by function id
	ids     map[string]int        // function name → id
	stacks  map[string]*stackStat // key: ids of the stack, root first
	threads map[api.Module]*thread
}

type funcStat struct {
	name        string
	calls       int64
	self, total time.Duration
}

type stackStat struct {
	ids   []int
	calls int64
	self  time.Duration
}

type frame struct {
	id    int
	start time.Time
	key   string // stack key up to and including this frame
}

// thread is the shadow call stack of one module instance.
type thread struct {
	frames []frame
	last   time.Time // end of the previous listener event
}

// New returns a stopped profiler.
func New() *Profiler {
	return &Profiler{ids: map[string]int{}, stacks: map[string]*stackStat{}, threads: map[api.Module]*thread{}}
}

// Context returns ctx carrying the profiler's listeners. Pass it to
// hostsim.New: modules compiled under it report every guest and host
// function call to the profiler.
func (p *Profiler) Context(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(p.listenerFor))
}

func (p *Profiler) listenerFor(def api.FunctionDefinition) experimental.FunctionListener {
	// Host functions are shown as "<module>.<name>" (e.g. env.proxy_log),
	// apart from the guest's own functions; functions are told apart by
	// module and index, since names need not be unique.
	name := def.Name()
	if def.GoFunction() != nil || name == "" {
		name = def.DebugName()
	}
	key := def.ModuleName() + "\x00" + strconv.Itoa(int(def.Index()))
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.ids[key]
	if !ok {
		id = len(p.funcs)
		p.ids[key] = id
		p.funcs = append(p.funcs, &funcStat{name: name})
	}
	return &listener{p: p, id: id}
}

// Start begins recording (again, adding to what was recorded before).
func (p *Profiler) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on {
		p.on, p.started = true, time.Now()
	}
}

// Stop ends recording. Calls in flight are still counted on their return
// only if the profiler is started again by then.
func (p *Profiler) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on {
		p.on = false
		p.elapsed += time.Since(p.started)
	}
}

// Reset forgets everything recorded.
func (p *Profiler) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.funcs {
		f.calls, f.self, f.total = 0, 0, 0
	}
	p.stacks = map[string]*stackStat{}
	p.elapsed = 0
	if p.on {
		p.started = time.Now()
	}
}

type listener struct {
	p  *Profiler
	id int
}

func (l *listener) Before(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	p := l.p
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.threads[mod]
	if t == nil {
		t = &thread{}
		p.threads[mod] = t
	}
	parentKey := ""
	if n := len(t.frames); n > 0 {
		p.charge(t, now)
		parentKey = t.frames[n-1].key
	}
	key := parentKey + idKey(l.id)
	t.frames = append(t.frames, frame{id: l.id, start: now, key: key})
	if p.on {
		p.funcs[l.id].calls++
		p.stack(key).calls++
	}
	t.last = time.Now()
}

func (l *listener) After(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64) {
	l.exit(mod)
}

func (l *listener) Abort(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ error) {
	l.exit(mod)
}

func (l *listener) exit(mod api.Module) {
	p := l.p
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.threads[mod]
	if t == nil || len(t.frames) == 0 {
		return
	}
	p.charge(t, now)
	n := len(t.frames)
	top := t.frames[n-1]
	t.frames = t.frames[:n-1]
	if p.on && !t.onStack(top.id) {
		p.funcs[top.id].total += now.Sub(top.start)
	}
	if len(t.frames) == 0 {
		delete(p.threads, mod) // the call into the module is over
		return
	}
	t.last = time.Now()
}

// charge gives the time since the thread's last event to its top frame.
func (p *Profiler) charge(t *thread, now time.Time) {
	if !p.on {
		return
	}
	top := t.frames[len(t.frames)-1]
	d := now.Sub(t.last)
	p.funcs[top.id].self += d
	p.stack(top.key).self += d
}

func (p *Profiler) stack(key string) *stackStat {
	s := p.stacks[key]
	if s == nil {
		ids := keyIDs(key)
		s = &stackStat{ids: ids}
		p.stacks[key] = s
	}
	return s
}

func (t *thread) onStack(id int) bool {
	for _, f := range t.frames {
		if f.id == id {
			return true
		}
	}
	return false
}

// idKey encodes a function id in four bytes of a stack key.
func idKey(id int) string {
	return string([]byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)})
}

func keyIDs(key string) []int {
	ids := make([]int, len(key)/4)
	for i := range ids {
		b := key[4*i : 4*i+4]
		ids[i] = int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	}
	return ids
}

// Function is one function's totals.
type Function struct {
	Name  string
	Calls int64
	// Self is time in the function itself; Total includes its callees
	// (outermost frame only).
	Self, Total time.Duration
}

// Functions returns every function called while recording, by self time,
// largest first.
func (p *Profiler) Functions() []Function {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Function
	for _, f := range p.funcs {
		if f.calls > 0 {
			out = append(out, Function{f.name, f.calls, f.self, f.total})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Self != out[j].Self {
			return out[i].Self > out[j].Self
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Function returns the totals of the functions whose name has the given
// prefix, summed (host functions are named "<module>.<name>", e.g.
// "env.proxy_log") (Total sums outermost frames per function, so nested
// matches count twice; use a prefix that names one function to avoid it).
func (p *Profiler) Function(prefix string) Function {
	sum := Function{Name: prefix}
	for _, f := range p.Functions() {
		if strings.HasPrefix(f.Name, prefix) {
			sum.Calls += f.Calls
			sum.Self += f.Self
			sum.Total += f.Total
		}
	}
	return sum
}

// WritePprofFile writes WritePprof's profile to a new file at path.
func (p *Profiler) WritePprofFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.WritePprof(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WritePprof writes the recording as a gzipped pprof profile with two
// sample values per call stack, "calls/count" and "self/nanoseconds";
// `go tool pprof -sample_index=self -top` ranks functions by self time.
func (p *Profiler) WritePprof(w io.Writer) error {
	p.mu.Lock()
	prof := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "calls", Unit: "count"}, {Type: "self", Unit: "nanoseconds"}},
		DurationNanos: int64(p.elapsed),
		PeriodType:    &profile.ValueType{Type: "self", Unit: "nanoseconds"},
		Period:        1,
	}
	fns := make([]*profile.Function, len(p.funcs))
	locs := make([]*profile.Location, len(p.funcs))
	for i, f := range p.funcs {
		fns[i] = &profile.Function{ID: uint64(i + 1), Name: f.name, SystemName: f.name}
		locs[i] = &profile.Location{ID: uint64(i + 1), Line: []profile.Line{{Function: fns[i]}}}
	}
	keys := make([]string, 0, len(p.stacks))
	for k := range p.stacks {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic output
	used := make([]bool, len(p.funcs))
	for _, k := range keys {
		s := p.stacks[k]
		if s.calls == 0 && s.self == 0 {
			continue
		}
		sample := &profile.Sample{Value: []int64{s.calls, int64(s.self)}}
		for i := len(s.ids) - 1; i >= 0; i-- { // leaf first, as pprof expects
			sample.Location = append(sample.Location, locs[s.ids[i]])
			used[s.ids[i]] = true
		}
		prof.Sample = append(prof.Sample, sample)
	}
	p.mu.Unlock()
	for i, u := range used {
		if u {
			prof.Function = append(prof.Function, fns[i])
			prof.Location = append(prof.Location, locs[i])
		}
	}
	return prof.Write(w)
}
