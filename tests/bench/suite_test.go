package bench

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// TestSourcesForward: every wasm scheme's request is let through by the
// built module, so no benchmark measures a refusal path.
func TestSourcesForward(t *testing.T) {
	s := getSuite(t)
	vm := s.plugin.Worker(0)
	for _, src := range s.sources() {
		t.Run(src.scheme, func(t *testing.T) {
			for i := 0; i < 2; i++ { // twice: a cache-hit scheme must pass on its second send too
				r := src.next(T0)
				if res := vm.HTTP(context.Background(), r); res.Outcome != hostsim.OutcomeForwarded {
					t.Fatalf("%s %s: %s %d %s", r.Method, r.Path, res.Outcome, res.Status, res.Body)
				}
			}
		})
	}
}

// TestReusedJWTHitsTheCache: the cache-hit case is one: sending the same
// token again adds a hit and no miss.
func TestReusedJWTHitsTheCache(t *testing.T) {
	s := getSuite(t)
	metric := func(name string) int64 {
		m, _ := s.Host().Metric(name)
		return m.Value
	}
	r := s.source("jwt-reused")(T0)
	vm := s.plugin.Worker(0)
	vm.HTTP(context.Background(), r)
	hits, misses := metric("tokengate.jwt_ed.cache_hit"), metric("tokengate.jwt_ed.cache_miss")
	if res := vm.HTTP(context.Background(), r); res.Outcome != hostsim.OutcomeForwarded {
		t.Fatalf("refused: %d %s", res.Status, res.Body)
	}
	if got := metric("tokengate.jwt_ed.cache_hit"); got != hits+1 {
		t.Errorf("cache hits %d -> %d, want one more", hits, got)
	}
	if got := metric("tokengate.jwt_ed.cache_miss"); got != misses {
		t.Errorf("cache misses %d -> %d, want none", misses, got)
	}
}

// TestMemRunSmall: the memory run on a few hundred requests forwards all of
// them, sees both worker VMs' memories and counts single-use entries
// within the configured bound.
func TestMemRunSmall(t *testing.T) {
	s := getSuite(t)
	pts, err := s.MemRun(context.Background(), []int{220, 440})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 {
		t.Fatalf("%d checkpoints", len(pts))
	}
	last := pts[1]
	if last.Refused != 0 {
		t.Errorf("%d requests refused", last.Refused)
	}
	if len(last.LinearMemory) != 2 || last.LinearMemory[0] == 0 || last.LinearMemory[1] == 0 {
		t.Errorf("linear memories %v, want two worker VMs", last.LinearMemory)
	}
	total := 0
	for _, n := range last.ReplayEntries {
		total += n
	}
	// Two of the eleven mixed requests carry a single-use value, and none
	// expires this early.
	if want := 2 * 440 / 11; total != want {
		t.Errorf("replay entries %v, want %d in total", last.ReplayEntries, want)
	}
}

// TestProfileSeesTheGuest: the profile of a fresh EdDSA JWT names the
// filter's callback, the signature check and the host function that hands
// over the headers, and the pprof file is written.
func TestProfileSeesTheGuest(t *testing.T) {
	s := getSuite(t)
	dir := t.TempDir()
	gs, err := s.Profile(context.Background(), []string{"jwt-eddsa"}, 3, dir)
	if err != nil {
		t.Fatal(err)
	}
	g := gs["jwt-eddsa"]
	seen := map[string]bool{}
	for _, f := range g.Functions {
		for _, w := range []string{"github.com_tokengate_tokengate_plugin_filter.", "filippo.io_edwards25519.", "env.proxy_get_header_map_pairs"} {
			if strings.HasPrefix(f.Name, w) && f.Calls > 0 {
				seen[w] = true
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("profile names only %v", seen)
	}
	if _, err := os.Stat(g.Pprof); err != nil {
		t.Errorf("pprof file: %v", err)
	}
}

// TestFreshCasesMiss: a fresh-credential case never hits the verified-token
// cache, even though testing.Benchmark calls it several times.
func TestFreshCasesMiss(t *testing.T) {
	s := getSuite(t)
	for _, c := range s.Cases() {
		if c.Name() != "wasm/jwt-es256" {
			continue
		}
		for i := 0; i < 3; i++ {
			if r := testing.Benchmark(c.Bench); r.N == 0 {
				t.Fatal("benchmark failed")
			}
		}
	}
	if m, _ := s.Host().Metric("tokengate.jwt_es.cache_hit"); m.Value != 0 {
		t.Errorf("%d cache hits in a fresh-credential case", m.Value)
	}
}

// TestSourceFetchedOnlyWhenUsed: the filter asks the host for
// source.address only when a rule or provider looks at the client address
// (the pass-through floor does not, the IP rule does), since the fetch is a
// hostcall plus a guest allocation on every request.
func TestSourceFetchedOnlyWhenUsed(t *testing.T) {
	s := getSuite(t)
	ctx := context.Background()
	h, err := hostsim.New(ctx, s.Wasm, s.W.HostConfig().WithTranscript(true).WithCompilationCache(s.Cache))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: s.W.Config, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	vm := p.Worker(0)
	for scheme, want := range map[string]bool{"floor": false, "jwt-reused": false, "ip-rule": true} {
		vm.Transcript() // drop earlier calls
		if res := vm.HTTP(ctx, s.source(scheme)(T0)); res.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("%s: %s %d", scheme, res.Outcome, res.Status)
		}
		got := false
		for _, c := range vm.Transcript() {
			got = got || c.Name == "proxy_get_property"
		}
		if got != want {
			t.Errorf("%s: source.address fetched = %v, want %v", scheme, got, want)
		}
	}
}
