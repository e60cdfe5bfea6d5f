// Package oracle is tokengate's differential soak: a seeded stream of mixed
// requests (valid credentials for every provider, broken ones, path tricks,
// foreign addresses, time jumps, failing auth services) goes through the
// built module (build/tokengate.wasm) on two worker VMs in hostsim, and each
// request's decision is compared with a reference computed natively from
// the same configuration: plugin/config.Parse and plugin/policy, with an
// in-memory shared store and the same auth services.
//
// The two sides share the configuration document, the clock and the
// services, nothing else: the wasm side runs the filter, the ABI binding and
// the host's shared data; the native side calls the policy directly. A
// disagreement means one of those layers decides differently from the
// policy it wraps.
//
// `make test` runs 100,000 requests; `make soak` runs TOKENGATE_SOAK
// (1,000,000) and writes tests/RESULTS.md with the figures.
package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// decision is what both sides agree on: forwarded, or refused with a
// status and a reason.
type decision struct {
	Allow  bool
	Status int
	Reason string
}

func (d decision) String() string {
	if d.Allow {
		return "forwarded"
	}
	return strconv.Itoa(d.Status) + " " + d.Reason
}

// native is the reference: the configuration parsed natively and evaluated
// with the policy, against the same services the wasm side calls.
type native struct {
	cfg *config.Config
	svc *fixture.Services
}

func newNative(t testing.TB, fx *fixture.Fixture, svc *fixture.Services) *native {
	cfg, _, err := config.Parse(fx.Config, nil, provider.Deps{Shared: &provider.MemSharedData{}})
	if err != nil {
		t.Fatalf("native parse: %v", err)
	}
	return &native{cfg: cfg, svc: svc}
}

func (n *native) decide(r hostsim.Request, now time.Time) decision {
	req := &provider.Request{Method: r.Method, Authority: r.Authority, RawPath: r.Path, Now: now.UnixNano()}
	req.Headers = append(req.Headers,
		provider.Header{Name: ":authority", Value: r.Authority}, provider.Header{Name: ":path", Value: r.Path},
		provider.Header{Name: ":method", Value: r.Method}, provider.Header{Name: ":scheme", Value: "http"})
	var xff []string
	for _, h := range r.Headers {
		name := strings.ToLower(h[0])
		req.Headers = append(req.Headers, provider.Header{Name: name, Value: h[1]})
		if name == "x-forwarded-for" {
			xff = append(xff, h[1])
		}
	}
	if src, err := iprule.ClientAddress(r.SourceAddress, xff, n.cfg.TrustedXFFHops); err == nil {
		req.Source = src
	}
	ev := n.cfg.Policy.Start(req)
	for !ev.Done() {
		call := ev.Callout()
		if call == nil {
			break
		}
		ev.Resume(n.call(call))
	}
	v := ev.Verdict()
	if v.Allow {
		return decision{Allow: true}
	}
	return decision{Status: v.Status(), Reason: string(v.Reason)}
}

// call makes a callout natively, straight into the service's handler.
func (n *native) call(c *provider.Callout) *provider.CalloutResponse {
	var method, path, authority string
	hdr := http.Header{}
	for _, h := range c.Headers {
		switch h.Name {
		case ":method":
			method = h.Value
		case ":path":
			path = h.Value
		case ":authority":
			authority = h.Value
		default:
			hdr.Add(h.Name, h.Value)
		}
	}
	hr := httptest.NewRequest(method, "http://"+authority+path, bytes.NewReader(c.Body))
	hr.Header = hdr
	rec := httptest.NewRecorder()
	n.svc.Handler(c.Cluster).ServeHTTP(rec, hr)
	resp := &provider.CalloutResponse{Status: rec.Code, Body: rec.Body.Bytes()}
	for k, vs := range rec.Header() {
		for _, v := range vs {
			resp.Headers = append(resp.Headers, provider.Header{Name: strings.ToLower(k), Value: v})
		}
	}
	return resp
}

func wasmDecision(r *hostsim.Result) decision {
	if r.Outcome == hostsim.OutcomeForwarded {
		return decision{Allow: true}
	}
	var b struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return decision{Status: r.Status, Reason: b.Error}
}

// soakCount is the number of requests: TOKENGATE_SOAK, else 100,000
// (3,000 with -short).
func soakCount(t *testing.T) int {
	if v := os.Getenv("TOKENGATE_SOAK"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TOKENGATE_SOAK=%q is not a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 3000
	}
	return 100000
}

// figures are the soak's results, written to tests/RESULTS.md by make soak.
type figures struct {
	Profile                                hostsim.Profile
	Failed                                 bool
	Requests, Disagreements, Traps, Faults int
	Cases                                  map[string]int
	Outcomes                               map[string]int
	HeapBefore, HeapAfter                  uint64
	SharedKeys                             int
	Elapsed                                time.Duration
	Seed                                   uint64
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// soakProfiles are the Envoy generations the soak runs on: the fleet default
// (1.33–1.39, where poll_oneoff fails) and current Envoy.
var soakProfiles = []hostsim.Profile{hostsim.ProfileEnvoy133, hostsim.ProfileEnvoyCurrent}

// TestSoak is the differential run, once per profile in soakProfiles.
func TestSoak(t *testing.T) {
	var all []figures
	for _, p := range soakProfiles {
		t.Run(string(p), func(t *testing.T) {
			f := runSoak(t, p)
			f.Failed = t.Failed()
			all = append(all, f)
		})
	}
	if os.Getenv("TOKENGATE_SOAK") != "" {
		if err := writeResults(all); err != nil {
			t.Errorf("RESULTS.md: %v", err)
		}
	}
}

func runSoak(t *testing.T, profile hostsim.Profile) figures {
	fx, err := fixture.Get()
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := fixture.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	fx.SkipMinted = true
	n := soakCount(t)
	seed := uint64(20261123)
	if v := os.Getenv("TOKENGATE_SOAK_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	ctx := context.Background()
	svc := fx.NewServices()
	cache := wazero.NewCompilationCache()
	defer cache.Close(ctx)
	// Warn level, as Istio runs: per-refusal info lines would make the
	// run about log volume. The leak scan still sees every warning.
	hc := svc.HostConfig(fixture.T0).WithCompilationCache(cache).WithLogLevel(hostsim.LogWarn).WithProfile(profile)
	host, plug, err := fx.Start(ctx, wasm, hc, 2)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer host.Close(ctx)
	ref := newNative(t, fx, svc)
	g := newGen(fx, seed)
	f := figures{Profile: profile, Requests: n, Cases: map[string]int{}, Outcomes: map[string]int{}, Seed: seed}
	start := time.Now()
	deadline, hasDeadline := t.Deadline()
	warm := min(2000, n/10)
	leaks := 0
	for i := 0; i < n; i++ {
		if i == warm {
			f.HeapBefore = heapInUse()
		}
		if hasDeadline && i%1000 == 0 && time.Until(deadline) < 30*time.Second {
			t.Fatalf("stopped after %d of %d requests: the test deadline is near (run with a larger -timeout or a smaller TOKENGATE_SOAK)", i, n)
		}
		st := g.next(host.Now())
		if st.advance > 0 {
			host.Advance(ctx, st.advance)
		}
		if st.fault != "" {
			svc.SetMode(st.faultCluster, st.fault)
			f.Faults++
		}
		now := host.Now()
		want := ref.decide(st.req, now)
		res := plug.Worker(i%2).HTTP(ctx, st.req)
		if st.fault != "" {
			svc.SetMode(st.faultCluster, "")
		}
		f.Cases[st.kind]++
		if res.Outcome == hostsim.OutcomeTrap {
			f.Traps++
			t.Errorf("request %d (%s): trap %s", i, st.kind, res.Trap)
			continue
		}
		got := wasmDecision(res)
		f.Outcomes[got.String()]++
		if got != want {
			f.Disagreements++
			if f.Disagreements <= 20 {
				t.Errorf("request %d (%s, worker %d, %s %s): wasm %s, native %s", i, st.kind, i%2, st.req.Method, st.req.Path, got, want)
			}
		}
		if i%10 == 0 || !got.Allow {
			var creds []string
			for _, h := range st.req.Headers {
				if v := h[1]; len(v) >= 16 {
					if j := strings.LastIndexByte(v, ' '); j >= 0 && len(v)-j > 16 {
						v = v[j+1:] // the token of "Scheme token"
					}
					creds = append(creds, v)
				}
			}
			for _, l := range fx.Scan.ResultWith(st.kind, res, creds) {
				leaks++
				if leaks <= 5 {
					t.Errorf("request %d: secret leak: %s", i, l)
				}
			}
		}
	}
	f.HeapAfter = heapInUse()
	f.Elapsed = time.Since(start)
	f.SharedKeys = len(host.SharedDataKeys(""))
	for _, l := range fx.Scan.Logs("host", host.Logs()) {
		t.Errorf("secret leak: %s", l)
	}
	for w := 0; w < 2; w++ {
		if failed, why := plug.Worker(w).Failed(); failed {
			t.Errorf("worker %d failed: %s", w, why)
		}
	}
	// Memory flat: the guests' linear memories live in the Go heap, so a
	// leak in either VM grows it. Allow slack for caches filling up.
	const slack = 48 << 20
	if f.HeapAfter > f.HeapBefore+slack {
		t.Errorf("heap grew from %d to %d bytes over the soak", f.HeapBefore, f.HeapAfter)
	}
	t.Logf("%d requests in %s: %d disagreements, %d traps, %d faults, %d case kinds; heap %d → %d; outcomes %v",
		n, f.Elapsed.Round(time.Millisecond), f.Disagreements, f.Traps, f.Faults, len(f.Cases), f.HeapBefore, f.HeapAfter, f.Outcomes)
	return f
}

func writeResults(all []figures) error {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "RESULTS.md")
	var b strings.Builder
	b.WriteString("# Differential soak results\n\nWritten by `make soak` (tests/oracle TestSoak), once per Envoy profile.\n\n")
	for _, f := range all {
		writeProfileResults(&b, f)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func writeProfileResults(b *strings.Builder, f figures) {
	verdict := "PASS"
	if f.Failed {
		verdict = "FAIL"
	}
	fmt.Fprintf(b, "## Profile %s: %s\n\n", f.Profile, verdict)
	fmt.Fprintf(b, "The built module ran on two hostsim worker VMs (%s profile); every decision was compared\n", f.Profile)
	fmt.Fprintf(b, "with plugin/config + plugin/policy evaluated natively on the same configuration, clock and services.\n\n")
	fmt.Fprintf(b, "| Figure | Value |\n| --- | --- |\n")
	fmt.Fprintf(b, "| Requests run | %d |\n| Case kinds tried | %d |\n| Faults injected (auth service 5xx or garbage) | %d |\n", f.Requests, len(f.Cases), f.Faults)
	fmt.Fprintf(b, "| Disagreements | %d |\n| Traps | %d |\n", f.Disagreements, f.Traps)
	fmt.Fprintf(b, "| Go heap in use before (after warm-up) | %d bytes |\n| Go heap in use after | %d bytes |\n", f.HeapBefore, f.HeapAfter)
	fmt.Fprintf(b, "| Shared-data keys at the end | %d |\n| Seed | %d |\n| Wall time | %s |\n\n", f.SharedKeys, f.Seed, f.Elapsed.Round(time.Second))
	b.WriteString("The guests' linear memories are allocated in the Go heap, so the heap figures bound both VMs' growth.\n\n")
	b.WriteString("### Requests per case kind\n\n| Case | Requests |\n| --- | --- |\n")
	for _, k := range sortedKeys(f.Cases) {
		fmt.Fprintf(b, "| %s | %d |\n", k, f.Cases[k])
	}
	b.WriteString("\n### Decisions\n\n| Decision | Requests |\n| --- | --- |\n")
	for _, k := range sortedKeys(f.Outcomes) {
		fmt.Fprintf(b, "| %s | %d |\n", k, f.Outcomes[k])
	}
	b.WriteString("\n")
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
