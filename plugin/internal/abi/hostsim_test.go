//go:build !wasip1

package abi_test

// The same test guest on hostsim, the project's Envoy simulator (written independently of this
// binding): Envoy's start sequence with a canary and two workers, its restricted start-up and
// allocator phases, its WASI stubs per profile, and its header, reply and callout rules.

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

func TestOnHostsim(t *testing.T) {
	wasm, err := os.ReadFile(guestWasm(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []hostsim.Profile{hostsim.ProfileEnvoy133, hostsim.ProfileEnvoyCurrent} {
		t.Run(string(profile), func(t *testing.T) {
			ctx := context.Background()
			cfg := hostsim.Config{}.WithProfile(profile).
				WithCannedCluster("auth", hostsim.CannedResponse{Status: 200, Body: []byte("alice")})
			h, err := hostsim.New(ctx, wasm, cfg)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			defer h.Close(ctx)
			if h.ABIVersion() != "0_2_1" {
				t.Errorf("ABI version %q, want 0_2_1", h.ABIVersion())
			}
			p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: []byte("hello"), Workers: 2})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			if v, _, ok := p.SharedData("guest_started"); !ok || string(v) != "hello" {
				t.Errorf("shared data guest_started = %q, %v", v, ok)
			}
			for _, w := range p.Workers() {
				res := w.HTTP(ctx, hostsim.Request{Headers: [][2]string{{"x-mode", "plain"}, {"x-remove", "1"}}})
				if res.Outcome != hostsim.OutcomeForwarded {
					t.Fatalf("plain: %s %d %q trap=%q", res.Outcome, res.Status, res.Body, res.Trap)
				}
				if v, _ := header(res.Headers, "x-mode"); v != "done" {
					t.Errorf("plain: forwarded headers %v", res.Headers)
				}
				if _, found := header(res.Headers, "x-remove"); found {
					t.Errorf("plain: x-remove not removed: %v", res.Headers)
				}

				res = w.HTTP(ctx, hostsim.Request{Headers: [][2]string{{"x-mode", "panic"}}})
				if res.Outcome != hostsim.OutcomeLocalReply || res.Status != 500 || string(res.Body) != `{"reason":"internal_error"}` {
					t.Fatalf("panic: %s %d %q trap=%q", res.Outcome, res.Status, res.Body, res.Trap)
				}

				res = w.HTTP(ctx, hostsim.Request{Headers: [][2]string{{"x-mode", "callout"}}})
				if res.Outcome != hostsim.OutcomeForwarded {
					t.Fatalf("callout: %s %d %q trap=%q", res.Outcome, res.Status, res.Body, res.Trap)
				}
				if v, _ := header(res.Headers, "x-auth"); v != "alice" {
					t.Errorf("callout: x-auth = %q; headers %v", v, res.Headers)
				}

				res = w.HTTP(ctx, hostsim.Request{Headers: [][2]string{{"x-mode", "callout-panic"}}})
				if res.Outcome != hostsim.OutcomeLocalReply || res.Status != 500 {
					t.Fatalf("callout-panic: %s %d %q trap=%q", res.Outcome, res.Status, res.Body, res.Trap)
				}
			}
		})
	}
	// Envoy ≤1.32 does not link the three WASI functions Go needs: the raw module must not load
	// there (the compatibility pass exists for this).
	t.Run(string(hostsim.ProfileEnvoy132), func(t *testing.T) {
		ctx := context.Background()
		h, err := hostsim.New(ctx, wasm, hostsim.Config{}.WithProfile(hostsim.ProfileEnvoy132))
		if err == nil {
			h.Close(ctx)
			t.Fatal("raw Go module loaded on the Envoy 1.32 profile")
		}
		if !errors.Is(err, hostsim.ErrLoad) {
			t.Errorf("err = %v, want ErrLoad", err)
		}
	})
}

// TestAllCallsLoadOnHostsim: hostsim type-checks every import against its own table of the ABI
// (written without looking at ours); the allcalls guest imports every host call we bind.
func TestAllCallsLoadOnHostsim(t *testing.T) {
	wasm, err := os.ReadFile(builtWasm(t, "allcalls"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := hostsim.New(ctx, wasm, hostsim.Config{}.WithProfile(hostsim.ProfileEnvoy133))
	if err != nil {
		t.Fatalf("hostsim refused the binding's imports: %v", err)
	}
	defer h.Close(ctx)
	if _, err := h.StartPlugin(ctx, hostsim.PluginConfig{}); err != nil {
		t.Fatalf("start: %v", err)
	}
}
