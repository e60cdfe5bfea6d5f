//go:build !wasip1

package abi_test

// A deliberately minimal proxy-wasm host on wazero, just enough to drive the test guest in
// testdata/guest through the real binding. Envoy fidelity (profiles, restricted phases, WASI
// stubs) is hostsim's job; this harness is written from the host doc (§4, §5), without looking
// at the guest codec, so agreement between the two is evidence.

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

const rootID = 1

type logLine struct {
	level uint32
	msg   string
}

type reply struct {
	status  uint32
	details string
	body    string
	headers [][2]string
}

type stream struct {
	reqHeaders [][2]string
	reply      *reply
	resumed    bool
}

type httpCall struct {
	token   uint32
	cluster string
	headers [][2]string
}

type sharedEntry struct {
	value []byte
	cas   uint32
}

type metric struct {
	typ   uint32
	name  string
	value int64
}

// harness is one VM instance plus the host state it sees.
type harness struct {
	t   *testing.T
	ctx context.Context
	mod api.Module

	pluginConfig []byte
	logs         []logLine
	streams      map[uint32]*stream
	current      uint32
	effective    uint32
	calls        []httpCall
	callResp     *struct {
		headers [][2]string
		body    []byte
	}
	shared     map[string]sharedEntry
	casCounter uint32
	metrics    map[uint32]*metric
	tick       uint32
	// rogue makes get_header_map_value answer with a bad result buffer: "foreign" reports an
	// address the guest never allocated, "oversize" a size larger than the allocation.
	rogue string
}

type harnessKey struct{}

var (
	builds    sync.Map // testdata dir → *builtGuest
	rtOnce    sync.Once
	rt        wazero.Runtime
	compiled  wazero.CompiledModule
	rtErr     error
	instances int
)

// guestWasm builds testdata/guest for wasip1 once per test binary.
func guestWasm(t *testing.T) string { return builtWasm(t, "guest") }

type builtGuest struct {
	once sync.Once
	path string
	err  error
}

// builtWasm builds testdata/<name> as a wasip1 reactor once per test binary.
func builtWasm(t *testing.T, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &builtGuest{})
	g := v.(*builtGuest)
	g.once.Do(func() {
		dir, err := os.MkdirTemp("", "abi-"+name)
		if err != nil {
			g.err = err
			return
		}
		g.path = filepath.Join(dir, name+".wasm")
		cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-o", g.path, "./testdata/"+name)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			g.err = &buildError{out: string(out), err: err}
		}
	})
	if g.err != nil {
		t.Fatalf("building testdata/%s: %v", name, g.err)
	}
	return g.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func goTool() string { return "go" } // from PATH, as make and CI run it

// newHarness instantiates a fresh guest (fresh memory and globals), runs _initialize, then the
// root sequence context_create(1, 0) → vm_start → configure(config). It returns the configure
// result too.
func newHarness(t *testing.T, config string) (*harness, bool) {
	t.Helper()
	path := guestWasm(t)
	rtOnce.Do(func() {
		ctx := context.Background()
		rt = wazero.NewRuntime(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		var wasm []byte
		if wasm, rtErr = os.ReadFile(path); rtErr != nil {
			return
		}
		if compiled, rtErr = rt.CompileModule(ctx, wasm); rtErr != nil {
			return
		}
		rtErr = instantiateEnv(ctx, rt, compiled)
	})
	if rtErr != nil {
		t.Fatalf("runtime: %v", rtErr)
	}
	h := &harness{
		t: t, pluginConfig: []byte(config), streams: map[uint32]*stream{},
		shared: map[string]sharedEntry{}, metrics: map[uint32]*metric{},
	}
	h.ctx = context.WithValue(context.Background(), harnessKey{}, h)
	instances++
	cfg := wazero.NewModuleConfig().WithName("guest" + itoa(instances)).
		WithStartFunctions("_initialize").WithStdout(os.Stderr).WithStderr(os.Stderr)
	mod, err := rt.InstantiateModule(h.ctx, compiled, cfg)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	h.mod = mod
	t.Cleanup(func() { mod.Close(context.Background()) })
	h.call("proxy_on_context_create", rootID, 0)
	if h.call("proxy_on_vm_start", rootID, 0) != 1 {
		return h, false
	}
	return h, h.call("proxy_on_configure", rootID, uint64(len(config))) == 1
}

// call invokes an export as the host does: current context = first argument, effective reset.
func (h *harness) call(name string, args ...uint64) uint64 {
	h.t.Helper()
	f := h.mod.ExportedFunction(name)
	if f == nil {
		h.t.Fatalf("guest does not export %s", name)
	}
	if len(args) > 0 {
		h.current, h.effective = uint32(args[0]), 0
	}
	res, err := f.Call(h.ctx, args...)
	if err != nil {
		h.t.Fatalf("%s trapped: %v", name, err)
	}
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// request runs one HTTP stream up to the request-headers callback and returns its action.
func (h *harness) request(id uint32, headers [][2]string) (uint64, *stream) {
	h.t.Helper()
	s := &stream{reqHeaders: headers}
	h.streams[id] = s
	h.call("proxy_on_context_create", uint64(id), rootID)
	return h.call("proxy_on_request_headers", uint64(id), uint64(len(headers)), 1), s
}

// finish ends a stream the way Envoy does: log, done, delete.
func (h *harness) finish(id uint32) {
	h.call("proxy_on_log", uint64(id))
	h.call("proxy_on_done", uint64(id))
	h.call("proxy_on_delete", uint64(id))
}

// respond delivers an HTTP call response on the root context.
func (h *harness) respond(c httpCall, headers [][2]string, body string) {
	h.callResp = &struct {
		headers [][2]string
		body    []byte
	}{headers, []byte(body)}
	h.call("proxy_on_http_call_response", rootID, uint64(c.token), uint64(len(headers)), uint64(len(body)), 0)
	h.callResp = nil
}

func (h *harness) target() uint32 {
	if h.effective != 0 {
		return h.effective
	}
	return h.current
}

func (h *harness) logText() string {
	var b strings.Builder
	for _, l := range h.logs {
		b.WriteString(l.msg)
		b.WriteByte('\n')
	}
	return b.String()
}

// --- memory helpers ----------------------------------------------------------------------------

func (h *harness) read(m api.Module, ptr, size uint32) ([]byte, bool) {
	b, ok := m.Memory().Read(ptr, size)
	if !ok {
		return nil, false
	}
	return bytes.Clone(b), true
}

// give copies data into a fresh guest allocation (via the guest's malloc, as Envoy prefers) and
// writes its address and size to the out pointers. Empty data is (0, 0) without allocating.
func (h *harness) give(ctx context.Context, m api.Module, data []byte, outPtr, outSize uint32) uint32 {
	if len(data) == 0 {
		m.Memory().WriteUint32Le(outPtr, 0)
		m.Memory().WriteUint32Le(outSize, 0)
		return 0
	}
	res, err := m.ExportedFunction("malloc").Call(ctx, uint64(len(data)))
	if err != nil || res[0] == 0 {
		return 6
	}
	p := uint32(res[0])
	if !m.Memory().Write(p, data) || !m.Memory().WriteUint32Le(outPtr, p) || !m.Memory().WriteUint32Le(outSize, uint32(len(data))) {
		return 6
	}
	return 0
}

// encodePairs / decodePairs: the host side of the pairs format, written from the host doc.
func encodePairs(ps [][2]string) []byte {
	var hdr, data []byte
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(ps)))
	for _, p := range ps {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(p[0])))
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(p[1])))
		data = append(append(append(append(data, p[0]...), 0), p[1]...), 0)
	}
	if len(ps) == 0 {
		return nil
	}
	return append(hdr, data...)
}

func decodePairs(b []byte) [][2]string {
	if len(b) < 4 {
		return nil
	}
	n := int(binary.LittleEndian.Uint32(b))
	if 4+8*n > len(b) {
		return nil
	}
	out := make([][2]string, 0, n)
	off := 4 + 8*n
	for i := 0; i < n; i++ {
		kl := int(binary.LittleEndian.Uint32(b[4+8*i:]))
		vl := int(binary.LittleEndian.Uint32(b[8+8*i:]))
		if off+kl+vl+2 > len(b) {
			return nil
		}
		k := string(b[off : off+kl])
		off += kl + 1
		v := string(b[off : off+vl])
		off += vl + 1
		out = append(out, [2]string{k, v})
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// --- env module ----------------------------------------------------------------------------

const i32, i64 = api.ValueTypeI32, api.ValueTypeI64

type hostFunc struct {
	params []api.ValueType
	fn     func(h *harness, ctx context.Context, m api.Module, s []uint64) uint32
}

func (h *harness) headerMap(t uint32) *[][2]string {
	switch t {
	case 0:
		if s := h.streams[h.target()]; s != nil {
			return &s.reqHeaders
		}
	case 6:
		if h.callResp != nil {
			return &h.callResp.headers
		}
	}
	return nil
}

func str(h *harness, m api.Module, p, n uint64) (string, bool) {
	b, ok := h.read(m, uint32(p), uint32(n))
	return string(b), ok
}

var hostFuncs = map[string]hostFunc{
	"proxy_log": {[]api.ValueType{i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		msg, ok := str(h, m, s[1], s[2])
		if !ok {
			return 6
		}
		h.logs = append(h.logs, logLine{uint32(s[0]), msg})
		return 0
	}},
	"proxy_get_log_level": {[]api.ValueType{i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		m.Memory().WriteUint32Le(uint32(s[0]), 2)
		return 0
	}},
	"proxy_set_tick_period_milliseconds": {[]api.ValueType{i32}, func(h *harness, _ context.Context, _ api.Module, s []uint64) uint32 {
		h.tick = uint32(s[0])
		return 0
	}},
	"proxy_set_effective_context": {[]api.ValueType{i32}, func(h *harness, _ context.Context, _ api.Module, s []uint64) uint32 {
		id := uint32(s[0])
		if _, ok := h.streams[id]; !ok && id != rootID {
			return 2
		}
		h.effective = id
		return 0
	}},
	"proxy_done": {nil, func(*harness, context.Context, api.Module, []uint64) uint32 { return 1 }},
	"proxy_get_buffer_bytes": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, ctx context.Context, m api.Module, s []uint64) uint32 {
		var data []byte
		switch s[0] {
		case 7:
			data = h.pluginConfig
		case 4:
			if h.callResp == nil {
				return 1
			}
			data = h.callResp.body
		case 0, 1, 6:
		default:
			return 1
		}
		start, max := uint64(s[1]), uint64(s[2])
		if start >= uint64(len(data)) {
			data = nil
		} else {
			data = data[start:]
			if max < uint64(len(data)) {
				data = data[:max]
			}
		}
		return h.give(ctx, m, data, uint32(s[3]), uint32(s[4]))
	}},
	"proxy_get_header_map_pairs": {[]api.ValueType{i32, i32, i32}, func(h *harness, ctx context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		if mp == nil {
			return h.give(ctx, m, nil, uint32(s[1]), uint32(s[2]))
		}
		return h.give(ctx, m, encodePairs(*mp), uint32(s[1]), uint32(s[2]))
	}},
	"proxy_set_header_map_pairs": {[]api.ValueType{i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		b, ok := h.read(m, uint32(s[1]), uint32(s[2]))
		if mp == nil || !ok {
			return 2
		}
		*mp = decodePairs(b)
		return 0
	}},
	"proxy_get_header_map_value": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, ctx context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		key, ok := str(h, m, s[1], s[2])
		if mp == nil || !ok {
			return 2
		}
		switch h.rogue {
		case "foreign":
			m.Memory().WriteUint32Le(uint32(s[3]), 16)
			m.Memory().WriteUint32Le(uint32(s[4]), 1)
			return 0
		case "oversize":
			if st := h.give(ctx, m, []byte("x"), uint32(s[3]), uint32(s[4])); st != 0 {
				return st
			}
			m.Memory().WriteUint32Le(uint32(s[4]), 100)
			return 0
		}
		for _, kv := range *mp {
			if kv[0] == strings.ToLower(key) {
				return h.give(ctx, m, []byte(kv[1]), uint32(s[3]), uint32(s[4]))
			}
		}
		return 1
	}},
	"proxy_add_header_map_value": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		k, ok1 := str(h, m, s[1], s[2])
		v, ok2 := str(h, m, s[3], s[4])
		if mp == nil || !ok1 || !ok2 {
			return 2
		}
		*mp = append(*mp, [2]string{strings.ToLower(k), v})
		return 0
	}},
	"proxy_replace_header_map_value": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		k, ok1 := str(h, m, s[1], s[2])
		v, ok2 := str(h, m, s[3], s[4])
		if mp == nil || !ok1 || !ok2 {
			return 2
		}
		k = strings.ToLower(k)
		out := (*mp)[:0:0]
		for _, kv := range *mp {
			if kv[0] != k {
				out = append(out, kv)
			}
		}
		*mp = append(out, [2]string{k, v})
		return 0
	}},
	"proxy_remove_header_map_value": {[]api.ValueType{i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		mp := h.headerMap(uint32(s[0]))
		k, ok := str(h, m, s[1], s[2])
		if mp == nil || !ok {
			return 2
		}
		k = strings.ToLower(k)
		out := (*mp)[:0:0]
		for _, kv := range *mp {
			if kv[0] != k {
				out = append(out, kv)
			}
		}
		*mp = out
		return 0
	}},
	"proxy_send_local_response": {[]api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		details, _ := str(h, m, s[1], s[2])
		body, _ := str(h, m, s[3], s[4])
		hb, _ := h.read(m, uint32(s[5]), uint32(s[6]))
		if st := h.streams[h.target()]; st != nil {
			st.reply = &reply{status: uint32(s[0]), details: details, body: body, headers: decodePairs(hb)}
		}
		return 0 // Envoy: always OK
	}},
	"proxy_continue_stream": {[]api.ValueType{i32}, func(h *harness, _ context.Context, _ api.Module, s []uint64) uint32 {
		if st := h.streams[h.target()]; st != nil && s[0] == 0 {
			st.resumed = true
		}
		return 0
	}},
	"proxy_close_stream": {[]api.ValueType{i32}, func(*harness, context.Context, api.Module, []uint64) uint32 { return 0 }},
	"proxy_http_call": {[]api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		m.Memory().WriteUint32Le(uint32(s[9]), 0)
		cluster, _ := str(h, m, s[0], s[1])
		hb, _ := h.read(m, uint32(s[2]), uint32(s[3]))
		if cluster != "auth" {
			return 2
		}
		c := httpCall{token: uint32(4 * (len(h.calls) + 1)), cluster: cluster, headers: decodePairs(hb)}
		h.calls = append(h.calls, c)
		m.Memory().WriteUint32Le(uint32(s[9]), c.token)
		return 0
	}},
	"proxy_get_shared_data": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, ctx context.Context, m api.Module, s []uint64) uint32 {
		k, _ := str(h, m, s[0], s[1])
		e, ok := h.shared[k]
		if !ok {
			return 1
		}
		if st := h.give(ctx, m, e.value, uint32(s[2]), uint32(s[3])); st != 0 {
			return st
		}
		m.Memory().WriteUint32Le(uint32(s[4]), e.cas)
		return 0
	}},
	"proxy_set_shared_data": {[]api.ValueType{i32, i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		k, _ := str(h, m, s[0], s[1])
		v, _ := h.read(m, uint32(s[2]), uint32(s[3]))
		if e, ok := h.shared[k]; ok && s[4] != 0 && uint32(s[4]) != e.cas {
			return 8
		}
		h.casCounter++
		h.shared[k] = sharedEntry{v, h.casCounter}
		return 0
	}},
	"proxy_define_metric": {[]api.ValueType{i32, i32, i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		if s[0] > 2 {
			return 2
		}
		name, _ := str(h, m, s[1], s[2])
		id := uint32(4*(len(h.metrics)+1)) | uint32(s[0])
		h.metrics[id] = &metric{typ: uint32(s[0]), name: name}
		m.Memory().WriteUint32Le(uint32(s[3]), id)
		return 0
	}},
	"proxy_increment_metric": {[]api.ValueType{i32, i64}, func(h *harness, _ context.Context, _ api.Module, s []uint64) uint32 {
		mt := h.metrics[uint32(s[0])]
		d := int64(s[1])
		switch {
		case mt == nil:
			return 1
		case mt.typ == 2, mt.typ == 0 && d <= 0:
			return 2
		}
		mt.value += d
		return 0
	}},
	"proxy_record_metric": {[]api.ValueType{i32, i64}, func(h *harness, _ context.Context, _ api.Module, s []uint64) uint32 {
		mt := h.metrics[uint32(s[0])]
		if mt == nil {
			return 1
		}
		switch mt.typ {
		case 0:
			mt.value += int64(s[1])
		default:
			mt.value = int64(s[1]) // gauge set; histogram: last sample, enough for a test
		}
		return 0
	}},
	"proxy_get_metric": {[]api.ValueType{i32, i32}, func(h *harness, _ context.Context, m api.Module, s []uint64) uint32 {
		mt := h.metrics[uint32(s[0])]
		if mt == nil {
			return 1
		}
		if mt.typ == 2 {
			return 2
		}
		m.Memory().WriteUint64Le(uint32(s[1]), uint64(mt.value))
		return 0
	}},
}

// instantiateEnv links every env import of the guest; an import the harness does not implement
// is a test failure listing its name, never a silent stub.
func instantiateEnv(ctx context.Context, r wazero.Runtime, c wazero.CompiledModule) error {
	b := r.NewHostModuleBuilder("env")
	var missing []string
	for _, def := range c.ImportedFunctions() {
		mod, name, _ := def.Import()
		if mod != "env" {
			continue
		}
		hf, ok := hostFuncs[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		fn, params := hf.fn, hf.params
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			h := ctx.Value(harnessKey{}).(*harness)
			for i, t := range params {
				if t == i32 { // wazero leaves the upper half of an i32 slot undefined
					stack[i] = uint64(api.DecodeU32(stack[i]))
				}
			}
			stack[0] = uint64(fn(h, ctx, m, stack))
		}), hf.params, []api.ValueType{i32}).Export(name)
	}
	if len(missing) > 0 {
		return &buildError{out: strings.Join(missing, ", "), err: errMissing}
	}
	_, err := b.Instantiate(ctx)
	return err
}

var errMissing = &missingErr{}

type missingErr struct{}

func (*missingErr) Error() string { return "harness lacks env imports the guest uses" }
