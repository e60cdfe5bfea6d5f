package wasmpack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// A tiny assembler for hand-made test modules (minimal LEB128 throughout).

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

func modBytes(sections ...[]byte) []byte { return cat(wasmHeader, cat(sections...)) }

// seg is an active segment of memory 0 (flag 0) at off.
func seg(off uint32, data ...byte) []byte {
	return cat([]byte{0x00, 0x41}, appendS32(nil, int32(off)), []byte{0x0b}, u32(uint32(len(data))), data)
}

// memSec is a memory section with one memory of min pages, no maximum.
func memSec(pages uint32) []byte { return sec(SecMemory, vec(cat([]byte{0x00}, u32(pages)))) }

// dataModule is a module with one memory of pages pages and the given
// data segments, plus a custom section after them (which must survive).
func dataModule(pages uint32, segs ...[]byte) []byte {
	return modBytes(memSec(pages), sec(SecData, vec(segs...)), sec(SecCustom, nm("after"), []byte{1, 2, 3}))
}

// memoryImage instantiates a module in wazero without running any start
// or export (imports become functions returning zeros) and returns its
// linear memory.
func memoryImage(t testing.TB, module []byte) []byte {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, module)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	hosts := map[string]wazero.HostModuleBuilder{}
	for _, fn := range cm.ImportedFunctions() {
		mod, name, _ := fn.Import()
		b, ok := hosts[mod]
		if !ok {
			b = r.NewHostModuleBuilder(mod)
			hosts[mod] = b
		}
		results := len(fn.ResultTypes())
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			clear(stack[:results])
		}), fn.ParamTypes(), fn.ResultTypes()).Export(name)
	}
	for mod, b := range hosts {
		if _, err := b.Instantiate(ctx); err != nil {
			t.Fatalf("host module %s: %v", mod, err)
		}
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	mem := m.Memory()
	if mem == nil {
		return nil
	}
	img, ok := mem.Read(0, mem.Size())
	if !ok {
		t.Fatal("reading memory failed")
	}
	return append([]byte(nil), img...)
}

var (
	pluginOnce sync.Once
	pluginWasm []byte
	pluginErr  error
)

// realPlugin returns the plugin as built by the Go toolchain: the output of
// the compatibility pass (build/tokengate.wasm) when `make wasm` has run,
// else a fresh raw build into a temporary directory.
func realPlugin(t testing.TB) []byte {
	t.Helper()
	pluginOnce.Do(func() {
		if b, err := os.ReadFile(filepath.Join("..", "..", "build", "tokengate.wasm")); err == nil {
			pluginWasm = b
			return
		}
		dir, err := os.MkdirTemp("", "wasmpack-plugin")
		if err != nil {
			pluginErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "tokengate.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "../cmd/tokengate-wasm")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			pluginErr = fmt.Errorf("building the plugin: %v\n%s", err, msg)
			return
		}
		pluginWasm, pluginErr = os.ReadFile(out)
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginWasm
}
