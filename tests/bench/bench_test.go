package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	suiteOnce sync.Once
	suite     *Suite
	suiteErr  error
)

// wasmPath is the built module; TOKENGATE_WASM overrides it.
func wasmPath() string {
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "build", "tokengate.wasm")
}

// getSuite builds the shared suite once. A missing module fails (make
// wasm builds it); it never skips.
func getSuite(tb testing.TB) *Suite {
	suiteOnce.Do(func() {
		wasm, err := os.ReadFile(wasmPath())
		if err != nil {
			suiteErr = err
			return
		}
		guest, err := BuildGuest()
		if err != nil {
			suiteErr = err
			return
		}
		suite, suiteErr = NewSuite(context.Background(), wasm, guest)
	})
	if suiteErr != nil {
		tb.Fatalf("bench suite: %v (run make wasm)", suiteErr)
	}
	return suite
}

// BenchmarkCost is every per-request measurement of the report:
// wasm/<scheme>, bare/<primitive>, native/<scheme>, golang-jwt/<alg>.
func BenchmarkCost(b *testing.B) {
	s := getSuite(b)
	for _, c := range s.Cases() {
		b.Run(c.Name(), c.Bench)
	}
}
