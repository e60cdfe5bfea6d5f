package hostsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// TestRestrictedPhases: Envoy (V8) lets only an allow-list of imports run
// during module start-up and inside a host-initiated malloc; anything else
// traps and the VM fails. full-wasi models a naive host with no such rule.
func TestRestrictedPhases(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, guest string
		profile     hostsim.Profile
		wantErr     string // empty: starts fine
	}{
		{"proxy call in init, envoy-1.33", "initcall", hostsim.ProfileEnvoy133, "proxy_set_tick_period_milliseconds may not be called during module start-up"},
		{"proxy call in init, envoy-current", "initcall", hostsim.ProfileEnvoyCurrent, "proxy_set_tick_period_milliseconds may not be called during module start-up"},
		{"proxy call in init, full-wasi", "initcall", hostsim.ProfileFullWASI, ""},
		{"proxy call in malloc, envoy-1.33", "mallochost", hostsim.ProfileEnvoy133, "proxy_get_current_time_nanoseconds may not be called during the allocator"},
		{"proxy call in malloc, full-wasi", "mallochost", hostsim.ProfileFullWASI, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := hostsim.New(ctx, guest(t, tc.guest), cfg().WithProfile(tc.profile))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			_, err = h.StartPlugin(ctx, hostsim.PluginConfig{Configuration: []byte("x")})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var se *hostsim.StartError
			if !errors.As(err, &se) || !strings.Contains(se.Trap, tc.wantErr) {
				t.Fatalf("err = %v, want a trap containing %q", err, tc.wantErr)
			}
			if tc.guest == "initcall" && !logged(se.Logs, "init: logging is allowed") {
				t.Fatalf("proxy_log during start-up was not allowed: %v", se.Logs)
			}
		})
	}
}
