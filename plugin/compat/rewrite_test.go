package compat

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var (
	tPoll  = ftype([]byte{valI32, valI32, valI32, valI32}, []byte{valI32}) // type 0
	tI32   = ftype(nil, []byte{valI32})                                    // type 1
	tVoid  = ftype(nil, nil)                                               // type 2
	tI32x2 = ftype([]byte{valI32, valI32}, []byte{valI32})                 // type 3
)

// indexModule builds a module that names functions in every place the
// index space appears: calls, ref.func in code, a global and element
// expressions, element index lists of several encodings, exports (including
// a re-exported import), start, and the name section's function and local
// maps. f maps the input's function indices to the ones to emit; with
// rewritten set, the two WASI imports are left out and their stubs appended,
// which is what Rewrite must produce.
//
// Input function indices: 0 env.first, 1 poll_oneoff, 2 env.second,
// 3 sched_yield, 4 callpoll, 5 callall, 6 start.
func indexModule(rewritten bool) []byte {
	f := func(i uint32) uint32 { return i }
	if rewritten {
		f = func(i uint32) uint32 { return [...]uint32{0, 5, 1, 6, 2, 3, 4}[i] }
	}
	imports := [][]byte{importFunc("env", "first", 1)}
	if !rewritten {
		imports = append(imports, importFunc(wasiPreview1, "poll_oneoff", 0))
	}
	imports = append(imports, importFunc("env", "second", 1))
	if !rewritten {
		imports = append(imports, importFunc(wasiPreview1, "sched_yield", 1))
	}
	funcs := [][]byte{u32(1), u32(1), u32(2)}
	if rewritten {
		funcs = append(funcs, u32(0), u32(1))
	}
	code := [][]byte{
		// callpoll: *100 = -1; return poll_oneoff(0, 0, 1, 100)
		body(i32c(0), []byte{0x41, 0x7f}, []byte{0x36, 0x02, 0x64}, // i32.store offset=100
			i32c(0), i32c(0), i32c(1), []byte{0x41, 0xe4, 0x00}, call(f(1)), end()),
		// callall: first() + second() + sched_yield(), with ref.func kept alive
		body(refFunc(f(3)), []byte{0x1a}, call(f(0)), call(f(2)), []byte{0x6a}, call(f(3)), []byte{0x6a},
			[]byte{0x02, 0x40}, refFunc(f(1)), []byte{0xd1, 0x1a, 0x0b}, end()),
		// start: nothing
		body(end()),
	}
	if rewritten {
		code = append(code, stubEntry("poll_oneoff"), stubEntry("sched_yield"))
	}
	names := map[uint32]string{}
	for i, n := range []string{"first", "poll", "second", "yield", "callpoll", "callall", "start"} {
		names[f(uint32(i))] = n
	}
	// Local names for functions 1 and 4; sorted by the new index.
	localFor := func(i uint32) []byte { return cat(u32(f(i)), vec(cat(u32(0), nm("x")))) }
	locals := [][]byte{localFor(1), localFor(4)}
	if rewritten {
		locals[0], locals[1] = locals[1], locals[0]
	}
	nameSec := cat(
		[]byte{0}, u32(uint32(len(nm("m")))), nm("m"),
		[]byte{1}, u32(uint32(len(nameMap(names)))), nameMap(names),
		[]byte{2}, u32(uint32(len(vec(locals...)))), vec(locals...),
	)
	return modBytes(
		custom("go:buildid", []byte("keep me")),
		sec(secType, vec(tPoll, tI32, tVoid)),
		sec(secImport, vec(imports...)),
		sec(secFunction, vec(funcs...)),
		sec(secTable, vec([]byte{valFuncref, 0x00, 0x08})),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secGlobal, vec(cat([]byte{valFuncref, 0x00}, refFunc(f(1)), end()))),
		sec(secExport, vec(exportFunc("callpoll", f(4)), exportFunc("callall", f(5)),
			exportFunc("poll", f(1)), cat(nm("memory"), []byte{2, 0}))),
		sec(secStart, u32(f(6))),
		sec(secElement, vec(
			cat(u32(0), i32c(0), end(), vec(u32(f(1)), u32(f(4)))), // active, func indices
			cat(u32(1), []byte{0}, vec(u32(f(3)))),                 // passive
			cat(u32(2), u32(0), i32c(4), end(), []byte{0}, vec(u32(f(5)))),
			cat(u32(3), []byte{0}, vec(u32(f(1)))), // declarative
			cat(u32(4), i32c(5), end(), vec(cat(refFunc(f(3)), end()))),
			cat(u32(5), []byte{valFuncref}, vec(cat(refFunc(f(1)), end()), []byte{0xd0, valFuncref, 0x0b})),
		)),
		sec(secCode, vec(code...)),
		custom("name", nameSec),
		custom("producers", []byte{0x00}),
	)
}

func TestRewriteRenumbersEveryReference(t *testing.T) {
	in := indexModule(false)
	want := indexModule(true)
	if err := compile(t, in); err != nil {
		t.Fatalf("test input does not compile: %v", err)
	}
	got, reps, err := Rewrite(in, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rewritten module differs from the expected one\n got %x\nwant %x", got, want)
	}
	wantReps := []Replacement{
		{Module: wasiPreview1, Name: "poll_oneoff", OldIndex: 1, NewIndex: 5},
		{Module: wasiPreview1, Name: "sched_yield", OldIndex: 3, NewIndex: 6},
	}
	if len(reps) != len(wantReps) {
		t.Fatalf("replacements = %+v, want %+v", reps, wantReps)
	}
	for i := range reps {
		if reps[i] != wantReps[i] {
			t.Errorf("replacement %d = %+v, want %+v", i, reps[i], wantReps[i])
		}
	}
	if err := compile(t, got); err != nil {
		t.Fatalf("rewritten module does not compile: %v", err)
	}
}

// TestRewriteBehaviour runs the rewritten index module: the exported
// functions must reach the right functions after renumbering.
func TestRewriteBehaviour(t *testing.T) {
	out, _, err := Rewrite(indexModule(false), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	_, err = r.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithFunc(func() int32 { return 40 }).Export("first").
		NewFunctionBuilder().WithFunc(func() int32 { return 2 }).Export("second").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction("callall").Call(ctx)
	if err != nil || res[0] != 42 {
		t.Errorf("callall() = %v, %v; want 42 (first + second + sched_yield's 0)", res, err)
	}
	res, err = mod.ExportedFunction("callpoll").Call(ctx)
	if err != nil || res[0] != 0 {
		t.Errorf("callpoll() = %v, %v; want errno 0", res, err)
	}
	if v, _ := mod.Memory().ReadUint32Le(100); v != 0 {
		t.Errorf("nevents = %d, want 0", v)
	}
}

// TestStubs calls each replacement through an exported wrapper and checks
// Envoy's answers, including the bad-pointer cases.
func TestStubs(t *testing.T) {
	in := modBytes(
		sec(secType, vec(tPoll, tI32, tVoid, tI32x2)),
		sec(secImport, vec(
			importFunc(wasiPreview1, "poll_oneoff", 0),
			importFunc(wasiPreview1, "sched_yield", 1),
			importFunc(wasiPreview1, "fd_fdstat_set_flags", 3),
			importFunc(wasiUnstable, "fd_fdstat_get", 3),
		)),
		sec(secFunction, vec(u32(0), u32(1), u32(3), u32(3))),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secExport, vec(exportFunc("poll", 4), exportFunc("yield", 5), exportFunc("setflags", 6),
			exportFunc("fdstat", 7), cat(nm("memory"), []byte{2, 0}))),
		sec(secCode, vec(
			body([]byte{0x20, 0, 0x20, 1, 0x20, 2, 0x20, 3}, call(0), end()),
			body(call(1), end()),
			body([]byte{0x20, 0, 0x20, 1}, call(2), end()),
			body([]byte{0x20, 0, 0x20, 1}, call(3), end()),
		)),
	)
	// Rewrite a copy so the test also shows the input is not modified.
	orig := bytes.Clone(in)
	out, reps, err := Rewrite(in, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, orig) {
		t.Fatal("Rewrite modified its input")
	}
	if len(reps) != 4 {
		t.Fatalf("replaced %d imports, want 4", len(reps))
	}
	if imps, _ := Imports(out); len(imps) != 0 {
		t.Fatalf("imports left: %v", imps)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	const page = 65536
	tests := []struct {
		name   string
		fn     string
		args   []uint64
		errno  uint64
		setup  func(api.Memory)
		verify func(*testing.T, api.Memory)
	}{
		{name: "poll_oneoff writes zero events", fn: "poll", args: []uint64{0, 64, 1, 200}, errno: 0,
			setup: func(m api.Memory) { m.WriteUint32Le(200, 7) },
			verify: func(t *testing.T, m api.Memory) {
				if v, _ := m.ReadUint32Le(200); v != 0 {
					t.Errorf("nevents = %d, want 0", v)
				}
			}},
		{name: "poll_oneoff at the last word", fn: "poll", args: []uint64{0, 0, 1, page - 4}, errno: 0},
		{name: "poll_oneoff pointer past memory", fn: "poll", args: []uint64{0, 0, 1, page - 3}, errno: errnoFAULT},
		{name: "poll_oneoff pointer wraps", fn: "poll", args: []uint64{0, 0, 1, 0xfffffffe}, errno: errnoFAULT},
		{name: "sched_yield succeeds", fn: "yield", errno: 0},
		{name: "fd_fdstat_set_flags is ENOSYS", fn: "setflags", args: []uint64{1, 4}, errno: errnoNOSYS},
		{name: "fd_fdstat_get stdout", fn: "fdstat", args: []uint64{1, 300}, errno: 0,
			setup: func(m api.Memory) { m.Write(300, bytes.Repeat([]byte{0xff}, 24)) },
			verify: func(t *testing.T, m api.Memory) {
				got, _ := m.Read(300, 24)
				want := make([]byte, 24)
				binary.LittleEndian.PutUint64(want[8:], 64)
				if !bytes.Equal(got, want) {
					t.Errorf("fdstat = %x, want %x", got, want)
				}
			}},
		{name: "fd_fdstat_get stderr", fn: "fdstat", args: []uint64{2, 300}, errno: 0},
		{name: "fd_fdstat_get stdin is EBADF", fn: "fdstat", args: []uint64{0, 300}, errno: errnoBADF,
			setup: func(m api.Memory) { m.Write(300, bytes.Repeat([]byte{0xff}, 24)) },
			verify: func(t *testing.T, m api.Memory) {
				if got, _ := m.Read(300, 24); !bytes.Equal(got, bytes.Repeat([]byte{0xff}, 24)) {
					t.Errorf("EBADF path wrote memory: %x", got)
				}
			}},
		{name: "fd_fdstat_get other fd is EBADF", fn: "fdstat", args: []uint64{3, 300}, errno: errnoBADF},
		{name: "fd_fdstat_get bad fd wins over bad pointer", fn: "fdstat", args: []uint64{5, page}, errno: errnoBADF},
		{name: "fd_fdstat_get pointer past memory", fn: "fdstat", args: []uint64{1, page - 23}, errno: errnoFAULT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(mod.Memory())
			}
			res, err := mod.ExportedFunction(tc.fn).Call(ctx, tc.args...)
			if err != nil {
				t.Fatalf("trap: %v", err)
			}
			if res[0] != tc.errno {
				t.Errorf("errno = %d, want %d", res[0], tc.errno)
			}
			if tc.verify != nil {
				tc.verify(t, mod.Memory())
			}
		})
	}
}

func TestRewriteRefuses(t *testing.T) {
	valid := func(code ...[]byte) []byte {
		return modBytes(
			sec(secType, vec(tPoll, tI32)),
			sec(secImport, vec(importFunc(wasiPreview1, "poll_oneoff", 0))),
			sec(secFunction, vec(u32(1))),
			sec(secMemory, vec([]byte{0x00, 0x01})),
			sec(secCode, vec(body(code...))),
		)
	}
	if _, _, err := Rewrite(valid(i32c(0), end()), Config{}); err != nil {
		t.Fatalf("control module refused: %v", err)
	}
	tests := []struct {
		name    string
		module  []byte
		cfg     Config
		want    error
		message string // part of the error text (user interface)
	}{
		{"empty input", nil, Config{}, ErrMalformed, "not a WebAssembly binary"},
		{"not wasm", []byte("hello, world"), Config{}, ErrMalformed, "not a WebAssembly binary"},
		{"component binary", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, Config{}, ErrUnsupported, "components"},
		{"section past the end", append(modBytes(), 1, 10, 0), Config{}, ErrMalformed, "past the end"},
		{"sections out of order", modBytes(sec(secFunction, vec()), sec(secType, vec())), Config{}, ErrMalformed, "out of order"},
		{"unknown section", modBytes(sec(42, nil)), Config{}, ErrMalformed, "unknown section id 42"},
		{"SIMD opcode", valid([]byte{0xfd, 0x0c}, make([]byte, 16), []byte{0x1a}, i32c(0), end()), Config{}, ErrUnsupported, "SIMD"},
		{"atomics opcode", valid(i32c(0), []byte{0xfe, 0x10, 0x02, 0x00}, end()), Config{}, ErrUnsupported, "atomics"},
		{"tail call", valid(i32c(0), []byte{0x12, 0x00}, end()), Config{}, ErrUnsupported, "tail calls"},
		{"unassigned opcode", valid([]byte{0xc5}, i32c(0), end()), Config{}, ErrUnsupported, "opcode 0xc5"},
		{"unknown 0xfc opcode", valid([]byte{0xfc, 0x12}, i32c(0), end()), Config{}, ErrUnsupported, "0xfc 18"},
		{"multi-memory access", valid(i32c(0), []byte{0x28, 0x42, 0x01, 0x00}, end()), Config{}, ErrUnsupported, "multi-memory"},
		{"call out of range", valid(call(9), end()), Config{}, ErrMalformed, "function index 9 out of range"},
		{"missing end", valid(i32c(0)), Config{}, ErrMalformed, "no end"},
		{"bytes after end", valid(i32c(0), end(), []byte{0x01}), Config{}, ErrMalformed, "after the function's end"},
		{"truncated LEB", valid([]byte{0x41, 0x80}), Config{}, ErrMalformed, "unexpected end"},
		{"tag section", modBytes(sec(secTag, vec())), Config{}, ErrUnsupported, "exception handling"},
		{"DWARF section", modBytes(custom(".debug_info", []byte{1})), Config{}, ErrUnsupported, "debug information"},
		{"relocatable object", modBytes(custom("linking", []byte{2})), Config{}, ErrUnsupported, "object files"},
		{"poll_oneoff with another signature", modBytes(
			sec(secType, vec(tI32)),
			sec(secImport, vec(importFunc(wasiPreview1, "poll_oneoff", 0))),
		), Config{}, ErrUnsupported, `"wasi_snapshot_preview1.poll_oneoff": unexpected signature`},
		{"no memory to write events to", modBytes(
			sec(secType, vec(tPoll)),
			sec(secImport, vec(importFunc(wasiPreview1, "poll_oneoff", 0))),
		), Config{}, ErrUnsupported, "no memory"},
		{"no defined functions", modBytes(
			sec(secType, vec(tI32)),
			sec(secImport, vec(importFunc(wasiPreview1, "sched_yield", 0))),
		), Config{}, ErrUnsupported, "defines no functions"},
		{"code count mismatch", modBytes(
			sec(secType, vec(tI32)),
			sec(secFunction, vec(u32(0), u32(0))),
			sec(secCode, vec(body(i32c(0), end()))),
		), Config{}, ErrMalformed, "1 bodies for 2 declared functions"},
		{"unknown replacement", valid(i32c(0), end()), Config{Replace: []string{"proc_exit"}}, ErrUnsupported, `"proc_exit"`},
		{"unknown name subsection", modBytes(custom("name", []byte{42, 0})), Config{}, ErrUnsupported, "subsection 42"},
		{"import of a tag", modBytes(sec(secImport, vec(cat(nm("a"), nm("b"), []byte{4, 0, 0})))), Config{}, ErrUnsupported, "import kind 4"},
		{"memory64", modBytes(sec(secMemory, vec([]byte{0x04, 0x01}))), Config{}, ErrUnsupported, "memory64"},
		{"GC type", modBytes(sec(secType, vec([]byte{0x5f, 0x00}))), Config{}, ErrUnsupported, "type form 0x5f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, reps, err := Rewrite(tc.module, tc.cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not mention %q", err, tc.message)
			}
			if out != nil || reps != nil {
				t.Errorf("refusal returned output (%d bytes, %d replacements)", len(out), len(reps))
			}
		})
	}
}

// TestRewriteLeavesOtherImports checks that only WASI imports are touched:
// a same-named env import, and functions not selected, stay.
func TestRewriteLeavesOtherImports(t *testing.T) {
	in := modBytes(
		sec(secType, vec(tPoll, tI32)),
		sec(secImport, vec(
			importFunc("env", "poll_oneoff", 0),
			importFunc(wasiPreview1, "sched_yield", 1),
			importFunc(wasiUnstable, "poll_oneoff", 0),
		)),
		sec(secFunction, vec(u32(1))),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secCode, vec(body(call(1), end()))),
	)
	out, reps, err := Rewrite(in, Config{Replace: []string{"poll_oneoff"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].Module != wasiUnstable || reps[0].OldIndex != 2 || reps[0].NewIndex != 3 {
		t.Fatalf("replacements = %+v", reps)
	}
	imps, err := Imports(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Import{{"env", "poll_oneoff", "func"}, {wasiPreview1, "sched_yield", "func"}}
	if len(imps) != len(want) || imps[0] != want[0] || imps[1] != want[1] {
		t.Fatalf("imports = %v, want %v", imps, want)
	}
	if err := compile(t, out); err != nil {
		t.Fatal(err)
	}
}

func TestRewriteNothingToDo(t *testing.T) {
	in := modBytes(
		sec(secType, vec(tI32)),
		sec(secFunction, vec(u32(0))),
		sec(secCode, vec(body(i32c(7), end()))),
	)
	out, reps, err := Rewrite(in, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) || reps != nil {
		t.Fatalf("module without targets changed: %x (replacements %v)", out, reps)
	}
	if &out[0] == &in[0] {
		t.Fatal("output aliases the input")
	}
}
