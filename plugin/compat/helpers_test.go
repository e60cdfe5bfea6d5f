package compat

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// A tiny WebAssembly assembler for hand-made test modules. It always uses
// minimal LEB128, so expected outputs can be built with the same helpers.

func u32(v uint32) []byte { return appendU32(nil, v) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func vec(items ...[]byte) []byte { return cat(u32(uint32(len(items))), cat(items...)) }

func nm(s string) []byte { return cat(u32(uint32(len(s))), []byte(s)) }

func sec(id byte, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat([]byte{id}, u32(uint32(len(p))), p)
}

func custom(name string, payload ...[]byte) []byte { return sec(0, nm(name), cat(payload...)) }

func modBytes(sections ...[]byte) []byte { return cat(wasmHeader, cat(sections...)) }

func ftype(params, results []byte) []byte {
	return cat([]byte{0x60}, vec(splitBytes(params)...), vec(splitBytes(results)...))
}

func splitBytes(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func importFunc(module, name string, typeIdx uint32) []byte {
	return cat(nm(module), nm(name), []byte{0}, u32(typeIdx))
}

// body wraps instructions (which must end with 0x0b) into a code entry
// without locals.
func body(code ...[]byte) []byte {
	b := cat([]byte{0x00}, cat(code...))
	return cat(u32(uint32(len(b))), b)
}

func call(idx uint32) []byte    { return cat([]byte{0x10}, u32(idx)) }
func refFunc(idx uint32) []byte { return cat([]byte{0xd2}, u32(idx)) }
func i32c(v byte) []byte        { return []byte{0x41, v} } // v < 64
func end() []byte               { return []byte{0x0b} }

func exportFunc(name string, idx uint32) []byte { return cat(nm(name), []byte{0}, u32(idx)) }

// stubEntry is a stub's code entry as Rewrite appends it.
func stubEntry(name string) []byte {
	b := stubs[name].body
	return cat(u32(uint32(len(b))), b)
}

// compile checks a module with wazero.
func compile(t testing.TB, module []byte) error {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	_, err := r.CompileModule(ctx, module)
	return err
}

// sortedNames encodes a function name map sorted by index.
func nameMap(names map[uint32]string) []byte {
	idx := make([]uint32, 0, len(names))
	for i := range names {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	items := make([][]byte, 0, len(idx))
	for _, i := range idx {
		items = append(items, cat(u32(i), nm(names[i])))
	}
	return vec(items...)
}

var (
	guestOnce sync.Once
	guestWasm []byte
	guestErr  error
)

// goGuest builds testdata/guest with the standard Go toolchain for wasip1,
// once per test binary.
func goGuest(t testing.TB) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("building a Go wasip1 guest is skipped in -short mode")
	}
	guestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "compat-guest")
		if err != nil {
			guestErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "guest.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/guest")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			guestErr = &buildError{err: err, out: string(msg)}
			return
		}
		guestWasm, guestErr = os.ReadFile(out)
	})
	if guestErr != nil {
		t.Fatalf("building the Go test guest: %v", guestErr)
	}
	return guestWasm
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// builtPlugin returns build/tokengate.raw.wasm when `make wasm` has run,
// else nil (the Go guest still covers the real toolchain's output).
func builtPlugin(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "build", "tokengate.raw.wasm"))
	if err != nil {
		t.Logf("build/tokengate.raw.wasm not present (run make wasm to include it): %v", err)
		return nil
	}
	return b
}
