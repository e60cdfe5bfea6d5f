package attacks

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
	"github.com/tokengate/tokengate/tests/attacks/panicky"
)

// buildPanicWasm builds testdata/panicwasm the way make wasm builds the
// module (wasip1, c-shared, then the Envoy compatibility pass).
func buildPanicWasm(t *testing.T) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wasm"), filepath.Join(dir, "panic.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", raw, "./tests/attacks/testdata/panicwasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	build.Stderr = &stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building the panic module: %v\n%s", err, stderr.String())
	}
	compat := exec.Command("go", "run", "./plugin/cmd/wasmcompat", "-in", raw, "-out", out)
	compat.Dir = root
	if b, err := compat.CombinedOutput(); err != nil {
		t.Fatalf("wasmcompat: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPanicContainmentWasm: in a build of the module whose providers panic
// on demand, each provider's panic (in verify, and in a callout's resume)
// refuses the request with 500 internal_error instead of trapping, the panic
// value is never logged, the VM is not marked failed, and the next request
// on the same VM is forwarded.
func TestPanicContainmentWasm(t *testing.T) {
	if _, err := fixture.Wasm(); err != nil {
		t.Fatal(err) // same contract as the other suites: make wasm first
	}
	if testing.Short() {
		t.Skip("builds a second module; skipped with -short")
	}
	wasm := buildPanicWasm(t)
	fx, err := fixture.Get()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := fx.NewServices()
	h, p, err := fx.Start(ctx, wasm, svc.HostConfig(fixture.T0), 2)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer h.Close(ctx)
	e := &env{t: t, fx: fx, svc: svc, host: h, plug: p, now: fixture.T0}
	routeOf := map[string]string{"keys": "k", "office": "ip", "codes": "rc", "tmp": "st", "jwt": "jwt", "az": "az",
		"sp": "sp", "hs": "hs", "sess": "sess", "intro": "intro"}
	for name, route := range routeOf {
		t.Run(name, func(t *testing.T) {
			for w := 0; w < 2; w++ {
				triggers := []string{"x-panic"}
				if route == "sess" || route == "intro" {
					triggers = append(triggers, "x-panic-resume")
				}
				for _, trig := range triggers {
					r := valid(e, route)
					r.Headers = append(r.Headers, [2]string{trig, name})
					res := e.sendT(t, w, r)
					if res.Outcome != hostsim.OutcomeLocalReply || res.Status != 500 || reason(res) != "internal_error" {
						t.Fatalf("%s on worker %d: %s, want 500 internal_error", trig, w, summary(res))
					}
					for _, l := range res.Logs {
						if strings.Contains(l.Message, panicky.Value) {
							t.Errorf("panic value logged: %q", l.Message)
						}
					}
					if failed, why := p.Worker(w).Failed(); failed {
						t.Fatalf("worker %d failed after a contained panic: %s", w, why)
					}
				}
				if route == "rc" {
					e.advance(30e9) // a fresh single-use code
				}
				if res := e.sendT(t, w, valid(e, route)); res.Outcome != hostsim.OutcomeForwarded {
					t.Fatalf("next request on worker %d: %s, want forwarded", w, summary(res))
				}
			}
		})
	}
}
