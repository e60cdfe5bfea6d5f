package compat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
	pass "github.com/tokengate/tokengate/plugin/compat"
)

// hostsim traps, as Envoy's V8 integration does, on any import outside the
// profile's allow-list while _initialize runs and while the host is inside
// the guest's malloc. These tests show the rewritten modules never trip it
// and that the check is live (negative controls).

// TestStartupAllowList starts the rewritten guest with three workers on
// every Envoy profile: _initialize runs five times (base, canary, workers)
// under the start-up allow-list, and each worker answers a request whose
// 512 KiB header value the host copies into memory from the guest's
// allocator, under the malloc allow-list. (TestPluginProfiles does the
// same for the plugin: every rewritten run starts workers on each profile.)
func TestStartupAllowList(t *testing.T) {
	_, guest := guestModules(t)
	big := strings.Repeat("b", 512<<10)
	for _, m := range []struct {
		name   string
		wasm   []byte
		config []byte
	}{{"guest", guest, nil}} {
		for _, p := range envoyProfiles {
			t.Run(m.name+"/"+string(p), func(t *testing.T) {
				ctx := context.Background()
				h, err := hostsim.New(ctx, m.wasm, hostConfig(p))
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close(ctx)
				pl, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: m.name, Configuration: m.config, Workers: 3})
				if err != nil {
					t.Fatalf("start-up: %v", err)
				}
				for _, w := range pl.Workers() {
					r := w.HTTP(ctx, hostsim.Request{Method: "GET", Path: "/healthz", Authority: "a.test",
						SourceAddress: "10.0.0.9:1234", Headers: [][2]string{{"x-pad", big}}})
					if r.Outcome == hostsim.OutcomeTrap {
						t.Fatalf("worker %d trapped: %s", w.Index(), r.Trap)
					}
					if failed, why := w.Failed(); failed {
						t.Fatalf("worker %d failed: %s", w.Index(), why)
					}
				}
			})
		}
	}
}

// TestStartupAllowListControl: without inlining fd_fdstat_get (only the
// three functions issue 9 names), the module loads on envoy-1.32 but traps
// in _initialize, because Go's os package calls fd_fdstat_get there and
// Envoy ≤1.32 does not allow it. This is why the pass inlines it too.
func TestStartupAllowListControl(t *testing.T) {
	raw, _ := guestModules(t)
	three, _, err := pass.Rewrite(raw, pass.Config{Replace: []string{"poll_oneoff", "sched_yield", "fd_fdstat_set_flags"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := hostsim.New(ctx, three, hostConfig(hostsim.ProfileEnvoy132))
	if err != nil {
		t.Fatalf("module with the three stubs should load on envoy-1.32: %v", err)
	}
	defer h.Close(ctx)
	_, err = h.StartPlugin(ctx, hostsim.PluginConfig{Name: "guest"})
	var se *hostsim.StartError
	if !errors.As(err, &se) || !strings.Contains(se.Trap, "restricted_callback: fd_fdstat_get") {
		t.Fatalf("want a restricted-call trap on fd_fdstat_get during start-up, got %v", err)
	}
}

// TestMallocAllowListControl: once the raw guest's netpoller runs, a GC
// inside a host-initiated malloc polls through poll_oneoff, which Envoy
// 1.33–1.39 forbids in the allocator — the trap the pass removes.
func TestMallocAllowListControl(t *testing.T) {
	raw, rewritten := guestModules(t)
	for _, m := range []struct {
		name     string
		wasm     []byte
		wantTrap bool
	}{{"raw", raw, true}, {"rewritten", rewritten, false}} {
		t.Run(m.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := hostsim.New(ctx, m.wasm, hostConfig(hostsim.ProfileEnvoy133))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			pl, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: "guest"})
			if err != nil {
				t.Fatal(err)
			}
			w := pl.Worker(0)
			// The first request arms a runtime timer; the second makes the
			// host allocate a 48 MiB header value, far beyond the GC goal,
			// so the collection starts inside malloc.
			first := w.HTTP(ctx, hostsim.Request{Path: "/reply", Authority: "a"})
			if first.Outcome != hostsim.OutcomeLocalReply {
				t.Fatalf("first request: %+v", summarize(first))
			}
			r := w.HTTP(ctx, hostsim.Request{Path: "/reply", Authority: "a",
				Headers: [][2]string{{"x-pad", strings.Repeat("m", 48<<20)}}})
			trapped := r.Outcome == hostsim.OutcomeTrap
			if trapped != m.wantTrap {
				t.Fatalf("trap = %v (%s), want %v", trapped, r.Trap, m.wantTrap)
			}
			if m.wantTrap && !strings.Contains(r.Trap, "restricted_callback: poll_oneoff") {
				t.Fatalf("trap is not the allocator allow-list: %s", r.Trap)
			}
		})
	}
}
