package hostsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// TestProfileFidelity is the reason profiles exist: a plain Go-built module
// behaves differently on each Envoy, and only a faithful host shows it.
//   - Envoy ≤1.32 does not link poll_oneoff: the module fails to load.
//   - Envoy 1.33–1.39 answer poll_oneoff with ENOSYS: the first time the Go
//     runtime sleeps (a GC cycle under allocation load, or time.Sleep) it
//     throws "poll_oneoff failed" and the VM traps.
//   - Current Envoy answers with zero events: the module keeps running.
//   - Full WASI runs it too (and hides the problem).
func TestProfileFidelity(t *testing.T) {
	ctx := context.Background()
	wasm := guest(t, "conformance")
	load := func(t *testing.T, p hostsim.Profile) *hostsim.Plugin {
		h, err := hostsim.New(ctx, wasm, cfg().WithProfile(p))
		if err != nil {
			t.Fatalf("load on %s: %v", p, err)
		}
		t.Cleanup(func() { h.Close(ctx) })
		pl, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: "fidelity", Workers: 1})
		if err != nil {
			t.Fatalf("start on %s: %v", p, err)
		}
		return pl
	}
	// underLoad sends allocating requests that run GC cycles, then one that
	// sleeps, and returns the first trapped result (or the last one).
	underLoad := func(pl *hostsim.Plugin) *hostsim.Result {
		var res *hostsim.Result
		for i := 0; i < 20; i++ {
			res = pl.Worker(0).HTTP(ctx, hostsim.Request{Path: "/load", Authority: "a",
				Headers: [][2]string{{"x-op", "gc"}}})
			if res.Outcome != hostsim.OutcomeForwarded {
				return res
			}
		}
		return pl.Worker(0).HTTP(ctx, hostsim.Request{Path: "/sleep", Authority: "a",
			Headers: [][2]string{{"x-op", "sleep"}}})
	}

	t.Run("envoy-1.32 refuses to load", func(t *testing.T) {
		_, err := hostsim.New(ctx, wasm, cfg().WithProfile(hostsim.ProfileEnvoy132))
		if !errors.Is(err, hostsim.ErrLoad) {
			t.Fatalf("err = %v, want ErrLoad", err)
		}
		const want = "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1."
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %q, want it to contain %q", err, want)
		}
	})
	t.Run("envoy-1.33 traps on poll_oneoff", func(t *testing.T) {
		pl := load(t, hostsim.ProfileEnvoy133)
		res := underLoad(pl)
		if res.Outcome != hostsim.OutcomeTrap || res.Status != 503 || res.Details != "wasm_fail_stream" {
			t.Fatalf("outcome=%s status=%d details=%q, want trap 503 wasm_fail_stream", res.Outcome, res.Status, res.Details)
		}
		if !logged(res.Logs, "poll_oneoff") {
			t.Fatalf("no poll_oneoff failure in the logs: %v", res.Logs)
		}
		// The VM stays failed: the next request is answered by Envoy.
		next := pl.Worker(0).HTTP(ctx, hostsim.Request{Path: "/", Authority: "a"})
		if next.Outcome != hostsim.OutcomeLocalReply || next.Status != 503 || next.Details != "wasm_fail_stream" {
			t.Fatalf("after trap: %s %d %q", next.Outcome, next.Status, next.Details)
		}
	})
	for _, p := range []hostsim.Profile{hostsim.ProfileEnvoyCurrent, hostsim.ProfileFullWASI} {
		t.Run(string(p)+" keeps running", func(t *testing.T) {
			pl := load(t, p)
			if res := underLoad(pl); res.Outcome != hostsim.OutcomeForwarded {
				t.Fatalf("outcome=%s trap=%q", res.Outcome, res.Trap)
			}
		})
	}
}

func logged(logs []hostsim.LogEntry, sub string) bool {
	for _, l := range logs {
		if strings.Contains(l.Message, sub) {
			return true
		}
	}
	return false
}

func TestCheckImports(t *testing.T) {
	ctx := context.Background()
	wasm := guest(t, "conformance")
	for _, tc := range []struct {
		profile hostsim.Profile
		want    string // joined problems
	}{
		{hostsim.ProfileEnvoy132, "wasi_snapshot_preview1.poll_oneoff"},
		{hostsim.ProfileEnvoy133, ""},
		{hostsim.ProfileEnvoyCurrent, ""},
	} {
		t.Run(string(tc.profile), func(t *testing.T) {
			probs, err := hostsim.CheckImports(ctx, wasm, tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.Module+"."+p.Name)
			}
			if !strings.Contains(strings.Join(got, " "), tc.want) || (tc.want == "" && len(got) > 0) {
				t.Fatalf("problems %v, want %q", got, tc.want)
			}
		})
	}
}
