package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tokengate/tokengate/tests/internal/guestbuild"
)

// Kinds of bare primitive (the guest's setup argument).
const (
	BareEd25519 = 1
	BareECDSA   = 2
	BareRSA     = 3
	BareHMAC    = 4
)

// guestDir is the bare guest's source directory.
func guestDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "guest")
}

// BuildGuest compiles the bare-primitive guest with the plugin's toolchain
// and flags (wasip1, c-shared, -trimpath), cached by its source's hash and
// the Go version (tests/internal/guestbuild), and returns its bytes.
func BuildGuest() ([]byte, error) {
	return guestbuild.Build(guestbuild.Spec{Name: "bare", Dir: guestDir(),
		Sources: []string{filepath.Join(guestDir(), "*.go")}})
}

// bareCache shares the guest's compiled code between its runtimes.
var bareCache = wazero.NewCompilationCache()

// Bare is one instance of the bare guest set up for one primitive.
type Bare struct {
	rt  wazero.Runtime
	run api.Function
}

// NewBare instantiates the guest in a runtime configured like hostsim's
// (default engine, the same memory limit; closeOnDone adds the
// context-done checks of an interruptible hostsim host, which the wasm
// cases turn off) and sets it up with key (raw
// ed25519 key, PKIX DER for ECDSA/RSA, HMAC secret), msg and sig. It checks
// that one run succeeds, so a benchmark never measures a failing path.
func NewBare(ctx context.Context, wasm []byte, kind int, closeOnDone bool, key, msg, sig []byte) (*Bare, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithMemoryLimitPages(16384).
		WithCloseOnContextDone(closeOnDone).WithCompilationCache(bareCache))
	b := &Bare{rt: rt}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	put := func(p []byte) (uint64, uint64, error) {
		if len(p) == 0 {
			return 0, 0, errors.New("bench: empty bare input")
		}
		res, err := mod.ExportedFunction("buf").Call(ctx, uint64(len(p)))
		if err != nil {
			return 0, 0, err
		}
		if !mod.Memory().Write(uint32(res[0]), p) {
			return 0, 0, errors.New("bench: bare buffer outside memory")
		}
		return res[0], uint64(len(p)), nil
	}
	var args = []uint64{uint64(kind)}
	for _, p := range [][]byte{key, msg, sig} {
		ptr, n, err := put(p)
		if err != nil {
			rt.Close(ctx)
			return nil, err
		}
		args = append(args, ptr, n)
	}
	if res, err := mod.ExportedFunction("setup").Call(ctx, args...); err != nil || res[0] != 1 {
		rt.Close(ctx)
		return nil, fmt.Errorf("bench: bare setup of kind %d failed (%v)", kind, err)
	}
	b.run = mod.ExportedFunction("run")
	if err := b.Run(ctx); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return b, nil
}

// Run verifies once.
func (b *Bare) Run(ctx context.Context) error {
	res, err := b.run.Call(ctx)
	if err != nil {
		return err
	}
	if res[0] != 1 {
		return errors.New("bench: bare verification failed")
	}
	return nil
}

// Close frees the runtime.
func (b *Bare) Close(ctx context.Context) error { return b.rt.Close(ctx) }
