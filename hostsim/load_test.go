package hostsim

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A minimal wasm encoder for load-check tests: each import and function
// gets its own type entry; function bodies return zeros.

const (
	tI32 = 0x7f
	tI64 = 0x7e
)

type modImport struct {
	mod, name       string
	params, results []byte
}

type modFunc struct {
	export          string
	params, results []byte
}

func uleb(n int) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func vec(items [][]byte) []byte {
	out := uleb(len(items))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func name(s string) []byte { return append(uleb(len(s)), s...) }

func encodeModule(imports []modImport, funcs []modFunc) []byte {
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	section := func(id byte, content []byte) {
		b = append(b, id)
		b = append(b, uleb(len(content))...)
		b = append(b, content...)
	}
	var types, imps, fns, exps, codes [][]byte
	fnType := func(p, r []byte) []byte {
		t := []byte{0x60}
		t = append(t, uleb(len(p))...)
		t = append(t, p...)
		t = append(t, uleb(len(r))...)
		return append(t, r...)
	}
	for _, im := range imports {
		types = append(types, fnType(im.params, im.results))
		e := append(name(im.mod), name(im.name)...)
		imps = append(imps, append(append(e, 0x00), uleb(len(types)-1)...))
	}
	for i, f := range funcs {
		types = append(types, fnType(f.params, f.results))
		fns = append(fns, uleb(len(types)-1))
		body := []byte{0x00}
		for _, r := range f.results {
			if r == tI64 {
				body = append(body, 0x42, 0x00)
			} else {
				body = append(body, 0x41, 0x00)
			}
		}
		body = append(body, 0x0b)
		codes = append(codes, append(uleb(len(body)), body...))
		if f.export != "" {
			exps = append(exps, append(append(name(f.export), 0x00), uleb(len(imports)+i)...))
		}
	}
	exps = append(exps, append(name("memory"), 0x02, 0x00))
	section(1, vec(types))
	if len(imps) > 0 {
		section(2, vec(imps))
	}
	section(3, vec(fns))
	section(5, []byte{0x01, 0x00, 0x01})
	section(7, vec(exps))
	section(10, vec(codes))
	return b
}

func marker(v string) modFunc { return modFunc{export: "proxy_abi_version_" + v} }

var mallocFn = modFunc{export: "malloc", params: []byte{tI32}, results: []byte{tI32}}

func TestLoadChecks(t *testing.T) {
	i32s := func(n int) []byte { return []byte(strings.Repeat(string(rune(tI32)), n)) }
	log := modImport{"env", "proxy_log", i32s(3), i32s(1)}
	for _, tc := range []struct {
		name    string
		profile Profile
		imports []modImport
		funcs   []modFunc
		wantErr string // empty: loads
	}{
		{"minimal 0.2.1 module", "", []modImport{log}, []modFunc{marker("0_2_1"), mallocFn}, ""},
		{"no ABI marker", "", nil, []modFunc{mallocFn}, "Missing or unknown Proxy-Wasm ABI version"},
		{"no allocator", "", nil, []modFunc{marker("0_2_1")}, "missing malloc"},
		{"proxy_on_memory_allocate is enough", "", nil, []modFunc{marker("0_2_0"),
			{export: "proxy_on_memory_allocate", params: i32s(1), results: i32s(1)}}, ""},
		{"2-argument request headers in 0.2.x", "", nil, []modFunc{marker("0_2_1"), mallocFn,
			{export: "proxy_on_request_headers", params: i32s(2), results: i32s(1)}},
			"Bad function signature for: proxy_on_request_headers"},
		{"2-argument request headers in 0.1.0", "", nil, []modFunc{marker("0_1_0"), mallocFn,
			{export: "proxy_on_request_headers", params: i32s(2), results: i32s(1)}}, ""},
		{"main must be (i32,i32)->i32", "", nil, []modFunc{marker("0_2_1"), mallocFn, {export: "main"}},
			"Bad function signature for: main"},
		{"get_log_level needs 0.2.1", "", []modImport{{"env", "proxy_get_log_level", i32s(1), i32s(1)}},
			[]modFunc{marker("0_2_0"), mallocFn}, "missing import: env.proxy_get_log_level"},
		{"continue_stream is not 0.1.0", "", []modImport{{"env", "proxy_continue_stream", i32s(1), i32s(1)}},
			[]modFunc{marker("0_1_0"), mallocFn}, "missing import: env.proxy_continue_stream"},
		{"get_configuration is 0.1.0 only", "", []modImport{{"env", "proxy_get_configuration", i32s(2), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, "missing import: env.proxy_get_configuration"},
		{"emscripten abort", "", []modImport{{"env", "abort", nil, nil}},
			[]modFunc{marker("0_2_1"), mallocFn}, "missing import: env.abort"},
		{"import type mismatch", "", []modImport{{"env", "proxy_log", i32s(1), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, "import type mismatch for function env.proxy_log"},
		{"fd_filestat_get on 1.33", ProfileEnvoy133, []modImport{{"wasi_snapshot_preview1", "fd_filestat_get", i32s(2), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, "missing import: wasi_snapshot_preview1.fd_filestat_get"},
		{"fd_filestat_get on current", ProfileEnvoyCurrent, []modImport{{"wasi_snapshot_preview1", "fd_filestat_get", i32s(2), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, ""},
		{"proc_raise never", ProfileEnvoyCurrent, []modImport{{"wasi_snapshot_preview1", "proc_raise", i32s(1), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, "missing import: wasi_snapshot_preview1.proc_raise"},
		{"sched_yield absent on 1.32", ProfileEnvoy132, []modImport{{"wasi_snapshot_preview1", "sched_yield", nil, i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, "missing import: wasi_snapshot_preview1.sched_yield"},
		{"wasi_unstable is linked too", ProfileEnvoy133, []modImport{{"wasi_unstable", "fd_write", i32s(4), i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, ""},
		{"clock_time_get takes an i64", ProfileEnvoy133, []modImport{{"wasi_snapshot_preview1", "clock_time_get", []byte{tI32, tI64, tI32}, i32s(1)}},
			[]modFunc{marker("0_2_1"), mallocFn}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := New(ctx, encodeModule(tc.imports, tc.funcs), Config{}.WithProfile(tc.profile))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				h.Close(ctx)
				return
			}
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrLoad containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestMallocPreferredOverProxyOnMemoryAllocate(t *testing.T) {
	ctx := context.Background()
	h, err := New(ctx, encodeModule(nil, []modFunc{marker("0_2_1"),
		{export: "proxy_on_memory_allocate", params: []byte{tI32}, results: []byte{tI32}}, mallocFn}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if h.malloc != "malloc" {
		t.Fatalf("allocator %q, want malloc (Envoy looks for it first)", h.malloc)
	}
}

func TestUnknownProfile(t *testing.T) {
	if _, err := New(context.Background(), tinyModule(false), Config{}.WithProfile("envoy-9")); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

// TestABI010HeadersCallback: 0.1.0 modules get (context, num_headers) in
// the headers callbacks; calling them with three arguments would trap.
func TestABI010HeadersCallback(t *testing.T) {
	ctx := context.Background()
	h, err := New(ctx, encodeModule(nil, []modFunc{marker("0_1_0"), mallocFn,
		{export: "proxy_on_request_headers", params: []byte{tI32, tI32}, results: []byte{tI32}}}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, PluginConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.Worker(0).HTTP(ctx, Request{}); res.Outcome != OutcomeForwarded {
		t.Fatalf("got %s %q", res.Outcome, res.Trap)
	}
}
