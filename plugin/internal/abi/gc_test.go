//go:build !wasip1

package abi_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// TestGCUnderEnvoyRestrictions pushes ~200 MB of header data through one worker on the Envoy
// 1.33–1.39 profile, so Go's GC runs many times, also inside host-called malloc, where hostsim
// (like Envoy) traps any import outside the allocator allow-list and answers poll_oneoff with
// ENOSYS. Every request must still get an answer and the VM must not trap.
func TestGCUnderEnvoyRestrictions(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation-heavy")
	}
	wasm, err := os.ReadFile(guestWasm(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := hostsim.New(ctx, wasm, hostsim.Config{}.WithProfile(hostsim.ProfileEnvoy133).WithLogLevel(hostsim.LogWarn))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	w := p.Worker(0)
	big := strings.Repeat("v", 4000)
	for i := 0; i < 1200; i++ {
		var hs [][2]string
		hs = append(hs, [2]string{"x-mode", []string{"plain", "shared", "panic"}[i%3]})
		for j := 0; j < 40; j++ {
			hs = append(hs, [2]string{"h" + strconv.Itoa(j), big})
		}
		res := w.HTTP(ctx, hostsim.Request{Headers: hs})
		want := hostsim.OutcomeForwarded
		if i%3 == 2 {
			want = hostsim.OutcomeLocalReply // the panic mode, denied by the recover guard
		}
		if res.Outcome != want {
			t.Fatalf("request %d: %s (want %s) trap=%q", i, res.Outcome, want, res.Trap)
		}
	}
}
