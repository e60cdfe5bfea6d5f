package compat

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/scenario"
)

// scenarioDir holds the project's scenario suite (shared/docs/scenario.md),
// owned by tests/parity; it is read here as data.
var scenarioDir = filepath.Join("..", "parity", "testdata")

func loadScenarios(t *testing.T) map[string]*scenario.Scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*scenario.Scenario{}
	for _, f := range files {
		if strings.HasSuffix(f, ".expect.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := scenario.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = s
	}
	if len(out) == 0 {
		t.Fatalf("no scenarios in %s", scenarioDir)
	}
	return out
}

func runScenario(t *testing.T, wasm []byte, s *scenario.Scenario, p hostsim.Profile) string {
	t.Helper()
	res, err := scenario.Run(context.Background(), wasm, s, scenario.Options{
		Profile: p, Workers: 2, Config: hostConfig(p).WithRandom(seededRandom())})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestScenarioSuite replays the project's scenario suite on the plugin
// before and after the pass. The rewritten module gives byte-identical
// scenario output on every Envoy profile, equal to the raw module's on
// envoy-current; the raw module's output on envoy-1.32 is Envoy's load
// failure.
func TestScenarioSuite(t *testing.T) {
	raw, rewritten := pluginModules(t)
	for name, s := range loadScenarios(t) {
		t.Run(name, func(t *testing.T) {
			want := runScenario(t, raw, s, hostsim.ProfileEnvoyCurrent)
			for _, p := range envoyProfiles {
				if got := runScenario(t, rewritten, s, p); got != want {
					t.Errorf("rewritten on %s differs from raw on envoy-current:\n got %s\nwant %s", p, got, want)
				}
			}
			old := runScenario(t, raw, s, hostsim.ProfileEnvoy132)
			if !strings.Contains(old, "missing import: wasi_snapshot_preview1.") || !strings.Contains(old, `"vm_start_ok": false`) {
				t.Errorf("raw on envoy-1.32 should fail to load:\n%s", old)
			}
			if mid := runScenario(t, raw, s, hostsim.ProfileEnvoy133); mid != want && !strings.Contains(mid, "poll_oneoff") {
				t.Errorf("raw on envoy-1.33 differs without the poll_oneoff throw:\n%s", mid)
			}
		})
	}
}
