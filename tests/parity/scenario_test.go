package parity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// scenario is the input format of shared/docs/scenario.md.
type scenario struct {
	PluginConfig    json.RawMessage     `json:"plugin_config"`
	PluginConfigRaw *string             `json:"plugin_config_raw"`
	VMConfig        string              `json:"vm_config"`
	RootID          string              `json:"root_id"`
	Env             map[string]string   `json:"env"`
	NowUnixMs       int64               `json:"now_unix_ms"`
	Upstreams       map[string]upstream `json:"upstreams"`
	Requests        []request           `json:"requests"`
}

type upstream struct {
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
	DelayMs int64       `json:"delay_ms"`
}

type request struct {
	Name               string      `json:"name"`
	Method             string      `json:"method"`
	Path               string      `json:"path"`
	Authority          string      `json:"authority"`
	Scheme             string      `json:"scheme"`
	Headers            [][2]string `json:"headers"`
	Body               string      `json:"body"`
	SourceAddress      string      `json:"source_address"`
	DestinationAddress string      `json:"destination_address"`
	AdvanceMs          int64       `json:"advance_ms"`
}

// pluginConfig is the configuration string the host passes: the raw
// string, or the compact JSON text of plugin_config.
func (s *scenario) pluginConfig(t *testing.T) []byte {
	if s.PluginConfigRaw != nil {
		return []byte(*s.PluginConfigRaw)
	}
	if len(s.PluginConfig) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(s.PluginConfig, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// result is one request's outcome, in the output format.
type result struct {
	Name    string      `json:"name"`
	Outcome string      `json:"outcome"`
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
}

type output struct {
	ConfigureOK bool             `json:"configure_ok"`
	Metrics     map[string]int64 `json:"metrics"`
	Results     []result         `json:"results"`
}

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
	scen   scenario
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
		var c testCase
		c.name = strings.TrimSuffix(filepath.Base(f), ".json")
		readJSON(t, f, &c.scen)
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
func check(t *testing.T, exp expectation, got output) {
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
			if !equalPairs(g.Headers, e.Headers) {
				t.Errorf("%s: reply headers %q, want %q", e.Name, g.Headers, e.Headers)
			}
		} else {
			for _, h := range e.Headers {
				if !hasPair(g.Headers, h) {
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

func equalPairs(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hasPair(hs [][2]string, p [2]string) bool {
	for _, h := range hs {
		if h == p {
			return true
		}
	}
	return false
}
