package fieldexp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tokengate/tokengate/tests/internal/guestbuild"
)

// The guest's implementations and operations (testdata/guest mirrors them).
const (
	impl10   = 1
	impl51   = 2
	impl51in = 3

	opMul    = 1
	opSquare = 2
	opAdd    = 3
	opSub    = 4
	opCarry  = 5
)

// guestInputs is how many elements the guest cycles through.
const guestInputs = 64

var ops = []struct {
	name string
	op   int32
}{{"mul", opMul}, {"square", opSquare}, {"add", opAdd}, {"sub", opSub}, {"add+carry", opCarry}}

var impls = []struct {
	name string
	impl int32
}{{"fe10", impl10}, {"fe51", impl51}, {"fe51-inline", impl51in}}

// supported reports whether impl has op (the inline 51-bit baseline has
// only Mul and Square).
func supported(impl, op int32) bool {
	return impl != impl51in || op == opMul || op == opSquare
}

// here is this package's source directory.
func here() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

var (
	guestOnce  sync.Once
	guestBytes []byte
	guestErr   error
)

// buildGuest compiles testdata/guest as tests/bench builds its bare guest
// (wasip1, c-shared, -trimpath), cached in the user cache by source hash.
func buildGuest(tb testing.TB) []byte {
	guestOnce.Do(func() { guestBytes, guestErr = compileGuest() })
	if guestErr != nil {
		tb.Fatal(guestErr)
	}
	return guestBytes
}

func compileGuest() ([]byte, error) {
	return guestbuild.Build(guestbuild.Spec{Name: "fieldexp", Dir: filepath.Join(here(), "testdata", "guest"),
		Sources: []string{filepath.Join(here(), "testdata", "guest", "*.go"), filepath.Join(here(), "*.go")}})
}

// guest is one instance of testdata/guest with its inputs loaded.
type guest struct {
	rt  wazero.Runtime
	mod api.Module
	run api.Function
}

// newRuntime configures wazero as tests/bench does for its bare guests:
// default engine, hostsim's memory limit, no context-done checks.
func newRuntime(ctx context.Context) wazero.Runtime {
	return wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithMemoryLimitPages(16384).WithCloseOnContextDone(false))
}

// instantiate starts a wasip1 reactor in a fresh runtime.
func instantiate(ctx context.Context, wasm []byte) (wazero.Runtime, api.Module, error) {
	rt := newRuntime(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, nil, err
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		rt.Close(ctx)
		return nil, nil, err
	}
	return rt, mod, nil
}

// writeBuf copies p into a fresh guest buffer and returns its address.
func writeBuf(ctx context.Context, mod api.Module, p []byte) (uint64, error) {
	res, err := mod.ExportedFunction("buf").Call(ctx, uint64(len(p)))
	if err != nil {
		return 0, err
	}
	if !mod.Memory().Write(uint32(res[0]), p) {
		return 0, errors.New("fieldexp: guest buffer outside memory")
	}
	return res[0], nil
}

// inputs are the encodings every measurement starts from, the same for
// both implementations, natively and in the guest.
func inputs() [][32]byte {
	r := rand.New(rand.NewPCG(2, 55))
	in := make([][32]byte, guestInputs)
	for i := range in {
		for j := range in[i] {
			in[i][j] = byte(r.Uint32())
		}
		in[i][31] &= 0x7f
	}
	return in
}

func newGuest(ctx context.Context, tb testing.TB) *guest {
	rt, mod, err := instantiate(ctx, buildGuest(tb))
	if err != nil {
		tb.Fatal(err)
	}
	var all []byte
	for _, e := range inputs() {
		all = append(all, e[:]...)
	}
	if _, err := writeBuf(ctx, mod, all); err != nil {
		tb.Fatal(err)
	}
	if res, err := mod.ExportedFunction("load").Call(ctx); err != nil || res[0] != 1 {
		tb.Fatalf("guest load failed (%v)", err)
	}
	tb.Cleanup(func() { rt.Close(ctx) })
	return &guest{rt: rt, mod: mod, run: mod.ExportedFunction("run")}
}

// call runs iters operations in the guest and returns the encoding of the
// last result.
func (g *guest) call(ctx context.Context, impl, op int32, iters int) ([32]byte, error) {
	var out [32]byte
	res, err := g.run.Call(ctx, uint64(impl), uint64(op), uint64(iters))
	if err != nil {
		return out, err
	}
	b, ok := g.mod.Memory().Read(uint32(res[0]), 32)
	if res[0] == 0 || !ok {
		return out, fmt.Errorf("fieldexp: guest run(%d, %d) failed", impl, op)
	}
	copy(out[:], b)
	return out, nil
}

// TestGuestAgrees runs every operation in the guest with both
// implementations and natively with Element: all three results must be the
// same canonical encoding, so the Wasm build computes what the native one
// (checked against math/big) does.
func TestGuestAgrees(t *testing.T) {
	ctx := context.Background()
	g := newGuest(ctx, t)
	for _, o := range ops {
		for _, iters := range []int{1, 7, 1000} {
			t.Run(fmt.Sprintf("%s/%d", o.name, iters), func(t *testing.T) {
				want := nativeRun10(o.op, iters)
				for _, im := range impls {
					if !supported(im.impl, o.op) {
						continue
					}
					got, err := g.call(ctx, im.impl, o.op, iters)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("%s in wasm = %x, native fe10 = %x", im.name, got, want)
					}
				}
			})
		}
	}
}

// nativeRun10 is the guest's run10, natively.
func nativeRun10(op int32, iters int) [32]byte {
	var a, s [guestInputs]Element
	for i, e := range inputs() {
		a[i].SetBytes(e[:])
	}
	const m = guestInputs - 1
	x := a[0]
	last := &x
	switch op {
	case opMul:
		for i := range iters {
			x.Mul(&x, &a[i&m])
		}
	case opSquare:
		for range iters {
			x.Square(&x)
		}
	case opAdd, opSub, opCarry:
		for i := range iters {
			switch op {
			case opAdd:
				s[i&m].Add(&a[i&m], &a[(i+1)&m])
			case opSub:
				s[i&m].Sub(&a[i&m], &a[(i+1)&m])
			default:
				s[i&m].Add(&a[i&m], &a[(i+1)&m]).Carry()
			}
		}
		last = &s[(iters-1)&m]
	}
	return last.Bytes()
}
