//go:build !wasip1

package abi_test

import (
	"slices"
	"strings"
	"testing"
)

func header(hs [][2]string, k string) (string, bool) {
	for _, kv := range hs {
		if kv[0] == k {
			return kv[1], true
		}
	}
	return "", false
}

func TestLifecycle(t *testing.T) {
	h, ok := newHarness(t, "hello")
	if !ok {
		t.Fatalf("configure failed; logs:\n%s", h.logText())
	}
	if !strings.Contains(h.logText(), "guest: configured with hello") {
		t.Errorf("configure log missing; logs:\n%s", h.logText())
	}
	if got := string(h.shared["guest_started"].value); got != "hello" {
		t.Errorf("shared data guest_started = %q, want hello", got)
	}
	var names []string
	for _, m := range h.metrics {
		names = append(names, m.name)
	}
	slices.Sort(names)
	if want := []string{"guest_header_count", "guest_inflight", "guest_requests"}; !slices.Equal(names, want) {
		t.Errorf("metrics = %v, want %v", names, want)
	}
	h.call("proxy_on_tick", rootID)
	if !strings.Contains(h.logText(), "guest: tick") {
		t.Errorf("tick did not reach the plugin context")
	}
	if h.call("proxy_on_done", rootID) != 1 {
		t.Errorf("root on_done = 0, want 1 (default plugin context is done at once)")
	}
	h.call("proxy_on_delete", rootID)
}

func TestConfigureFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name, config, wantLog, secret string
	}{
		{name: "plugin refuses", config: "fail"},
		{name: "plugin panics", config: "panic", wantLog: "panic in proxy_on_configure (value not logged)", secret: "secret-config-value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := newHarness(t, tc.config)
			if ok {
				t.Fatal("configure succeeded, want failure")
			}
			if tc.wantLog != "" && !strings.Contains(h.logText(), tc.wantLog) {
				t.Errorf("log lacks %q; logs:\n%s", tc.wantLog, h.logText())
			}
			if tc.secret != "" && strings.Contains(h.logText(), tc.secret) {
				t.Errorf("panic value leaked into logs:\n%s", h.logText())
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	h, ok := newHarness(t, "cfg")
	if !ok {
		t.Fatal("configure failed")
	}
	action, s := h.request(2, [][2]string{{":path", "/"}, {"x-mode", "plain"}, {"x-remove", "1"}})
	if action != 0 {
		t.Fatalf("action = %d, want Continue; reply %+v", action, s.reply)
	}
	if v, _ := header(s.reqHeaders, "x-seen"); v != "3" {
		t.Errorf("x-seen = %q, want 3 (header count read through get_header_map_pairs)", v)
	}
	if v, _ := header(s.reqHeaders, "x-mode"); v != "done" {
		t.Errorf("x-mode = %q, want replaced by done", v)
	}
	if _, found := header(s.reqHeaders, "x-remove"); found {
		t.Errorf("x-remove still present: %v", s.reqHeaders)
	}
	h.finish(2)

	action, s = h.request(3, [][2]string{{"x-mode", "deny"}})
	if action != 1 || s.reply == nil {
		t.Fatalf("deny: action %d reply %+v, want Pause with a reply", action, s.reply)
	}
	if s.reply.status != 403 || s.reply.body != "denied" || !slices.Equal(s.reply.headers, [][2]string{{"x-why", "test"}}) {
		t.Errorf("deny reply = %+v", s.reply)
	}
	h.finish(3)

	// Metrics written on the request path and undone in OnHttpStreamDone (proxy_on_log).
	for _, m := range h.metrics {
		switch m.name {
		case "guest_requests":
			if m.value != 2 {
				t.Errorf("guest_requests = %d, want 2", m.value)
			}
		case "guest_inflight":
			if m.value != 0 {
				t.Errorf("guest_inflight = %d, want 0 after both streams ended", m.value)
			}
		case "guest_header_count":
			if m.value != 1 {
				t.Errorf("guest_header_count last sample = %d, want 1", m.value)
			}
		}
	}
	if n := strings.Count(h.logText(), "guest: stream done"); n != 2 {
		t.Errorf("stream done logged %d times, want 2", n)
	}
}

func TestPanicFailsClosedAndVMSurvives(t *testing.T) {
	for _, tc := range []struct {
		name, mode, wantLog, secret string
	}{
		{name: "plain panic", mode: "panic", wantLog: "panic in proxy_on_request_headers (value not logged)", secret: "secret-token-value"},
		{name: "runtime error", mode: "index", wantLog: "panic in proxy_on_request_headers: runtime error: index out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := newHarness(t, "cfg")
			if !ok {
				t.Fatal("configure failed")
			}
			action, s := h.request(2, [][2]string{{"x-mode", tc.mode}})
			if action != 1 {
				t.Errorf("action = %d, want Pause", action)
			}
			if s.reply == nil || s.reply.status != 500 || s.reply.body != `{"reason":"internal_error"}` {
				t.Fatalf("reply = %+v, want 500 internal_error", s.reply)
			}
			if v, _ := header(s.reply.headers, "content-type"); v != "application/json" {
				t.Errorf("reply content-type = %q", v)
			}
			if !strings.Contains(h.logText(), tc.wantLog) {
				t.Errorf("log lacks %q; logs:\n%s", tc.wantLog, h.logText())
			}
			if tc.secret != "" && strings.Contains(h.logText(), tc.secret) {
				t.Errorf("panic value leaked into logs")
			}
			// The failed stream never reaches plugin code again; response side lets the reply out.
			if got := h.call("proxy_on_request_body", 2, 0, 1); got != 1 {
				t.Errorf("request body on failed stream = %d, want Pause", got)
			}
			if got := h.call("proxy_on_response_headers", 2, 1, 1); got != 0 {
				t.Errorf("response headers on failed stream = %d, want Continue", got)
			}
			h.finish(2)

			action, s = h.request(3, [][2]string{{"x-mode", "plain"}})
			if action != 0 || s.reply != nil {
				t.Errorf("next request after panic: action %d reply %+v, want Continue", action, s.reply)
			}
			h.finish(3)
		})
	}
}

func TestUnknownStreamFailsClosed(t *testing.T) {
	h, ok := newHarness(t, "cfg")
	if !ok {
		t.Fatal("configure failed")
	}
	// Headers for a context the host never created: a broken invariant, denied.
	h.streams[9] = &stream{}
	if got := h.call("proxy_on_request_headers", 9, 0, 1); got != 1 {
		t.Errorf("action = %d, want Pause", got)
	}
	if r := h.streams[9].reply; r == nil || r.status != 500 {
		t.Errorf("reply = %+v, want 500", r)
	}
}

func TestHttpCallOnRoot(t *testing.T) {
	h, ok := newHarness(t, "cfg")
	if !ok {
		t.Fatal("configure failed")
	}
	for _, tc := range []struct {
		name, mode, status, body string
		wantResume               bool
		wantReply                uint32
		wantBody                 string
	}{
		{name: "allowed", mode: "callout", status: "200", body: "alice", wantResume: true},
		{name: "refused", mode: "callout", status: "403", wantReply: 401, wantBody: "callout said 403"},
		{name: "callback panics", mode: "callout-panic", status: "200", wantReply: 500, wantBody: `{"reason":"internal_error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uint32(10 + len(h.calls))
			action, s := h.request(id, [][2]string{{"x-mode", tc.mode}})
			if action != 1 {
				t.Fatalf("action = %d, want Pause while the call is out", action)
			}
			c := h.calls[len(h.calls)-1]
			if c.cluster != "auth" || !slices.Equal(c.headers, [][2]string{{":method", "GET"}, {":path", "/check"}, {":authority", "auth"}}) {
				t.Errorf("dispatched %+v", c)
			}
			h.respond(c, [][2]string{{":status", tc.status}}, tc.body)
			if s.resumed != tc.wantResume {
				t.Errorf("resumed = %v, want %v", s.resumed, tc.wantResume)
			}
			if tc.wantResume {
				if v, _ := header(s.reqHeaders, "x-auth"); v != tc.body {
					t.Errorf("x-auth = %q, want %q (set via effective context)", v, tc.body)
				}
			}
			if tc.wantReply != 0 && (s.reply == nil || s.reply.status != tc.wantReply || s.reply.body != tc.wantBody) {
				t.Errorf("reply = %+v, want %d %q", s.reply, tc.wantReply, tc.wantBody)
			}
			h.finish(id)
		})
	}
	// A response for a token nobody dispatched is logged and dropped.
	h.call("proxy_on_http_call_response", rootID, 999, 0, 0, 0)
	if !strings.Contains(h.logText(), "unknown token") {
		t.Errorf("unknown token not logged")
	}
}

func TestSharedDataCAS(t *testing.T) {
	h, ok := newHarness(t, "cfg")
	if !ok {
		t.Fatal("configure failed")
	}
	for i, want := range []string{"1", "2", "3"} {
		id := uint32(20 + i)
		_, s := h.request(id, [][2]string{{"x-mode", "shared"}})
		if v, _ := header(s.reqHeaders, "x-count"); v != want {
			t.Errorf("request %d: x-count = %q, want %s", i, v, want)
		}
		h.finish(id)
	}
	// Another writer bumps the CAS between the guest's read and write: the guest retries.
	e := h.shared["guest_counter"]
	h.casCounter += 10
	e.cas = h.casCounter
	h.shared["guest_counter"] = e
	_, s := h.request(30, [][2]string{{"x-mode", "shared"}})
	if v, _ := header(s.reqHeaders, "x-count"); v != "4" {
		t.Errorf("after foreign write: x-count = %q, want 4", v)
	}
}

// TestHostBufferMustBeOurs: the guest only accepts result buffers its allocator handed out for
// this call, so a confused or hostile host cannot make it read arbitrary guest memory.
func TestHostBufferMustBeOurs(t *testing.T) {
	for _, rogue := range []string{"foreign", "oversize"} {
		t.Run(rogue, func(t *testing.T) {
			h, ok := newHarness(t, "cfg")
			if !ok {
				t.Fatal("configure failed")
			}
			h.rogue = rogue
			action, s := h.request(2, [][2]string{{"x-mode", "plain"}})
			if action != 1 || s.reply == nil || s.reply.status != 500 {
				t.Fatalf("action %d reply %+v, want a 500 refusal", action, s.reply)
			}
			if !strings.Contains(s.reply.body, "did not allocate") {
				t.Errorf("reply body %q does not name ErrHostBuffer", s.reply.body)
			}
		})
	}
}
