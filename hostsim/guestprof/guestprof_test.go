package guestprof_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/guestprof"
	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
)

// run sends n requests that make the conformance guest add a header, with
// the profiler recording only while on is true.
func run(t *testing.T, prof *guestprof.Profiler, n int, on bool) {
	t.Helper()
	wasm, err := guesttest.Build(filepath.Join("..", "testdata", "guests", "conformance"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := hostsim.New(prof.Context(ctx), wasm, hostsim.Config{}.WithInterruptible(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if on {
		prof.Start()
		defer prof.Stop()
	}
	for i := 0; i < n; i++ {
		req := hostsim.Request{Path: "/x", Authority: "a", Headers: [][2]string{{"x-op", "add"}}}
		if res := p.Worker(0).HTTP(ctx, req); res.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("request %d: %s", i, res.Outcome)
		}
	}
}

func calls(fs []guestprof.Function, suffix string) (int64, bool) {
	for _, f := range fs {
		if strings.HasSuffix(f.Name, suffix) {
			return f.Calls, true
		}
	}
	return 0, false
}

// TestCountsCallsExactly: every request runs proxy_on_request_headers
// once and the host's add-header function twice (the conformance guest
// adds one header to the request and one to the response).
func TestCountsCallsExactly(t *testing.T) {
	prof := guestprof.New()
	run(t, prof, 25, true)
	fs := prof.Functions()
	for name, want := range map[string]int64{"proxy_on_request_headers": 25, "env.proxy_add_header_map_value": 50} {
		if n, ok := calls(fs, name); !ok || n != want {
			t.Errorf("%s: %d calls (found %v), want %d", name, n, ok, want)
		}
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Self > fs[i-1].Self {
			t.Fatalf("not sorted by self time at %d: %v > %v", i, fs[i].Self, fs[i-1].Self)
		}
	}
	if hdr := prof.Function("proxy_on_request_headers"); hdr.Total <= 0 || hdr.Total < hdr.Self {
		t.Errorf("proxy_on_request_headers total %v self %v", hdr.Total, hdr.Self)
	}
}

// TestStoppedRecordsNothing: listeners run but nothing is counted unless
// started, and Reset forgets a recording.
func TestStoppedRecordsNothing(t *testing.T) {
	prof := guestprof.New()
	run(t, prof, 5, false)
	if fs := prof.Functions(); len(fs) != 0 {
		t.Fatalf("stopped profiler recorded %d functions, e.g. %+v", len(fs), fs[0])
	}
	prof2 := guestprof.New()
	run(t, prof2, 3, true)
	prof2.Reset()
	if fs := prof2.Functions(); len(fs) != 0 {
		t.Fatalf("Reset left %d functions", len(fs))
	}
}

// TestPprofStacks: the pprof output parses, has both sample types, and
// the host's add-header function appears as a leaf once per request under
// the request-header callback (and once more under the response's).
func TestPprofStacks(t *testing.T) {
	prof := guestprof.New()
	run(t, prof, 10, true)
	var buf bytes.Buffer
	if err := prof.WritePprof(&buf); err != nil {
		t.Fatal(err)
	}
	pp, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pp.SampleType) != 2 || pp.SampleType[0].Type != "calls" || pp.SampleType[1].Type != "self" {
		t.Fatalf("sample types %v", pp.SampleType)
	}
	var underRequest, elsewhere int64
	for _, s := range pp.Sample {
		if s.Location[0].Line[0].Function.Name != "env.proxy_add_header_map_value" {
			continue
		}
		under := false
		for _, l := range s.Location[1:] {
			under = under || strings.HasSuffix(l.Line[0].Function.Name, "proxy_on_request_headers")
		}
		if under {
			underRequest += s.Value[0]
		} else {
			elsewhere += s.Value[0]
		}
	}
	if underRequest != 10 || elsewhere != 10 {
		t.Fatalf("add-header calls in pprof: %d under request headers and %d elsewhere, want 10 and 10", underRequest, elsewhere)
	}
}
