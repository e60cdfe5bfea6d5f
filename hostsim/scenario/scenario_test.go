package scenario_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
	"github.com/tokengate/tokengate/hostsim/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// cache compiles the guest once for every run in this package.
var cache = wazero.NewCompilationCache()

func guest(t *testing.T) []byte {
	t.Helper()
	b, err := guesttest.ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeString(t *testing.T, in string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *scenario.Scenario, opts scenario.Options) *scenario.Result {
	t.Helper()
	opts.Config = opts.Config.WithCompilationCache(cache)
	if opts.Profile == "" {
		opts.Profile = hostsim.ProfileEnvoyCurrent
	}
	res, err := scenario.Run(context.Background(), guest(t), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func encode(t *testing.T, r *scenario.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update writes it; review the diff)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s; got:\n%s", file, got)
	}
}

// TestRunGolden runs every testdata/run/*.json scenario on the test guest
// and compares the encoded output with *.out.json byte for byte.
func TestRunGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "run", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatal("no scenarios under testdata/run")
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".out.json") {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			s, err := scenario.Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			got := encode(t, run(t, s, scenario.Options{}))
			golden(t, strings.TrimSuffix(f, ".json")+".out.json", got)
			// Same input, same bytes.
			if again := encode(t, run(t, s, scenario.Options{})); !bytes.Equal(got, again) {
				t.Fatalf("two runs differ:\n%s\n---\n%s", got, again)
			}
		})
	}
}

// TestEncodeGolden pins the output layout with a hand-built result that
// exercises every rule: key order, sorted metrics, empty lists, escaping
// without HTML escapes, duplicate headers.
func TestEncodeGolden(t *testing.T) {
	r := &scenario.Result{
		VMStartOK: true, ConfigureOK: true,
		Logs:    []scenario.Log{{Level: "info", Message: `started "quoted" <b> & tab	end`}},
		Metrics: map[string]int64{"zeta": 1, "alpha": -2, "mid_total": 1 << 40},
		Results: []scenario.RequestResult{
			{Name: "first", Outcome: "forwarded", Status: 200,
				Headers: [][2]string{{":method", "GET"}, {"x-a", "1"}, {"x-a", "2"}}, Body: "", Logs: nil},
			{Name: "second", Outcome: "local_reply", Status: 403,
				Headers: [][2]string{{":status", "403"}, {"content-length", "3"}, {"content-type", "text/plain"}},
				Body:    "no\n", Logs: []scenario.Log{{Level: "warn", Message: "denied"}}},
		},
	}
	golden(t, filepath.Join("testdata", "encode.golden.json"), encode(t, r))

	empty := &scenario.Result{}
	want := "{\n  \"vm_start_ok\": false,\n  \"configure_ok\": false,\n  \"logs\": [],\n  \"metrics\": {},\n  \"results\": []\n}\n"
	if got := string(encode(t, empty)); got != want {
		t.Fatalf("empty result:\n%s\nwant:\n%s", got, want)
	}
}

// TestEncodeIsJSON reads encoded outputs back with encoding/json: the
// layout is valid JSON and loses nothing.
func TestEncodeIsJSON(t *testing.T) {
	s := decodeString(t, `{"plugin_config_raw":"x","requests":[
		{"name":"a","headers":[["x-op","reply"]]},
		{"name":"b","headers":[["x-op","add"],["x-dup","1"],["x-dup","2"]]}]}`)
	r := run(t, s, scenario.Options{})
	var back scenario.Result
	if err := json.Unmarshal(encode(t, r), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*r, back) {
		t.Fatalf("round trip changed the result:\n%+v\n%+v", *r, back)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		check    func(t *testing.T, s *scenario.Scenario)
	}{
		{"plugin_config is passed as compact JSON text, order and numbers kept",
			`{"plugin_config": { "z" : 1 , "a": [ 1.50, 12345678901234567890 ], "s": "<&>" }}`,
			func(t *testing.T, s *scenario.Scenario) {
				if got, want := string(s.PluginConfig), `{"z":1,"a":[1.50,12345678901234567890],"s":"<&>"}`; got != want {
					t.Fatalf("config %s, want %s", got, want)
				}
			}},
		{"plugin_config_raw is passed as is",
			`{"plugin_config_raw": " not { json "}`,
			func(t *testing.T, s *scenario.Scenario) {
				if string(s.PluginConfig) != " not { json " {
					t.Fatalf("config %q", s.PluginConfig)
				}
			}},
		{"a JSON string as plugin_config keeps its quotes",
			`{"plugin_config": "text"}`,
			func(t *testing.T, s *scenario.Scenario) {
				if string(s.PluginConfig) != `"text"` {
					t.Fatalf("config %q", s.PluginConfig)
				}
			}},
		{"plugin_config null is the JSON text null",
			`{"plugin_config": null}`,
			func(t *testing.T, s *scenario.Scenario) {
				if string(s.PluginConfig) != "null" {
					t.Fatalf("config %q", s.PluginConfig)
				}
			}},
		{"no configuration at all",
			`{}`,
			func(t *testing.T, s *scenario.Scenario) {
				if s.PluginConfig != nil || s.HasNow || len(s.Requests) != 0 {
					t.Fatalf("%+v", s)
				}
			}},
		{"every field",
			`{"vm_config":"v","root_id":"r","env":{"A":"1"},"now_unix_ms":1764000000000,
			  "upstreams":{"c":{"status":503,"headers":[["X-A","b"]],"body":"x","delay_ms":7}},
			  "requests":[{"name":"n","method":"POST","path":"/p","authority":"h","scheme":"https",
			    "headers":[["a","1"],["a","2"]],"body":"b","source_address":"1.2.3.4:5",
			    "destination_address":"5.6.7.8:9","advance_ms":10}]}`,
			func(t *testing.T, s *scenario.Scenario) {
				want := &scenario.Scenario{VMConfig: "v", RootID: "r", Env: map[string]string{"A": "1"},
					NowUnixMs: 1764000000000, HasNow: true,
					Upstreams: map[string]scenario.Upstream{"c": {Status: 503, Headers: [][2]string{{"X-A", "b"}}, Body: "x", DelayMs: 7}},
					Requests: []scenario.Request{{Name: "n", Method: "POST", Path: "/p", Authority: "h", Scheme: "https",
						Headers: [][2]string{{"a", "1"}, {"a", "2"}}, Body: "b", SourceAddress: "1.2.3.4:5",
						DestinationAddress: "5.6.7.8:9", AdvanceMs: 10}}}
				if !reflect.DeepEqual(s, want) {
					t.Fatalf("got  %+v\nwant %+v", s, want)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, decodeString(t, tc.in)) })
	}
}

// TestDecodeRefuses: every malformed scenario is refused with the JSON
// path at fault, never half-read.
func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", `{`, "unexpected EOF"},
		{"unknown field", `{"plugin_cofnig": {}}`, `unknown field "plugin_cofnig"`},
		{"unknown request field", `{"requests":[{"nmae":"x"}]}`, `unknown field "nmae"`},
		{"both configs", `{"plugin_config":{},"plugin_config_raw":""}`, "plugin_config_raw: plugin_config and plugin_config_raw are mutually exclusive"},
		{"wrong type", `{"now_unix_ms":"soon"}`, "now_unix_ms: expected int64"},
		{"negative clock", `{"now_unix_ms":-1}`, "now_unix_ms: must not be negative"},
		{"header with three elements", `{"requests":[{"headers":[["a","b","c"]]}]}`, "requests[0].headers[0]: a header is [name, value], got 3 elements"},
		{"header with one element", `{"requests":[{},{"headers":[["a"]]}]}`, "requests[1].headers[0]: a header is [name, value], got 1 elements"},
		{"empty header name", `{"requests":[{"headers":[["","v"]]}]}`, "requests[0].headers[0]: empty header name"},
		{"upstream header", `{"upstreams":{"c":{"headers":[["x"]]}}}`, "upstreams.c.headers[0]: a header is [name, value]"},
		{"upstream status", `{"upstreams":{"c":{"status":42}}}`, "upstreams.c.status: status 42 out of range 100-599"},
		{"negative delay", `{"upstreams":{"c":{"delay_ms":-5}}}`, "upstreams.c.delay_ms: must not be negative"},
		{"negative advance", `{"requests":[{"advance_ms":-1}]}`, "requests[0].advance_ms: must not be negative"},
		{"bad env name", `{"env":{"A=B":"c"}}`, `env: bad variable name "A=B"`},
		{"trailing data", `{} {}`, "data after the scenario object"},
		{"not an object", `[]`, "cannot unmarshal array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scenario.Decode(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if s != nil {
				t.Fatal("a refused scenario must not be returned")
			}
			if !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestRunConfigureRefused(t *testing.T) {
	r := run(t, decodeString(t, `{"plugin_config_raw":"fail","requests":[{"name":"x"}]}`), scenario.Options{})
	if !r.VMStartOK || r.ConfigureOK || len(r.Results) != 0 {
		t.Fatalf("vm_start_ok %v configure_ok %v results %d", r.VMStartOK, r.ConfigureOK, len(r.Results))
	}
	if !hasLog(r.Logs, "error", "configuration refused") {
		t.Fatalf("the logs do not say why: %+v", r.Logs)
	}
}

// TestRunLoadFailure: Envoy up to 1.32 lacks WASI functions the Go runtime
// imports (poll_oneoff, sched_yield…), so a Go module does not load; the output says so instead of failing the run.
func TestRunLoadFailure(t *testing.T) {
	r := run(t, decodeString(t, `{"requests":[{"name":"x"}]}`), scenario.Options{Profile: hostsim.ProfileEnvoy132})
	if r.VMStartOK || r.ConfigureOK || len(r.Results) != 0 {
		t.Fatalf("%+v", r)
	}
	if !hasLog(r.Logs, "critical", "due to a missing import: wasi_snapshot_preview1.") {
		t.Fatalf("logs: %+v", r.Logs)
	}
}

func TestRunNotAModule(t *testing.T) {
	res, err := scenario.Run(context.Background(), []byte("not wasm"), decodeString(t, `{}`), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.VMStartOK || !hasLog(res.Logs, "critical", "Failed to load Wasm code") {
		t.Fatalf("%+v", res)
	}
}

// TestRunTrap: the trapping request reports the trap text in its body;
// the VM is dead afterwards, so the next request gets Envoy's 503.
func TestRunTrap(t *testing.T) {
	r := run(t, decodeString(t, `{"requests":[{"name":"boom","headers":[["x-op","trap"]]},{"name":"after"}]}`), scenario.Options{})
	boom, after := r.Results[0], r.Results[1]
	if boom.Outcome != "trap" || boom.Status != 503 || !strings.HasPrefix(boom.Body, "Function: proxy_on_request_headers failed") {
		t.Fatalf("trap result: %+v", boom)
	}
	if !reflect.DeepEqual(boom.Headers, [][2]string{{":status", "503"}}) {
		t.Fatalf("trap headers: %q", boom.Headers)
	}
	if after.Outcome != "local_reply" || after.Status != 503 || after.Body != "" {
		t.Fatalf("after trap: %+v", after)
	}
}

// TestRunAllowOnHeadersStopIteration: the guest pauses in its request
// headers and continues from the body callback. Only with the option does
// the body reach it (Envoy's allow_on_headers_stop_iteration); without it
// the request is never resumed.
func TestRunAllowOnHeadersStopIteration(t *testing.T) {
	s := decodeString(t, `{"requests":[{"name":"r","method":"POST","body":"payload","headers":[["x-op","pause"]]}]}`)
	for _, tc := range []struct {
		allow    bool
		outcome  string
		bodySeen bool
	}{
		{allow: true, outcome: "forwarded", bodySeen: true},
		{allow: false, outcome: "paused_forever"},
	} {
		r := run(t, s, scenario.Options{AllowOnHeadersStopIteration: tc.allow})
		got := r.Results[0]
		if got.Outcome != tc.outcome || hasLog(got.Logs, "debug", "request_body size=7 eos=1") != tc.bodySeen {
			t.Errorf("allow=%v: %s, logs %+v; want %s, body callback %v", tc.allow, got.Outcome, got.Logs, tc.outcome, tc.bodySeen)
		}
	}
}

// TestRunRoundRobin: with RoundRobin the request after a trap runs on the
// other worker, which is alive; without it, it runs on the dead VM (see
// TestRunTrap). One worker is the same either way.
func TestRunRoundRobin(t *testing.T) {
	s := decodeString(t, `{"requests":[{"name":"boom","headers":[["x-op","trap"]]},{"name":"after","headers":[["x-op","add"]]}]}`)
	for _, tc := range []struct {
		name       string
		workers    int
		roundRobin bool
		after      string
	}{
		{"two workers, round robin", 2, true, "forwarded"},
		{"two workers, worker 0 only", 2, false, "local_reply"},
		{"one worker, round robin", 1, true, "local_reply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, s, scenario.Options{Workers: tc.workers, RoundRobin: tc.roundRobin})
			if got := r.Results[1]; got.Outcome != tc.after || r.Results[0].Outcome != "trap" {
				t.Fatalf("boom %s, after %s %d; want trap, %s", r.Results[0].Outcome, got.Outcome, got.Status, tc.after)
			}
			if tc.after == "forwarded" && !hasLog(r.Results[1].Logs, "debug", "op=add") {
				t.Fatalf("the forwarded request's logs are not its own: %+v", r.Results[1].Logs)
			}
		})
	}
}

// TestRunWorkers: with N workers, start-up runs on the canary and on every
// worker, and requests all go to one VM (its state is shared between them).
func TestRunWorkers(t *testing.T) {
	s := decodeString(t, `{"plugin_config_raw":"x","requests":[{"name":"a","headers":[["x-op","add"]]},{"name":"b"}]}`)
	for _, tc := range []struct{ workers, configures int }{{0, 2}, {1, 2}, {3, 4}} {
		r := run(t, s, scenario.Options{Workers: tc.workers})
		n := 0
		for _, l := range r.Logs {
			if strings.HasPrefix(l.Message, "configure ") {
				n++
			}
		}
		if n != tc.configures {
			t.Errorf("workers %d: %d configure logs, want %d (canary + workers)", tc.workers, n, tc.configures)
		}
		if r.Metrics["requests"] != 2 || len(r.Results) != 2 {
			t.Errorf("workers %d: requests metric %d, results %d", tc.workers, r.Metrics["requests"], len(r.Results))
		}
	}
	if _, err := scenario.Run(context.Background(), guest(t), s, scenario.Options{Workers: -1}); err == nil {
		t.Fatal("negative workers accepted")
	}
}

// TestRunHistogramsLeftOut: the guest defines a histogram "sizes"; it has
// no single value, so it is not in metrics.
func TestRunHistogramsLeftOut(t *testing.T) {
	r := run(t, decodeString(t, `{"requests":[{"name":"a"}]}`), scenario.Options{})
	if _, ok := r.Metrics["sizes"]; ok {
		t.Fatalf("histogram in metrics: %v", r.Metrics)
	}
	if _, ok := r.Metrics["ticks"]; !ok {
		t.Fatalf("gauge missing: %v", r.Metrics)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := decodeString(t, `{"requests":[{"name":"a"}]}`)
	if _, err := scenario.Run(ctx, guest(t), s, scenario.Options{Config: hostsim.Config{}.WithCompilationCache(cache)}); err == nil {
		t.Fatal("a cancelled run reported success")
	}
}

func hasLog(ls []scenario.Log, level, part string) bool {
	for _, l := range ls {
		if l.Level == level && strings.Contains(l.Message, part) {
			return true
		}
	}
	return false
}

// TestRunRandomIsSeeded: by default the random source is a fixed stream,
// so outputs stay reproducible; Options.Random replaces it.
func TestRunRandomIsSeeded(t *testing.T) {
	s := decodeString(t, `{"requests":[{"name":"r","headers":[["x-op","random"]]}]}`)
	header := func(r *scenario.Result) string {
		for _, h := range r.Results[0].Headers {
			if h[0] == "x-random" {
				return h[1]
			}
		}
		t.Fatalf("no x-random header: %q", r.Results[0].Headers)
		return ""
	}
	a, b := header(run(t, s, scenario.Options{})), header(run(t, s, scenario.Options{}))
	if a != b {
		t.Fatalf("two default runs drew different bytes: %s %s", a, b)
	}
	c := header(run(t, s, scenario.Options{Random: crand.Reader}))
	if c == a {
		t.Fatalf("Options.Random was not used (%s)", c)
	}
}

// FuzzDecode: any input is either a scenario or an ErrInvalid refusal
// with no scenario, never a panic.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "run", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"requests":[{"headers":[["a"]]}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := scenario.Decode(bytes.NewReader(in))
		if err != nil {
			if s != nil || !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("refusal with scenario %v or wrong category: %v", s, err)
			}
			return
		}
		if s == nil {
			t.Fatal("nil scenario without error")
		}
	})
}
