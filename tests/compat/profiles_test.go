package compat

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// envoyProfiles are the Envoy versions the module must run on.
var envoyProfiles = []hostsim.Profile{hostsim.ProfileEnvoy132, hostsim.ProfileEnvoy133, hostsim.ProfileEnvoyCurrent}

// summary is what a request's result must agree on across hosts.
type summary struct {
	Outcome hostsim.Outcome
	Status  int
	Details string
	Body    string
	Headers string
}

func summarize(r *hostsim.Result) summary {
	var h strings.Builder
	for _, kv := range r.Headers {
		h.WriteString(kv[0] + ": " + kv[1] + "\n")
	}
	return summary{Outcome: r.Outcome, Status: r.Status, Details: r.Details, Body: string(r.Body), Headers: h.String()}
}

// run is everything one module did on one profile.
type run struct {
	loadErr  error
	startErr error
	results  []summary
	trapAt   int    // index of the first trapped request, -1 if none
	trapLogs string // logs of that request, joined
	trap     string
}

// subject is one module with its configuration and request suite.
type subject struct {
	name   string
	config []byte
	suite  []hostsim.Request
}

// seededRandom makes WASI random_get reproducible, so runs can be compared.
func seededRandom() *rand.ChaCha8 {
	var seed [32]byte
	copy(seed[:], "tokengate compat profile tests!!")
	return rand.NewChaCha8(seed)
}

// runSuite loads wasm on profile, starts the plugin with two workers (plus
// the base and canary VMs hostsim starts, as Envoy does) and sends every
// request of the suite to worker 0, then one more to worker 1.
func runSuite(t *testing.T, wasm []byte, profile hostsim.Profile, s subject) run {
	t.Helper()
	ctx := context.Background()
	out := run{trapAt: -1}
	h, err := hostsim.New(ctx, wasm, hostConfig(profile).WithRandom(seededRandom()).
		WithLogLevel(hostsim.LogInfo))
	if err != nil {
		out.loadErr = err
		return out
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: s.name, Configuration: s.config, Workers: 2})
	if err != nil {
		out.startErr = err
		return out
	}
	reqs := append(append([]hostsim.Request(nil), s.suite...), s.suite[0])
	for i, req := range reqs {
		w := p.Worker(0)
		if i == len(reqs)-1 {
			w = p.Worker(1)
		}
		r := w.HTTP(ctx, req)
		out.results = append(out.results, summarize(r))
		if r.Outcome == hostsim.OutcomeTrap && out.trapAt < 0 {
			out.trapAt, out.trap = i, r.Trap
			var logs strings.Builder
			for _, l := range r.Logs {
				logs.WriteString(l.Message)
			}
			out.trapLogs = logs.String()
		}
	}
	return out
}

// guestSuite mixes local replies, forwarded requests, large allocations
// and large header values (which the host copies into memory obtained from
// the guest's malloc), long enough to pass several GC cycles.
func guestSuite(n int) []hostsim.Request {
	var reqs []hostsim.Request
	for i := 0; i < n; i++ {
		r := hostsim.Request{Method: "GET", Authority: "guest.test", Path: "/reply"}
		switch i % 5 {
		case 1:
			r.Path = "/size/" + strconv.Itoa(1+i%7000)
		case 2:
			r.Path = "/forward"
			r.Headers = [][2]string{{"x-size", strconv.Itoa(64 << 10)}}
		case 3:
			r.Path = "/forward"
			r.Headers = [][2]string{{"x-pad", strings.Repeat("p", 32<<10)}}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func guestSubject(n int) subject { return subject{name: "guest", suite: guestSuite(n)} }

func pluginSubject(t *testing.T) subject {
	cfg, err := os.ReadFile(filepath.Join("testdata", "tokengate-config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []hostsim.Request
	for i := 0; i < 300; i++ {
		r := hostsim.Request{Method: "GET", Authority: "api.test", SourceAddress: "10.1.2.3:40000",
			DestinationAddress: "10.0.0.1:10000"}
		switch i % 4 {
		case 0:
			r.Path = "/healthz"
		case 1:
			r.Path = "/api/orders/" + strconv.Itoa(i)
		case 2:
			r.Path = "/api/orders"
			r.SourceAddress = "192.0.2.7:40000" // outside the allow list
		case 3:
			r.Path = "/elsewhere"
			r.Headers = [][2]string{{"x-pad", strings.Repeat("q", 16<<10)}}
		}
		reqs = append(reqs, r)
	}
	return subject{name: "tokengate", config: cfg, suite: reqs}
}

// missingImport reports whether err is hostsim's (Envoy's) load failure
// naming one of the WASI functions Envoy ≤1.32 lacks.
func missingImport(err error) bool {
	if !errors.Is(err, hostsim.ErrLoad) {
		return false
	}
	for _, n := range []string{"poll_oneoff", "sched_yield", "fd_fdstat_set_flags"} {
		if strings.Contains(err.Error(), "missing import: wasi_snapshot_preview1."+n) {
			return true
		}
	}
	return false
}

// pollOneoffFailure reports whether a trap is one of the two ways Envoy
// 1.33–1.39 kills a Go module: the runtime's "poll_oneoff failed" throw
// (the host answered ENOSYS), or, when the GC runs inside the host-called
// malloc, the restricted-call trap on poll_oneoff.
func pollOneoffFailure(trap, logs string) bool {
	return strings.Contains(logs, "poll_oneoff failed") && strings.Contains(trap, "runtime.netpoll") ||
		strings.Contains(trap, "restricted_callback: poll_oneoff may not be called during the allocator")
}

// sameResults fails the test when two runs differ, naming the first
// differing request.
func sameResults(t *testing.T, what string, want, got run) {
	t.Helper()
	if len(got.results) != len(want.results) {
		t.Fatalf("%s: %d results, want %d", what, len(got.results), len(want.results))
	}
	for i := range want.results {
		if got.results[i] != want.results[i] {
			t.Fatalf("%s: request %d differs:\n got %+v\nwant %+v", what, i, got.results[i], want.results[i])
		}
	}
}

func healthy(t *testing.T, what string, r run) {
	t.Helper()
	if r.loadErr != nil || r.startErr != nil {
		t.Fatalf("%s: load: %v; start: %v", what, r.loadErr, r.startErr)
	}
	if r.trapAt >= 0 {
		t.Fatalf("%s: request %d trapped: %s\n%s", what, r.trapAt, r.trap, r.trapLogs)
	}
}

// TestGuestProfiles: the raw guest fails on envoy-1.32 (load) and
// envoy-1.33 (poll_oneoff throw) exactly as Envoy does; the rewritten guest
// passes everywhere with identical results, which also equal the raw
// guest's on the hosts where it works.
func TestGuestProfiles(t *testing.T) {
	raw, rewritten := guestModules(t)
	s := guestSubject(600)
	ref := runSuite(t, rewritten, hostsim.ProfileFullWASI, s)
	healthy(t, "rewritten on full-wasi", ref)

	t.Run("raw/envoy-1.32", func(t *testing.T) {
		r := runSuite(t, raw, hostsim.ProfileEnvoy132, s)
		if !missingImport(r.loadErr) {
			t.Fatalf("want a load failure naming a missing WASI import, got load %v start %v", r.loadErr, r.startErr)
		}
	})
	t.Run("raw/envoy-1.33", func(t *testing.T) {
		r := runSuite(t, raw, hostsim.ProfileEnvoy133, s)
		if r.loadErr != nil || r.startErr != nil {
			t.Fatalf("raw module should load and start on 1.33 (the crash comes later): %v %v", r.loadErr, r.startErr)
		}
		if !pollOneoffFailure(r.trap, r.trapLogs) {
			t.Fatalf("want a poll_oneoff failure, got trap at %d: %s", r.trapAt, r.trap)
		}
		// Before the trap, the results agree with the working module.
		for i := 0; i < r.trapAt; i++ {
			if r.results[i] != ref.results[i] {
				t.Fatalf("request %d before the trap differs: %+v vs %+v", i, r.results[i], ref.results[i])
			}
		}
		// After it, the VM is failed and Envoy answers 503 (FAIL_CLOSED).
		if next := r.results[r.trapAt+1]; next.Status != 503 || next.Details != "wasm_fail_stream" {
			t.Errorf("request after the trap: %+v, want 503 wasm_fail_stream", next)
		}
		t.Logf("raw guest trapped at request %d of %d: %s", r.trapAt, len(r.results), firstLine(r.trap))
	})
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoyCurrent, hostsim.ProfileFullWASI} {
		t.Run("raw/"+string(p), func(t *testing.T) {
			r := runSuite(t, raw, p, s)
			healthy(t, "raw", r)
			sameResults(t, "raw vs rewritten", ref, r)
		})
	}
	for _, p := range envoyProfiles {
		t.Run("rewritten/"+string(p), func(t *testing.T) {
			r := runSuite(t, rewritten, p, s)
			healthy(t, "rewritten", r)
			sameResults(t, "rewritten on "+string(p)+" vs full-wasi", ref, r)
		})
	}
}

// TestPluginProfiles runs the plugin itself through the same matrix. The
// reference is the raw plugin on envoy-current, where it works; each
// rewritten run starts two workers plus canary and base VM, so the
// start-up allow-list of every Envoy version is exercised too.
func TestPluginProfiles(t *testing.T) {
	raw, rewritten := pluginModules(t)
	s := pluginSubject(t)
	ref := runSuite(t, raw, hostsim.ProfileEnvoyCurrent, s)
	healthy(t, "raw on envoy-current", ref)
	statuses := map[int]int{}
	for _, r := range ref.results {
		statuses[r.Status]++
	}
	if len(statuses) < 2 {
		t.Fatalf("the suite should see both allowed and refused requests, got statuses %v", statuses)
	}
	t.Run("raw/envoy-1.32", func(t *testing.T) {
		t.Parallel()
		r := runSuite(t, raw, hostsim.ProfileEnvoy132, s)
		if !missingImport(r.loadErr) {
			t.Fatalf("want a load failure naming a missing WASI import, got load %v start %v", r.loadErr, r.startErr)
		}
	})
	t.Run("raw/envoy-1.33", func(t *testing.T) {
		t.Parallel()
		r := runSuite(t, raw, hostsim.ProfileEnvoy133, s)
		switch {
		case r.loadErr != nil || r.startErr != nil:
			t.Fatalf("raw plugin should load and start on 1.33: %v %v", r.loadErr, r.startErr)
		case r.trapAt >= 0 && !pollOneoffFailure(r.trap, r.trapLogs):
			t.Fatalf("raw plugin trapped for another reason at %d: %s", r.trapAt, r.trap)
		case r.trapAt >= 0:
			t.Logf("raw plugin died at request %d: %s", r.trapAt, firstLine(r.trap))
		default:
			// No runtime timer armed in this suite, so its GC never polls;
			// TestGuestProfiles shows what happens once anything does.
			sameResults(t, "raw vs rewritten", ref, r)
			t.Logf("raw plugin survived this suite on envoy-1.33 (no runtime timer armed)")
		}
	})
	for _, p := range envoyProfiles {
		t.Run("rewritten/"+string(p), func(t *testing.T) {
			t.Parallel()
			r := runSuite(t, rewritten, p, s)
			healthy(t, "rewritten", r)
			sameResults(t, "rewritten on "+string(p)+" vs raw on envoy-current", ref, r)
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
