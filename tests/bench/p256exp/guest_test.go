package p256exp

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tokengate/tokengate/tests/internal/guestbuild"
)

// Implementations understood by the guest's run (testdata/guest mirrors
// them).
const (
	implECDSA      = 1
	implP256Verify = 2
)

// here is this package's source directory.
func here() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// repoRoot is the module's root (tests/bench/p256exp is three levels down).
func repoRoot() string { return filepath.Join(here(), "..", "..", "..") }

// guestPkg is where the overlay places the guest, under plugin/ so that it
// may import plugin/internal/p256verify. Nothing is written there.
const guestPkg = "plugin/internal/p256verify/p256expguest"

var (
	guestOnce  sync.Once
	guestBytes []byte
	guestErr   error
)

// buildGuest compiles testdata/guest as tests/bench builds its bare guest
// (wasip1, c-shared, -trimpath), cached in the user cache by source hash.
func buildGuest(tb testing.TB) []byte {
	tb.Helper()
	guestOnce.Do(func() { guestBytes, guestErr = compileGuest() })
	if guestErr != nil {
		tb.Fatal(guestErr)
	}
	return guestBytes
}

// compileGuest builds the guest as if it lived at guestPkg (an overlay:
// nothing is written under plugin/), keyed by the guest, p256verify's
// sources and go.sum (nistec's version).
func compileGuest() ([]byte, error) {
	root, err := filepath.Abs(repoRoot())
	if err != nil {
		return nil, err
	}
	src, err := filepath.Abs(filepath.Join(here(), "testdata", "guest", "main.go"))
	if err != nil {
		return nil, err
	}
	return guestbuild.Build(guestbuild.Spec{Name: "p256exp", Dir: root, Package: "./" + guestPkg,
		Sources: []string{filepath.Join(here(), "testdata", "guest", "*.go"),
			filepath.Join(root, "plugin", "internal", "p256verify", "*.go"), filepath.Join(root, "go.sum")},
		Overlay: map[string]string{filepath.Join(root, filepath.FromSlash(guestPkg), "main.go"): src}})
}

// compiled shares the guest's compiled code between runtimes.
var compiled = wazero.NewCompilationCache()

// guest is one instance of testdata/guest.
type guest struct {
	rt  wazero.Runtime
	mod api.Module
	run api.Function
}

// newGuest instantiates the guest in a runtime configured as tests/bench
// configures its bare guests: default engine, hostsim's memory limit, no
// context-done checks.
func newGuest(ctx context.Context, tb testing.TB) *guest {
	tb.Helper()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithMemoryLimitPages(16384).WithCloseOnContextDone(false).WithCompilationCache(compiled))
	tb.Cleanup(func() { rt.Close(ctx) })
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		tb.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, buildGuest(tb), wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		tb.Fatal(err)
	}
	return &guest{rt: rt, mod: mod, run: mod.ExportedFunction("run")}
}

// put copies p into a fresh guest buffer and returns its address and length.
func (g *guest) put(ctx context.Context, p []byte) (uint64, uint64, error) {
	res, err := g.mod.ExportedFunction("buf").Call(ctx, uint64(len(p)))
	if err != nil {
		return 0, 0, err
	}
	if !g.mod.Memory().Write(uint32(res[0]), p) {
		return 0, 0, errors.New("p256exp: guest buffer outside memory")
	}
	return res[0], uint64(len(p)), nil
}

// setup loads a PKIX key, a hash and r ‖ s. It returns the guest's answer:
// 1 both parsed the key, 2 both refused it, 0 otherwise.
func (g *guest) setup(ctx context.Context, key, hash, sig []byte) (int32, error) {
	if _, err := g.mod.ExportedFunction("free").Call(ctx); err != nil {
		return 0, err
	}
	var args []uint64
	for _, p := range [][]byte{key, hash, sig} {
		ptr, n, err := g.put(ctx, p)
		if err != nil {
			return 0, err
		}
		args = append(args, ptr, n)
	}
	res, err := g.mod.ExportedFunction("setup").Call(ctx, args...)
	if err != nil {
		return 0, err
	}
	return int32(res[0]), nil
}

// verify runs one verification with impl: 1 valid, 0 not.
func (g *guest) verify(ctx context.Context, impl int32) (int32, error) {
	res, err := g.run.Call(ctx, uint64(impl))
	if err != nil {
		return 0, err
	}
	return int32(res[0]), nil
}
