package hostsim_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

func TestStepBodyHeldWhilePausedInHeaders(t *testing.T) {
	ctx := context.Background()
	h, p := start(t, cfg().WithCannedCluster("authz", hostsim.CannedResponse{Status: 200}), hostsim.PluginConfig{})
	s := p.Worker(0).NewStream(hostsim.Request{Method: "POST", Headers: [][2]string{{"x-op", "callout"}, {"x-cluster", "authz"}}})
	if a := s.SendRequestHeaders(ctx, false); a != hostsim.ActionPause {
		t.Fatalf("headers: %v", a)
	}
	if a := s.SendRequestBody(ctx, []byte("abc"), true); a != hostsim.ActionPause {
		t.Fatalf("body while paused in headers: %v", a)
	}
	if logged(h.Logs(), "request_body") {
		t.Fatal("body callback while paused in headers (Envoy stops all iteration)")
	}
	s.RunPending(ctx)
	st := s.State()
	if st.RequestPaused || st.Ended || string(st.ForwardedBody) != "abc" {
		t.Fatalf("after callout: paused=%v ended=%v body=%q", st.RequestPaused, st.Ended, st.ForwardedBody)
	}
	if v, _ := header(st.RequestHeaders, "x-callout-status"); v != "200" {
		t.Fatalf("headers %v", st.RequestHeaders)
	}
	s.SendResponseHeaders(ctx, 204, nil, true)
	s.Complete(ctx)
	if v, _ := header(s.State().ResponseHeaders, "x-seen-by"); v != "conformance" {
		t.Fatalf("response headers %v", s.State().ResponseHeaders)
	}
	if !logged(h.Logs(), "on_delete 2") {
		t.Fatal("stream not completed")
	}
}

func TestStepBodyBuffering(t *testing.T) {
	ctx := context.Background()
	h, p := start(t, cfg(), hostsim.PluginConfig{})
	s := p.Worker(0).NewStream(hostsim.Request{Method: "POST", Headers: [][2]string{{"x-op", "body-buffer"}}})
	s.SendRequestHeaders(ctx, false)
	if a := s.SendRequestBody(ctx, []byte("ab"), false); a != hostsim.ActionPause {
		t.Fatalf("first chunk: %v", a)
	}
	if a := s.SendRequestBody(ctx, []byte("cd"), true); a != hostsim.ActionContinue {
		t.Fatalf("last chunk: %v", a)
	}
	if got := string(s.State().ForwardedBody); got != "abcd" {
		t.Fatalf("forwarded %q", got)
	}
	var sizes []string
	for _, l := range h.Logs() {
		if strings.HasPrefix(l.Message, "request_body") {
			sizes = append(sizes, l.Message)
		}
	}
	if strings.Join(sizes, "|") != "request_body 2 size=2 eos=0|request_body 2 size=4 eos=1" {
		t.Fatalf("body callbacks %q (cumulative size expected)", sizes)
	}

	big := bytes.Repeat([]byte("x"), 600<<10)
	s = p.Worker(0).NewStream(hostsim.Request{Method: "POST", Headers: [][2]string{{"x-op", "body-buffer"}}})
	s.SendRequestHeaders(ctx, false)
	s.SendRequestBody(ctx, big, false)
	s.SendRequestBody(ctx, big, false)
	st := s.State()
	if !st.Ended || st.Result.Status != 413 || st.Result.Outcome != hostsim.OutcomeLocalReply {
		t.Fatalf("over the buffer limit: %+v", st.Result)
	}
}

func TestTranscript(t *testing.T) {
	ctx := context.Background()
	_, p := start(t, cfg().WithTranscript(true), hostsim.PluginConfig{})
	p.Worker(0).Transcript() // drop the start-up calls
	p.Worker(0).HTTP(ctx, hostsim.Request{Headers: [][2]string{{"x-op", "close"}}})
	var names []string
	for _, c := range p.Worker(0).Transcript() {
		names = append(names, c.Name)
		if c.Name == "proxy_close_stream" && (c.Context != 2 || c.Result != 0 || c.Args[0] != 0) {
			t.Fatalf("close_stream record %+v", c)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "proxy_get_header_map_value proxy_log proxy_close_stream") {
		t.Fatalf("transcript %v", names)
	}
}
