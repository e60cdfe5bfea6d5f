package parity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim/scenario"
)

// The scenario files are decoded by hostsim/scenario (the one reader of
// shared/docs/scenario.md) and both runners report a *scenario.Result, so
// parity has only the expectation format of its own.

type expectation struct {
	ConfigureOK bool             `json:"configure_ok"`
	Metrics     map[string]int64 `json:"metrics"`
	Results     []struct {
		Name    string      `json:"name"`
		Outcome string      `json:"outcome"`
		Status  int         `json:"status"`
		Headers [][2]string `json:"headers"`
		Absent  []string    `json:"absent"`
		Body    *string     `json:"body"`
	} `json:"results"`
}

type testCase struct {
	name   string
	scen   *scenario.Scenario
	expect expectation
}

func loadCases(t *testing.T) []testCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []testCase
	for _, f := range files {
		if strings.HasSuffix(f, ".expect.json") {
			continue
		}
		c := testCase{name: strings.TrimSuffix(filepath.Base(f), ".json"), scen: decodeScenario(t, f)}
		// Both hosts must start from the same clock; hostsim's default
		// start time is not one the native runner can know.
		if !c.scen.HasNow {
			t.Fatalf("%s: parity scenarios must set now_unix_ms", f)
		}
		readJSON(t, strings.TrimSuffix(f, ".json")+".expect.json", &c.expect)
		if c.expect.ConfigureOK && len(c.expect.Results) != len(c.scen.Requests) {
			t.Fatalf("%s: %d requests but %d expectations", f, len(c.scen.Requests), len(c.expect.Results))
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no scenarios in testdata")
	}
	return out
}

func decodeScenario(t *testing.T, path string) *scenario.Scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := scenario.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// check compares an output with the expectation, reporting every mismatch.
func check(t *testing.T, exp expectation, got *scenario.Result) {
	t.Helper()
	if got.ConfigureOK != exp.ConfigureOK {
		t.Fatalf("configure_ok = %v, want %v", got.ConfigureOK, exp.ConfigureOK)
	}
	if !exp.ConfigureOK {
		if len(got.Results) != 0 {
			t.Fatalf("requests were sent to a plugin that failed to configure: %d results", len(got.Results))
		}
		return
	}
	if len(got.Results) != len(exp.Results) {
		t.Fatalf("%d results, want %d", len(got.Results), len(exp.Results))
	}
	for i, e := range exp.Results {
		g := got.Results[i]
		if g.Name != e.Name {
			t.Fatalf("result %d is %q, want %q", i, g.Name, e.Name)
		}
		if g.Outcome != e.Outcome || g.Status != e.Status {
			t.Errorf("%s: %s %d, want %s %d (body %s)", e.Name, g.Outcome, g.Status, e.Outcome, e.Status, g.Body)
			continue
		}
		if e.Body != nil && g.Body != *e.Body {
			t.Errorf("%s: body %q, want %q", e.Name, g.Body, *e.Body)
		}
		if e.Outcome == "local_reply" && e.Headers != nil {
			if !slices.Equal(g.Headers, e.Headers) {
				t.Errorf("%s: reply headers %q, want %q", e.Name, g.Headers, e.Headers)
			}
		} else {
			for _, h := range e.Headers {
				if !slices.Contains(g.Headers, h) {
					t.Errorf("%s: header %q missing in %q", e.Name, h, g.Headers)
				}
			}
		}
		for _, n := range e.Absent {
			for _, h := range g.Headers {
				if h[0] == n {
					t.Errorf("%s: header %q must be absent, got %q", e.Name, n, h[1])
				}
			}
		}
	}
	names := make([]string, 0, len(exp.Metrics))
	for n := range exp.Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got.Metrics[n] != exp.Metrics[n] {
			t.Errorf("metric %s = %d, want %d", n, got.Metrics[n], exp.Metrics[n])
		}
	}
}

// compare requires native and wasm runs to agree on every request, and on
// every metric the native run read (the expectation's metrics).
func compare(t *testing.T, native, wasm *scenario.Result) {
	t.Helper()
	if native.ConfigureOK != wasm.ConfigureOK {
		t.Fatalf("configure_ok: native %v, wasm %v", native.ConfigureOK, wasm.ConfigureOK)
	}
	if len(native.Results) != len(wasm.Results) {
		t.Fatalf("results: native %d, wasm %d", len(native.Results), len(wasm.Results))
	}
	for i := range native.Results {
		n, w := native.Results[i], wasm.Results[i]
		if n.Outcome != w.Outcome || n.Status != w.Status || n.Body != w.Body || !slices.Equal(n.Headers, w.Headers) {
			t.Errorf("%s differs:\n native: %s %d %q %q\n   wasm: %s %d %q %q",
				n.Name, n.Outcome, n.Status, n.Headers, n.Body, w.Outcome, w.Status, w.Headers, w.Body)
		}
	}
	for name, v := range native.Metrics {
		if wasm.Metrics[name] != v {
			t.Errorf("metric %s: native %d, wasm %d", name, v, wasm.Metrics[name])
		}
	}
}
