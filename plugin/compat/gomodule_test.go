package compat

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// realModules are modules from the real toolchain: the Go test guest and,
// when `make wasm` has run, the plugin itself.
func realModules(t *testing.T) map[string][]byte {
	mods := map[string][]byte{"go-guest": goGuest(t)}
	if b := builtPlugin(t); b != nil {
		mods["plugin"] = b
	}
	return mods
}

// TestRoundTrip re-encodes every section the pass rewrites with nothing to
// change and requires the exact input bytes: the encoders keep every LEB128
// width and every byte they do not own.
func TestRoundTrip(t *testing.T) {
	mods := realModules(t)
	mods["index-module"] = indexModule(false)
	for name, in := range mods {
		t.Run(name, func(t *testing.T) {
			m, err := parseModule(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.write(&plan{removed: map[int]bool{}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("round trip changed the module (%d → %d bytes)", len(in), len(out))
			}
		})
	}
}

func TestRewriteRealModules(t *testing.T) {
	for name, in := range realModules(t) {
		t.Run(name, func(t *testing.T) {
			before, err := Imports(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(BeyondEnvoyBaseline(before)) == 0 {
				t.Fatalf("the raw module already fits Envoy 1.21; the test guest no longer exercises the pass")
			}
			out, reps, err := Rewrite(in, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if len(reps) == 0 {
				t.Fatal("nothing replaced")
			}
			after, err := Imports(out)
			if err != nil {
				t.Fatal(err)
			}
			if extra := BeyondEnvoyBaseline(after); len(extra) != 0 {
				t.Errorf("imports missing from Envoy 1.21+: %v", extra)
			}
			for _, im := range after {
				if im.Module == wasiPreview1 && im.Name == "fd_fdstat_get" {
					t.Errorf("fd_fdstat_get is still imported; Envoy ≤1.32 forbids it during _initialize")
				}
			}
			if len(after) != len(before)-len(reps) {
				t.Errorf("%d imports after, want %d - %d", len(after), len(before), len(reps))
			}
			// Only the rewritten sections may change; the size moves by the
			// removed import entries and the appended stubs.
			if err := compile(t, out); err != nil {
				t.Fatalf("rewritten module does not compile: %v", err)
			}
			again, reps2, err := Rewrite(out, Config{})
			if err != nil || reps2 != nil || !bytes.Equal(again, out) {
				t.Fatalf("second pass is not a no-op: err=%v replacements=%v equal=%v", err, reps2, bytes.Equal(again, out))
			}
		})
	}
}

// TestDifferential runs the Go guest before and after the pass under wazero
// with full WASI, where both must behave identically: same results, same
// output, no trap.
func TestDifferential(t *testing.T) {
	raw := goGuest(t)
	rewritten, _, err := Rewrite(raw, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)
	run := func(module []byte) (string, error) {
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
		defer r.Close(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, r)
		var stdout bytes.Buffer
		mod, err := r.InstantiateWithConfig(ctx, module, wazero.NewModuleConfig().
			WithStdout(&stdout).WithStartFunctions("_initialize"))
		if err != nil {
			return "", err
		}
		work := mod.ExportedFunction("work")
		for _, n := range []uint64{1, 100, 3000, 20000, 5} {
			res, err := work.Call(ctx, n)
			if err != nil {
				return stdout.String(), fmt.Errorf("work(%d): %w", n, err)
			}
			fmt.Fprintf(&stdout, "result %d\n", int64(res[0]))
		}
		return stdout.String(), nil
	}
	want, err := run(raw)
	if err != nil {
		t.Fatalf("raw module: %v", err)
	}
	got, err := run(rewritten)
	if err != nil {
		t.Fatalf("rewritten module: %v", err)
	}
	if got != want {
		t.Fatalf("behaviour differs\nraw:\n%s\nrewritten:\n%s", want, got)
	}
	if !bytes.Contains([]byte(got), []byte("work n=20000")) {
		t.Fatalf("guest output missing: %q", got)
	}
}
