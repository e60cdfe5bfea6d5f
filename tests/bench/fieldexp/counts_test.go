package fieldexp

import (
	"context"
	"sort"
	"testing"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/tokengate/tokengate/tests/bench"
)

// The 51-bit field's multiply and square, by the name Go gives them in the
// module's name section (import path with '/' and '.' mangled to '_').
const (
	feMulName    = "crypto_internal_fips140_edwards25519_field.feMulGeneric"
	feSquareName = "crypto_internal_fips140_edwards25519_field.feSquareGeneric"
)

// callCounter counts calls per function name into a map.
type callCounter map[string]int

func (c callCounter) Before(_ context.Context, _ api.Module, def api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	c[def.Name()]++
}
func (callCounter) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}
func (callCounter) Abort(context.Context, api.Module, api.FunctionDefinition, error)    {}

// verifyCallCounts runs one ed25519.Verify in tests/bench's bare guest with
// a listener on every function and returns the calls made
// during that one verification.
func verifyCallCounts(t testing.TB) callCounter {
	t.Helper()
	wasm, err := bench.BuildGuest()
	if err != nil {
		t.Fatal(err)
	}
	counts := callCounter{}
	listen := experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
		return counts
	})
	ctx := experimental.WithFunctionListenerFactory(context.Background(), listen)
	rt, mod, err := instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	pub, msg, sig := ed25519Input()
	args := []uint64{bench.BareEd25519}
	for _, p := range [][]byte{pub, msg, sig} {
		ptr, err := writeBuf(ctx, mod, p)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, ptr, uint64(len(p)))
	}
	if res, err := mod.ExportedFunction("setup").Call(ctx, args...); err != nil || res[0] != 1 {
		t.Fatalf("bare setup failed (%v)", err)
	}
	// The first Verify also builds the base point's lookup table (a
	// sync.Once with 64 inversions); count a later, steady-state one.
	for range 2 {
		clear(counts)
		if res, err := mod.ExportedFunction("run").Call(ctx); err != nil || res[0] != 1 {
			t.Fatalf("bare verify failed (%v)", err)
		}
	}
	return counts
}

// TestVerifyCallCounts measures how many field operations one
// ed25519.Verify performs in the plugin's runtime (the estimate in
// README.md rests on them; run with -v to see them all). Calls that the
// compiler inlined are not seen, so the test asserts only that the
// multiplications and squarings, which are never inlined, are there in
// the order of magnitude a double-scalar multiplication needs.
func TestVerifyCallCounts(t *testing.T) {
	counts := verifyCallCounts(t)
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return counts[names[i]] > counts[names[j]] })
	for _, name := range names {
		t.Logf("%7d %s", counts[name], name)
	}
	for _, f := range []string{feMulName, feSquareName} {
		if n := counts[f]; n < 500 || n > 5000 {
			t.Errorf("%s called %d times in one verify, want 500..5000", f, n)
		}
	}
}
