package fieldexp

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/tests/bench"
)

// build is one way of building the plugin: a name and go build flags.
type build struct {
	name  string
	flags []string
}

// buildPlugin builds the plugin as `make wasm` does (raw build, then the
// compatibility pass) with extra go build flags.
func buildPlugin(t testing.TB, flags ...string) []byte {
	t.Helper()
	root := filepath.Join(here(), "..", "..", "..")
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wasm"), filepath.Join(dir, "tokengate.wasm")
	args := append(append([]string{"build"}, flags...), "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", raw, "./plugin/cmd/tokengate-wasm")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin with %v: %v\n%s", flags, err, msg)
	}
	cmd = exec.Command("go", "run", "./plugin/cmd/wasmcompat", "-in", raw, "-out", out)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compatibility pass: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pluginRequests is how many requests of each case every build serves in
// BenchmarkPlugin (interleaved request by request).
const pluginRequests = 400

// BenchmarkPlugin answers what the alternatives would do for the gate
// itself: the plugin built four ways — as is ("go"), with -pgo from a
// native purego verify profile, and with each overlay — each in its own
// hostsim host configured as tests/bench configures it, with tests/bench's
// world (keys, configuration). The builds take turns request by request,
// so load from other processes falls on all alike, and for each case the
// fastest and the median request are reported (µs), with the median's
// speed-up over "go". Cases: a fresh EdDSA JWT per request (a pool of
// 2048, twice the verified-token cache, as tests/bench does) and the
// pass-through floor as a control that runs no field arithmetic.
func BenchmarkPlugin(b *testing.B) {
	ctx := context.Background()
	w, err := bench.NewWorld()
	if err != nil {
		b.Fatal(err)
	}
	builds := []build{
		{"go", nil},
		{"pgo", []string{"-pgo", verifyProfile(b)}},
		{"fe10", []string{"-overlay", writeOverlay(b, b.TempDir(), overlayFe10)}},
		{"fe51inline", []string{"-overlay", writeOverlay(b, b.TempDir(), overlayFe51Inline)}},
	}
	vms := make([]*hostsim.VM, len(builds))
	for i, bl := range builds {
		host, err := hostsim.New(ctx, buildPlugin(b, bl.flags...), w.HostConfig())
		if err != nil {
			b.Fatal(err)
		}
		defer host.Close(ctx)
		p, err := host.StartPlugin(ctx, hostsim.PluginConfig{Configuration: w.Config, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		vms[i] = p.Worker(0)
	}
	pool := make([]hostsim.Request, 2048)
	for i := range pool {
		pool[i] = pluginRequest("/jwted/x", [2]string{"authorization", "Bearer " + w.JWT(w.Ed, "EdDSA", bench.T0)})
	}
	cases := []struct {
		name string
		next func(i int) hostsim.Request
	}{
		{"jwt-eddsa", func(i int) hostsim.Request { return pool[i%len(pool)] }},
		{"floor", func(int) hostsim.Request { return pluginRequest("/open/x") }},
	}
	for _, c := range cases {
		times := make([][]float64, len(builds))
		for i := range pluginRequests {
			r := c.next(i)
			for j, vm := range vms {
				start := time.Now()
				res := vm.HTTP(ctx, r)
				times[j] = append(times[j], float64(time.Since(start).Nanoseconds())/1e3)
				if res.Outcome != hostsim.OutcomeForwarded {
					b.Fatalf("%s with %s: %s %d %s", c.name, builds[j].name, res.Outcome, res.Status, res.Body)
				}
			}
		}
		base := median(times[0])
		for j, bl := range builds {
			b.ReportMetric(slices.Min(times[j]), c.name+"-"+bl.name+"-min-us")
			b.ReportMetric(median(times[j]), c.name+"-"+bl.name+"-median-us")
			if j > 0 {
				b.ReportMetric(math.Round(100*base/median(times[j]))/100, c.name+"-speedup-"+bl.name)
			}
		}
	}
}

// pluginRequest is a request as tests/bench sends them.
func pluginRequest(path string, headers ...[2]string) hostsim.Request {
	return hostsim.Request{Method: "GET", Path: path, Authority: bench.Authority, Headers: headers,
		SourceAddress: "10.1.2.3:40000"}
}

// median returns the middle of xs (sorted copy).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
