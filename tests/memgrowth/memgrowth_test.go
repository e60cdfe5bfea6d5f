// Package memgrowth reproduces the worker-VM memory growth seen once in the
// bench memory run with a slow clock (1000 requests per simulated second),
// where the replay store is full and refuses single-use credentials with
// replay_store_full. It measures each worker VM's linear memory through a
// wazero memory allocator hook and stops as soon as one grows past a limit.
//
// The run is long (hundreds of thousands of requests), so it only runs with
// TOKENGATE_MEMGROWTH=1.
package memgrowth

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/token"
	"github.com/tokengate/tokengate/tests/bench"
)

func req(path string, headers ...[2]string) hostsim.Request {
	return hostsim.Request{Method: "GET", Path: path, Authority: bench.Authority, Headers: headers,
		SourceAddress: "10.1.2.3:40000"}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestMemGrowthUnderFullReplayStore runs the bench memory mix with the slow
// clock and fails if a worker VM's linear memory grows past the limit.
func TestMemGrowthUnderFullReplayStore(t *testing.T) {
	if os.Getenv("TOKENGATE_MEMGROWTH") != "1" {
		t.Skip("long run: set TOKENGATE_MEMGROWTH=1")
	}
	wasm, err := os.ReadFile(filepath.Join("..", "..", "build", "tokengate.wasm"))
	if err != nil {
		t.Skipf("build the module first (make wasm): %v", err)
	}
	w, err := bench.NewWorld()
	if err != nil {
		t.Fatal(err)
	}
	requests := envInt("MEMGROWTH_REQUESTS", 1_000_000)
	step := time.Duration(envInt("MEMGROWTH_STEP_MS", 1000)) * time.Millisecond // per 1000 requests
	limit := envInt("MEMGROWTH_LIMIT_MIB", 64) << 20
	every := envInt("MEMGROWTH_EVERY", 1000)

	tr := &bench.MemTracker{}
	ctx := experimental.WithMemoryAllocator(context.Background(), tr)
	h, err := hostsim.New(ctx, wasm, w.HostConfig().WithLogLimit(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: w.Config, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	httpSig := func(now time.Time) hostsim.Request {
		s := &token.HTTPSigner{KeyID: "partner", Key: w.HSSecret, Nonce: true}
		hr, _ := http.NewRequest("GET", "http://"+bench.Authority+"/hsh/x", nil)
		must(s.Sign(hr, now))
		r := req("/hsh/x")
		for _, name := range []string{"Signature-Input", "Signature"} {
			r.Headers = append(r.Headers, [2]string{strings.ToLower(name), hr.Header.Get(name)})
		}
		return r
	}
	jwt := func(path string, now time.Time) hostsim.Request {
		return req(path, [2]string{"authorization", "Bearer " + w.JWT(w.Ed, "EdDSA", now)})
	}
	reused, reusedAt := jwt("/jwted/x", bench.T0), bench.T0
	mix := []struct {
		name string
		mk   func(now time.Time) hostsim.Request
	}{
		{"open", func(time.Time) hostsim.Request { return req("/open/x") }},
		{"apikey", func(time.Time) hostsim.Request { return req("/k/x", [2]string{"x-api-key", w.APIKey.Key}) }},
		{"ip", func(time.Time) hostsim.Request { return req("/ip/x") }},
		{"rolling", func(now time.Time) hostsim.Request {
			c, err := token.RollingCode(token.RollingConfig{Seed: w.RollingSeed}, now)
			must(err)
			return req("/rc/x", [2]string{"x-rolling-code-client", "billing"}, [2]string{"x-rolling-code", c})
		}},
		{"m2m", func(now time.Time) hostsim.Request {
			c, err := token.M2MCode(token.M2MConfig{Seed: w.M2MSeed, TTL: 30}, now)
			must(err)
			return req("/m2m/x", [2]string{"x-m2m-client", "legacy"}, [2]string{"x-m2m-code", c})
		}},
		{"scoped", func(now time.Time) hostsim.Request {
			s, err := token.ScopedToken(w.Django, token.ScopedClaims{User: 7, MaxAge: 3600,
				Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/st"}}}}, now, token.ScopedOptions{})
			must(err)
			return req("/st/x", [2]string{"authorization", "TmpToken " + s})
		}},
		{"jwt", func(now time.Time) hostsim.Request { return jwt("/jwted/x", now) }},
		{"jwtonce", func(now time.Time) hostsim.Request { return jwt("/jwtonce/x", now) }},
		{"jwtreused", func(now time.Time) hostsim.Request {
			if now.Sub(reusedAt) > 30*time.Second {
				reused, reusedAt = jwt("/jwted/x", now), now
			}
			return reused
		}},
		{"httpsig", httpSig},
		{"intro", func(time.Time) hostsim.Request {
			return req("/intro/x", [2]string{"authorization", "Bearer " + w.IntroToken})
		}},
	}
	if only := os.Getenv("MEMGROWTH_ONLY"); only != "" { // e.g. "httpsig,jwtonce"
		keep := mix[:0:0]
		for _, m := range mix {
			if strings.Contains(","+only+",", ","+m.name+",") {
				keep = append(keep, m)
			}
		}
		mix = keep
	}

	// window counts outcomes per VM since the last checkpoint.
	window := map[string]int{}
	total := map[string]int{} // refusals since the start
	last := []int{0, 0}
	for n := 0; n < requests; n++ {
		if n > 0 && n%1000 == 0 {
			h.Advance(ctx, step)
		}
		m := mix[n%len(mix)]
		r := m.mk(h.Now())
		vm := n % 2
		res := p.Worker(vm).HTTP(ctx, r)
		k := fmt.Sprintf("vm%d %s %s %d %.40s", vm, m.name, res.Outcome, res.Status, res.Body)
		window[k]++
		if res.Outcome != hostsim.OutcomeForwarded {
			total[k]++
		}
		if (n+1)%every != 0 {
			continue
		}
		h.TakeLogs()
		mems := tr.Live()
		if len(mems) > 2 {
			mems = mems[len(mems)-2:]
		}
		grew := false
		for i, sz := range mems {
			if sz != last[i] {
				grew = true
			}
		}
		if grew || (n+1)%(every*50) == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("after %d requests: linear memory %v MiB (host heap %d MiB)", n+1,
				[]float64{float64(mems[0]) / (1 << 20), float64(mems[1]) / (1 << 20)}, ms.HeapAlloc>>20)
			for k, v := range total {
				t.Logf("   refused so far: %7d  %s", v, k)
			}
		}
		if grew {
			keys := make([]string, 0, len(window))
			for k := range window {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				t.Logf("   %7d  %s", window[k], k)
			}
		}
		copy(last, mems)
		for i, sz := range mems {
			if sz > limit {
				t.Fatalf("worker VM %d linear memory %d MiB after %d requests (limit %d MiB)", i, sz>>20, n+1, limit>>20)
			}
		}
		for i, vmx := range p.Workers() {
			if failed, msg := vmx.Failed(); failed {
				t.Fatalf("worker VM %d failed after %d requests: %s", i, n+1, msg)
			}
		}
		clear(window)
	}
}
