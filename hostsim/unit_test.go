package hostsim

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/hostsim/internal/abi"
	"github.com/tokengate/tokengate/hostsim/internal/envoy"
)

// tinyModule is a hand-assembled module with no imports: 2 pages of memory,
// a bump allocator exported as "malloc" (or one that always returns 0) and
// the ABI 0.2.1 marker. It lets host functions be tested directly, without
// compiling a guest. The heap starts at 0x8000; tests use lower addresses.
func tinyModule(mallocZero bool) []byte {
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	section := func(id byte, content ...byte) {
		b = append(b, id, byte(len(content)))
		b = append(b, content...)
	}
	section(1, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00) // (i32)->i32, ()->()
	section(3, 0x02, 0x00, 0x01)                                     // two functions
	section(5, 0x01, 0x00, 0x02)                                     // memory, min 2 pages
	section(6, 0x01, 0x7f, 0x01, 0x41, 0x80, 0x80, 0x02, 0x0b)       // mut i32 heap = 0x8000
	exp := []byte{0x03}
	for _, e := range []struct {
		name      string
		kind, idx byte
	}{{"memory", 2, 0}, {"malloc", 0, 0}, {"proxy_abi_version_0_2_1", 0, 1}} {
		exp = append(exp, byte(len(e.name)))
		exp = append(exp, e.name...)
		exp = append(exp, e.kind, e.idx)
	}
	section(7, exp...)
	// malloc: old = heap; heap += size; return old.
	mallocBody := []byte{0x00, 0x23, 0x00, 0x23, 0x00, 0x20, 0x00, 0x6a, 0x24, 0x00, 0x0b}
	if mallocZero {
		mallocBody = []byte{0x00, 0x41, 0x00, 0x0b}
	}
	code := []byte{0x02, byte(len(mallocBody))}
	code = append(code, mallocBody...)
	code = append(code, 0x02, 0x00, 0x0b)
	section(10, code...)
	return b
}

type unitVM struct {
	t   *testing.T
	ctx context.Context
	v   *VM
	m   api.Module
}

// newUnit gives a VM with a root context (id 1) current and, if withStream,
// a stream context (id 2) current instead.
func newUnit(t *testing.T, c Config, withStream bool, mallocZero bool) *unitVM {
	t.Helper()
	ctx := context.Background()
	h, err := New(ctx, tinyModule(mallocZero), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	p := &Plugin{host: h, cfg: PluginConfig{Name: "unit", Configuration: []byte("plugin-config"),
		VMConfiguration: []byte("vm-config")}, env: []string{"A=1", "BB=22"}}
	v, err := h.instantiate(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	v.root = v.newContext(nil)
	v.cur = v.root.id
	if withStream {
		s := v.NewStream(Request{Path: "/a?b=c#f", Authority: "host.test", SourceAddress: "[2001:db8::1]:443",
			Headers: [][2]string{{"Content-Type", "text/plain"}, {"x-dup", "1"}, {"x-dup", "2"}}})
		s.c = v.newContext(v.root)
		s.c.stream = s
		s.reqHeaders = requestHeaderList(s.req)
		s.reqHeadersAvail = true
		v.cur = s.c.id
	}
	return &unitVM{t: t, ctx: context.WithValue(ctx, vmKey{}, v), v: v, m: v.mod}
}

func (u *unitVM) call(fn hostFn, args ...uint64) abi.Status {
	stack := make([]uint64, len(args)+1)
	copy(stack, args)
	fn(u.ctx, u.v, u.m, stack)
	return abi.Status(stack[0])
}

// put writes b at addr and returns (addr, len) as call arguments.
func (u *unitVM) put(addr uint32, b []byte) (uint64, uint64) {
	if !u.m.Memory().Write(addr, b) {
		u.t.Fatalf("write at %d", addr)
	}
	return uint64(addr), uint64(len(b))
}

// out reads the (ptr, size) pair written at outPtr/outSize.
func (u *unitVM) out() []byte {
	p, _ := u.m.Memory().ReadUint32Le(outPtr)
	n, _ := u.m.Memory().ReadUint32Le(outSize)
	if p == 0 {
		return nil
	}
	b, _ := u.m.Memory().Read(p, n)
	return append([]byte(nil), b...)
}

const (
	outPtr  = 0x10
	outSize = 0x14
	bad     = 0xFFFFFFF0 // outside 2 pages
	in1     = 0x100
	in2     = 0x400
)

func TestHeaderMapCalls(t *testing.T) {
	u := newUnit(t, Config{}, true, false)
	k, ks := u.put(in1, []byte("Content-TYPE"))
	for _, tc := range []struct {
		name string
		fn   hostFn
		args []uint64
		want abi.Status
		out  string
	}{
		{"map type above 7", hcGetMapValue, []uint64{8, k, ks, outPtr, outSize}, abi.BadArgument, ""},
		{"key out of memory", hcGetMapValue, []uint64{0, bad, 4, outPtr, outSize}, abi.InvalidMemoryAccess, ""},
		{"lower-cased lookup", hcGetMapValue, []uint64{0, k, ks, outPtr, outSize}, abi.OK, "text/plain"},
		{"output pointer out of memory", hcGetMapValue, []uint64{0, k, ks, bad, outSize}, abi.InvalidMemoryAccess, ""},
		{"trailers unavailable", hcGetMapValue, []uint64{1, k, ks, outPtr, outSize}, abi.BadArgument, ""},
		{"call response unavailable", hcGetMapValue, []uint64{6, k, ks, outPtr, outSize}, abi.BadArgument, ""},
		{"unavailable pairs are OK and empty", hcGetMapPairs, []uint64{2, outPtr, outSize}, abi.OK, ""},
		{"unavailable size is 2", hcGetMapSize, []uint64{2, outPtr}, abi.BadArgument, ""},
		{"add on unavailable map", hcAddMapValue, []uint64{3, k, ks, k, ks}, abi.BadArgument, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.m.Memory().WriteUint64Le(outPtr, 0)
			if got := u.call(tc.fn, tc.args...); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
			if got := string(u.out()); got != tc.out {
				t.Fatalf("out %q, want %q", got, tc.out)
			}
		})
	}
	t.Run("missing key is NotFound", func(t *testing.T) {
		mk, mks := u.put(in2, []byte("absent"))
		if got := u.call(hcGetMapValue, 0, mk, mks, outPtr, outSize); got != abi.NotFound {
			t.Fatalf("status %v", got)
		}
	})
	t.Run("first value of a repeated header", func(t *testing.T) {
		dk, dks := u.put(in2, []byte("x-dup"))
		u.call(hcGetMapValue, 0, dk, dks, outPtr, outSize)
		if got := string(u.out()); got != "1" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("size is the byte size", func(t *testing.T) {
		u.call(hcGetMapSize, 0, outPtr)
		n, _ := u.m.Memory().ReadUint32Le(outPtr)
		want := 0
		for _, kv := range u.v.stream().reqHeaders {
			want += len(kv[0]) + len(kv[1])
		}
		if int(n) != want {
			t.Fatalf("size %d, want %d", n, want)
		}
	})
	t.Run("add, replace, remove", func(t *testing.T) {
		xk, xks := u.put(in2, []byte("X-Dup"))
		v3, v3s := u.put(in2+0x40, []byte("3"))
		u.call(hcAddMapValue, 0, xk, xks, v3, v3s)
		u.call(hcReplaceMapValue, 0, xk, xks, v3, v3s)
		var got [][2]string
		for _, kv := range u.v.stream().reqHeaders {
			if kv[0] == "x-dup" {
				got = append(got, kv)
			}
		}
		if len(got) != 1 || got[0][1] != "3" {
			t.Fatalf("after replace %v", got)
		}
		if st := u.call(hcRemoveMapValue, 0, xk, xks); st != abi.OK {
			t.Fatal(st)
		}
		if st := u.call(hcRemoveMapValue, 0, xk, xks); st != abi.OK {
			t.Fatalf("remove of absent key: %v", st)
		}
	})
	t.Run("pairs round trip and malformed set clears", func(t *testing.T) {
		u.call(hcGetMapPairs, 0, outPtr, outSize)
		pairs, ok := abi.DecodePairs(u.out())
		if !ok || len(pairs) != len(u.v.stream().reqHeaders) {
			t.Fatalf("pairs %v ok=%v", pairs, ok)
		}
		enc := abi.EncodePairs([][2]string{{"A", "1"}})
		p, n := u.put(in2, append(enc, 0xff)) // trailing byte
		if st := u.call(hcSetMapPairs, 0, p, n); st != abi.OK {
			t.Fatal(st)
		}
		if len(u.v.stream().reqHeaders) != 0 {
			t.Fatalf("malformed set_pairs kept %v", u.v.stream().reqHeaders)
		}
		p, n = u.put(in2, enc)
		u.call(hcSetMapPairs, 0, p, n)
		if h := u.v.stream().reqHeaders; len(h) != 1 || h[0] != [2]string{"a", "1"} {
			t.Fatalf("set_pairs %v", h)
		}
	})
	t.Run("continue forgets request headers", func(t *testing.T) {
		u.call(hcContinueStream, 0)
		if st := u.call(hcGetMapValue, 0, k, ks, outPtr, outSize); st != abi.BadArgument {
			t.Fatalf("status %v", st)
		}
	})
}

func TestBufferCalls(t *testing.T) {
	u := newUnit(t, Config{}, true, false)
	s := u.v.stream()
	for _, tc := range []struct {
		name       string
		typ, start uint32
		max        uint32
		configure  bool
		want       abi.Status
		out        string
	}{
		{"type above 8", 9, 0, 10, false, abi.BadArgument, ""},
		{"plugin config outside configure", 7, 0, 100, false, abi.NotFound, ""},
		{"plugin config in configure", 7, 0, 0xFFFFFFFF, true, abi.OK, "plugin-config"},
		{"vm config always", 6, 3, 6, false, abi.OK, "config"},
		{"start past the end", 6, 100, 10, false, abi.OK, ""},
		{"max 0", 6, 0, 0, false, abi.OK, ""},
		{"body outside its callback is empty", 0, 0, 10, false, abi.OK, ""},
		{"call response outside callback", 4, 0, 10, false, abi.NotFound, ""},
		{"network buffer", 2, 0, 10, false, abi.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.v.inConfigure = tc.configure
			defer func() { u.v.inConfigure = false }()
			u.m.Memory().WriteUint64Le(outPtr, 0)
			if got := u.call(hcGetBufferBytes, uint64(tc.typ), uint64(tc.start), uint64(tc.max), outPtr, outSize); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
			if got := string(u.out()); got != tc.out {
				t.Fatalf("out %q, want %q", got, tc.out)
			}
		})
	}
	s.reqBodyAvail, s.reqBody = true, []byte("hello")
	for _, tc := range []struct {
		name          string
		typ           uint32
		start, length uint32
		data          string
		want          abi.Status
		body          string
	}{
		{"prepend", 0, 0, 0, ">", abi.OK, ">hello"},
		{"replace prefix", 0, 0, 1, "<", abi.OK, "<hello"},
		{"append", 0, 6, 0, "!", abi.OK, "<hello!"},
		{"middle is refused", 0, 2, 0, "x", abi.BadArgument, "<hello!"},
		{"replace all", 0, 0, 100, "new", abi.OK, "new"},
		{"config is not writable", 7, 0, 0, "x", abi.BadArgument, "new"},
		{"response body outside callback", 1, 0, 0, "x", abi.NotFound, "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, n := u.put(in2, []byte(tc.data))
			if got := u.call(hcSetBufferBytes, uint64(tc.typ), uint64(tc.start), uint64(tc.length), p, n); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
			if string(s.reqBody) != tc.body {
				t.Fatalf("body %q, want %q", s.reqBody, tc.body)
			}
		})
	}
}

func TestAllocatorFailureIsInvalidMemoryAccess(t *testing.T) {
	u := newUnit(t, Config{}, false, true)
	if got := u.call(hcGetBufferBytes, 6, 0, 100, outPtr, outSize); got != abi.InvalidMemoryAccess {
		t.Fatalf("status %v", got)
	}
	// Empty results do not call the allocator.
	if got := u.call(hcGetBufferBytes, 6, 100, 100, outPtr, outSize); got != abi.OK {
		t.Fatalf("empty read: %v", got)
	}
}

func TestLoggingCalls(t *testing.T) {
	u := newUnit(t, Config{}.WithLogLevel(LogWarn), false, false)
	p, n := u.put(in1, []byte("msg"))
	for _, tc := range []struct {
		name  string
		level uint64
		want  abi.Status
		kept  bool
	}{
		{"above critical", 6, abi.BadArgument, false},
		{"below proxy level dropped", 2, abi.OK, false},
		{"at proxy level kept", 3, abi.OK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(u.v.host.Logs())
			if got := u.call(hcLog, tc.level, p, n); got != tc.want {
				t.Fatalf("status %v", got)
			}
			if kept := len(u.v.host.Logs()) > before; kept != tc.kept {
				t.Fatalf("kept=%v", kept)
			}
		})
	}
	u.call(hcGetLogLevel, outPtr)
	if lvl, _ := u.m.Memory().ReadUint32Le(outPtr); lvl != 3 {
		t.Fatalf("log level %d", lvl)
	}
	if got := u.call(hcLog, 2, bad, 4); got != abi.InvalidMemoryAccess {
		t.Fatalf("bad message pointer: %v", got)
	}
}

func TestMetricCalls(t *testing.T) {
	u := newUnit(t, Config{}, false, false)
	name, nl := u.put(in1, []byte("m"))
	define := func(typ uint64) uint32 {
		if st := u.call(hcDefineMetric, typ, name, nl, outPtr); st != abi.OK {
			t.Fatalf("define %d: %v", typ, st)
		}
		id, _ := u.m.Memory().ReadUint32Le(outPtr)
		return id
	}
	if st := u.call(hcDefineMetric, 3, name, nl, outPtr); st != abi.BadArgument {
		t.Fatalf("type 3: %v", st)
	}
	c, g, hst, c2 := define(0), define(1), define(2), define(0)
	if c != 4 || g != 5 || hst != 6 || c2 != 8 {
		t.Fatalf("ids %d %d %d %d, want 4 5 6 8", c, g, hst, c2)
	}
	neg := uint64(0xFFFFFFFFFFFFFFFF) // -1
	for _, tc := range []struct {
		name string
		fn   hostFn
		id   uint32
		arg  uint64
		want abi.Status
	}{
		{"counter +0", hcIncrementMetric, c, 0, abi.BadArgument},
		{"counter -1", hcIncrementMetric, c, neg, abi.BadArgument},
		{"counter +2", hcIncrementMetric, c, 2, abi.OK},
		{"record on a counter adds", hcRecordMetric, c2, 5, abi.OK},
		{"gauge -1", hcIncrementMetric, g, neg, abi.OK},
		{"histogram increment", hcIncrementMetric, hst, 1, abi.BadArgument},
		{"histogram record", hcRecordMetric, hst, 7, abi.OK},
		{"unknown id", hcIncrementMetric, 99, 1, abi.NotFound},
		{"histogram read", hcGetMetric, hst, outPtr, abi.BadArgument},
		{"unknown read", hcGetMetric, 99, outPtr, abi.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := u.call(tc.fn, uint64(tc.id), tc.arg); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
		})
	}
	u.call(hcGetMetric, uint64(c), outPtr)
	if v, _ := u.m.Memory().ReadUint64Le(outPtr); v != 7 {
		t.Fatalf("counter %d, want 7 (2 + record 5 through a second id)", v)
	}
	u.call(hcGetMetric, uint64(g), outPtr)
	if v, _ := u.m.Memory().ReadUint64Le(outPtr); int64(v) != -1 {
		t.Fatalf("gauge %d", int64(v))
	}
}

func TestSharedDataCalls(t *testing.T) {
	u := newUnit(t, Config{}, false, false)
	k1, k1s := u.put(in1, []byte("k1"))
	k2, k2s := u.put(in1+0x10, []byte("k2"))
	val, vals := u.put(in2, []byte("v"))
	getCAS := func(k, ks uint64) (abi.Status, uint32) {
		st := u.call(hcGetSharedData, k, ks, outPtr, outSize, 0x20)
		cas, _ := u.m.Memory().ReadUint32Le(0x20)
		return st, cas
	}
	if st, _ := getCAS(k1, k1s); st != abi.NotFound {
		t.Fatalf("missing key: %v", st)
	}
	if st := u.call(hcSetSharedData, k1, k1s, val, vals, 12345); st != abi.OK {
		t.Fatalf("absent key ignores cas: %v", st)
	}
	_, c1 := getCAS(k1, k1s)
	u.call(hcSetSharedData, k2, k2s, val, vals, 0)
	_, c2 := getCAS(k2, k2s)
	if c1 != 1 || c2 != 2 {
		t.Fatalf("cas values %d %d: one global counter expected", c1, c2)
	}
	if st := u.call(hcSetSharedData, k1, k1s, val, vals, uint64(c2)); st != abi.CasMismatch {
		t.Fatalf("stale cas: %v", st)
	}
	if st := u.call(hcSetSharedData, k1, k1s, val, vals, uint64(c1)); st != abi.OK {
		t.Fatalf("current cas: %v", st)
	}
	if st := u.call(hcSetSharedData, k1, k1s, bad, 4, 0); st != abi.InvalidMemoryAccess {
		t.Fatalf("bad value pointer: %v", st)
	}
}

func TestHTTPCallRules(t *testing.T) {
	u := newUnit(t, Config{}.WithCannedCluster("c", CannedResponse{Status: 200}), true, false)
	cl, cls := u.put(in1, []byte("c"))
	unk, unks := u.put(in1+0x10, []byte("unknown"))
	full, fulls := u.put(in2, abi.EncodePairs([][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}))
	noAuth, noAuths := u.put(in2+0x100, abi.EncodePairs([][2]string{{":method", "GET"}, {":path", "/"}, {"host", "a"}}))
	const token = 0x30
	for _, tc := range []struct {
		name      string
		up, ups   uint64
		h, hs     uint64
		timeout   uint64
		want      abi.Status
		wantToken uint32
	}{
		{"unknown cluster", unk, unks, full, fulls, 100, abi.BadArgument, 0},
		{"host is not :authority", cl, cls, noAuth, noAuths, 100, abi.BadArgument, 0},
		{"timeout above int32", cl, cls, full, fulls, 0x80000000, abi.BadArgument, 0},
		{"headers out of memory", cl, cls, bad, 8, 100, abi.InvalidMemoryAccess, 0},
		{"first call", cl, cls, full, fulls, 100, abi.OK, 4},
		{"second call", cl, cls, full, fulls, 0, abi.OK, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.m.Memory().WriteUint32Le(token, 0xdead)
			if got := u.call(hcHTTPCall, tc.up, tc.ups, tc.h, tc.hs, 0, 0, 0, 0, tc.timeout, token); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
			if got, _ := u.m.Memory().ReadUint32Le(token); got != tc.wantToken {
				t.Fatalf("token %d, want %d", got, tc.wantToken)
			}
		})
	}
	if n := len(u.v.calls); n != 2 || u.v.calls[0].root != u.v.root.id {
		t.Fatalf("pending calls %d; calls go to the root context", n)
	}
}

func TestContextCalls(t *testing.T) {
	u := newUnit(t, Config{}, true, false)
	for _, tc := range []struct {
		name string
		fn   hostFn
		args []uint64
		want abi.Status
	}{
		{"effective context unknown", hcSetEffective, []uint64{99}, abi.BadArgument},
		{"effective context root", hcSetEffective, []uint64{1}, abi.OK},
		{"continue stream type 4", hcContinueStream, []uint64{4}, abi.BadArgument},
		{"continue upstream", hcContinueStream, []uint64{3}, abi.Unimplemented},
		{"close stream type 4", hcCloseStream, []uint64{4}, abi.BadArgument},
		{"proxy_done while not waiting", hcDone, nil, abi.NotFound},
		{"grpc send on a non-stream token", hcGRPCSend, []uint64{4, 0, 0, 0}, abi.BadArgument},
		{"grpc close unknown", hcGRPCCancelClose, []uint64{5}, abi.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := u.call(tc.fn, tc.args...); got != tc.want {
				t.Fatalf("status %v, want %v", got, tc.want)
			}
		})
	}
	// With the root effective, a local reply is accepted and does nothing.
	p, n := u.put(in1, []byte("d e"))
	if st := u.call(hcSendLocalResponse, 403, p, n, 0, 0, 0, 0, 0xFFFFFFFF); st != abi.OK || u.v.contexts[2].stream.reply != nil {
		t.Fatalf("root local reply: %v", st)
	}
	u.v.effSet = false
	u.call(hcSendLocalResponse, 403, p, n, 0, 0, 0, 0, 20)
	r := u.v.stream().reply
	if r == nil || r.details != "d_e" || r.grpcStatus != -1 {
		t.Fatalf("reply %+v", r)
	}
}

func TestPropertyCalls(t *testing.T) {
	c := Config{}.WithProperty("xds.node.id", []byte("node-1"))
	u := newUnit(t, c, true, false)
	get := func(path string) (abi.Status, string) {
		p, n := u.put(in1, []byte(path))
		u.m.Memory().WriteUint64Le(outPtr, 0)
		st := u.call(hcGetProperty, p, n, outPtr, outSize)
		return st, string(u.out())
	}
	for _, tc := range []struct {
		name, path string
		root       bool
		want       abi.Status
		out        string
	}{
		{"source address", "source\x00address", false, abi.OK, "[2001:db8::1]:443"},
		{"source port is 8 bytes", "source\x00port", false, abi.OK, string(EncodeInt(443))},
		{"path with query", "request\x00path", false, abi.OK, "/a?b=c#f"},
		{"url path", "request\x00url_path", false, abi.OK, "/a"},
		{"query without fragment", "request\x00query", false, abi.OK, "b=c"},
		{"one header, joined", "request\x00headers\x00x-dup", false, abi.OK, "1,2"},
		{"trailing NUL tolerated", "plugin_name\x00", false, abi.OK, "unit"},
		{"xds from config", "xds\x00node\x00id", true, abi.OK, "node-1"},
		{"legacy node removed in 1.33", "node\x00id", false, abi.NotFound, ""},
		{"stream attribute in root context", "request\x00path", true, abi.NotFound, ""},
		{"mtls is a 1-byte bool", "connection\x00mtls", false, abi.OK, "\x00"},
		{"unknown", "nope", false, abi.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				u.v.eff, u.v.effSet = 1, true
				defer func() { u.v.effSet = false }()
			}
			st, out := get(tc.path)
			if st != tc.want || out != tc.out {
				t.Fatalf("got %v %q, want %v %q", st, out, tc.want, tc.out)
			}
		})
	}
	p, n := u.put(in1, []byte("my_prop"))
	vp, vn := u.put(in2, []byte("val"))
	if st := u.call(hcSetProperty, p, n, vp, vn); st != abi.OK {
		t.Fatal(st)
	}
	if st, out := get("my_prop"); st != abi.OK || out != "val" {
		t.Fatalf("set then get: %v %q", st, out)
	}
	u.v.stream().reqHeadersAvail = false
	if st, _ := get("request\x00path"); st != abi.NotFound {
		t.Fatalf("header attribute after continue: %v", st)
	}
}

// TestWASIStubs checks Envoy's stub answers, in the 1.33 and current sets.
func TestWASIStubs(t *testing.T) {
	u := newUnit(t, Config{}, false, false)
	fns := map[string]envoy.Func{}
	for _, f := range envoy.WASIFuncs(envoy.EnvoyCurrent) {
		fns[f.Name] = f
	}
	run := func(name string, args ...uint64) uint32 {
		stack := make([]uint64, len(args)+1)
		copy(stack, args)
		fns[name].Fn(wasiHost{u.v}, u.m.Memory(), stack)
		return uint32(stack[0])
	}
	mem := u.m.Memory()
	// One iovec pointing at "hi\n".
	mem.Write(0x200, []byte("hi\n"))
	mem.WriteUint32Le(0x100, 0x200)
	mem.WriteUint32Le(0x104, 3)
	for _, tc := range []struct {
		name string
		fn   string
		args []uint64
		want uint32
	}{
		{"fd_write stdout", "fd_write", []uint64{1, 0x100, 1, 0x20}, 0},
		{"fd_write other fd", "fd_write", []uint64{5, 0x100, 1, 0x20}, 8},
		{"fd_write bad iovec", "fd_write", []uint64{1, bad, 1, 0x20}, 21},
		{"fd_read", "fd_read", []uint64{0, 0, 0, 0x20}, 52},
		{"fd_prestat_get", "fd_prestat_get", []uint64{3, 0x20}, 8},
		{"path_open", "path_open", []uint64{3, 0, 0, 0, 0, 0, 0, 0, 0x20}, 44},
		{"clock 2", "clock_time_get", []uint64{2, 0, 0x20}, 58},
		{"random over 64 KiB", "random_get", []uint64{0x1000, 65537}, 28},
		{"random 0", "random_get", []uint64{0x1000, 0}, 0},
		{"fd_fdstat_get stdin", "fd_fdstat_get", []uint64{0, 0x20}, 8},
		{"fd_fdstat_set_flags", "fd_fdstat_set_flags", []uint64{1, 4}, 52},
		{"poll_oneoff current", "poll_oneoff", []uint64{0, 0x40, 1, 0x20}, 0},
		{"fd_readdir is 20", "fd_readdir", []uint64{3, 0, 0, 0, 0x20}, 20},
		{"fd_renumber stdio", "fd_renumber", []uint64{1, 2}, 58},
		{"fd_filestat_get stdout", "fd_filestat_get", []uint64{1, 0x20}, 8},
		{"sock_accept", "sock_accept", []uint64{3, 0, 0x20}, 58},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.fn, tc.args...); got != tc.want {
				t.Fatalf("errno %d, want %d", got, tc.want)
			}
		})
	}
	logs := u.v.host.Logs()
	if len(logs) != 1 || logs[0].Message != "hi" || logs[0].Level != LogInfo {
		t.Fatalf("fd_write logs %+v", logs)
	}
	run("environ_sizes_get", 0x20, 0x24)
	cnt, _ := mem.ReadUint32Le(0x20)
	size, _ := mem.ReadUint32Le(0x24)
	if cnt != 2 || size != uint32(len("A=1\x00BB=22\x00")) {
		t.Fatalf("environ sizes %d %d", cnt, size)
	}
	var poll133 envoy.Func
	for _, f := range envoy.WASIFuncs(envoy.Envoy133) {
		if f.Name == "poll_oneoff" {
			poll133 = f
		}
	}
	stack := []uint64{0, 0x40, 1, 0x20}
	poll133.Fn(wasiHost{u.v}, mem, stack)
	if stack[0] != 52 {
		t.Fatalf("1.33 poll_oneoff errno %d", stack[0])
	}
	if got := len(envoy.WASINames(envoy.Envoy132)); got != 15 {
		t.Fatalf("1.32 links %d WASI functions", got)
	}
	if got := len(envoy.WASINames(envoy.Envoy133)); got != 18 {
		t.Fatalf("1.33 links %d WASI functions", got)
	}
	if got := len(envoy.WASINames(envoy.EnvoyCurrent)); got != 45 {
		t.Fatalf("current links %d WASI functions", got)
	}
	_ = binary.LittleEndian
}

// FuzzHostcalls calls every env host function with arbitrary arguments, in
// a stream context and in the root context: none may panic (a host panic
// would be a trap Envoy never raises), whatever the pointers say.
func FuzzHostcalls(f *testing.F) {
	f.Add(uint8(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), false)
	f.Add(uint8(7), uint64(0xFFFFFFFF), uint64(0x100), uint64(0x10), uint64(0x14), uint64(0x7FFFFFFF), true)
	f.Add(uint8(3), uint64(0x100), uint64(0xFFFFFFFF), uint64(0x10), uint64(0x14), uint64(1), true)
	fns := envFuncs("0_2_1")
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sortStrings(names)
	f.Fuzz(func(t *testing.T, which uint8, a, b, c, d, e uint64, root bool) {
		u := newUnit(t, Config{}.WithCannedCluster("c", CannedResponse{}), true, false)
		if root {
			u.v.cur = 1
		}
		fn := fns[names[int(which)%len(names)]]
		args := []uint64{a, b, c, d, e, a ^ b, c ^ d, e ^ a, b ^ c, d ^ e, a, b}
		stack := make([]uint64, 13)
		copy(stack, args[:len(fn.params)])
		fn.fn(u.ctx, u.v, u.m, stack)
	})
}

func sortStrings(s []string) { // sort.Strings without the import churn
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
