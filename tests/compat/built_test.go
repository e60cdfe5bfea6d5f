package compat

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	pass "github.com/tokengate/tokengate/plugin/compat"
)

// TestBuiltModule checks what `make wasm` produced: build/tokengate.wasm
// imports no WASI function missing from Envoy 1.21+ (nor fd_fdstat_get,
// forbidden during start-up on Envoy ≤1.32), and it is exactly the pass's
// output for build/tokengate.raw.wasm. A missing build fails: run make wasm.
func TestBuiltModule(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(repoRoot(), "build", name))
		if err != nil {
			t.Fatalf("%v: run `make wasm` first", err)
		}
		return b
	}
	raw, built := read("tokengate.raw.wasm"), read("tokengate.wasm")
	imports, err := pass.Imports(built)
	if err != nil {
		t.Fatal(err)
	}
	if extra := pass.BeyondEnvoyBaseline(imports); len(extra) != 0 {
		t.Errorf("build/tokengate.wasm imports WASI functions missing from Envoy 1.21+: %v", extra)
	}
	for _, im := range imports {
		if im.Name == "fd_fdstat_get" {
			t.Errorf("build/tokengate.wasm still imports %s.%s", im.Module, im.Name)
		}
	}
	want, _, err := pass.Rewrite(raw, pass.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, want) {
		t.Errorf("build/tokengate.wasm is not the compat pass over build/tokengate.raw.wasm (stale build? run make wasm)")
	}
}
