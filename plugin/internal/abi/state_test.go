package abi

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// recorder is a failHost that remembers what the state machine asked of the host.
type recorder struct {
	logs      []string
	replies   []uint32 // target context of each internal-error reply
	closes    int
	effective uint32
	live      map[uint32]bool
	m         *machine
}

func (r *recorder) log(_ LogLevel, msg string) { r.logs = append(r.logs, msg) }
func (r *recorder) sendInternalError()         { r.replies = append(r.replies, r.m.target()) }
func (r *recorder) closeDownstream()           { r.closes++ }
func (r *recorder) setEffectiveContext(id uint32) bool {
	if !r.live[id] {
		return false
	}
	r.effective = id
	return true
}

// fakePlugin panics in the callbacks named in panics and counts plugin calls.
type fakePlugin struct {
	types.DefaultVMContext
	types.DefaultPluginContext
	types.DefaultHttpContext
	types.DefaultTcpContext
	panics    map[string]any
	calls     map[string]int
	noStreams bool
	tcp       bool
}

func (f *fakePlugin) hit(name string) {
	f.calls[name]++
	if p, ok := f.panics[name]; ok {
		panic(p)
	}
}

func (f *fakePlugin) OnVMStart(int) types.OnVMStartStatus { f.hit("vm_start"); return true }
func (f *fakePlugin) NewPluginContext(uint32) types.PluginContext {
	f.hit("new_plugin")
	return f
}
func (f *fakePlugin) OnPluginStart(int) types.OnPluginStartStatus { f.hit("configure"); return true }
func (f *fakePlugin) OnPluginDone() bool                          { f.hit("done"); return false }
func (f *fakePlugin) OnTick()                                     { f.hit("tick") }
func (f *fakePlugin) NewHttpContext(uint32) types.HttpContext {
	f.hit("new_http")
	if f.noStreams || f.tcp {
		return nil
	}
	return f
}
func (f *fakePlugin) NewTcpContext(uint32) types.TcpContext {
	if !f.tcp {
		return nil
	}
	return f
}
func (f *fakePlugin) OnHttpRequestHeaders(int, bool) types.Action {
	f.hit("request_headers")
	return types.ActionContinue
}
func (f *fakePlugin) OnHttpRequestBody(int, bool) types.Action {
	f.hit("request_body")
	return types.ActionContinue
}
func (f *fakePlugin) OnHttpResponseHeaders(int, bool) types.Action {
	f.hit("response_headers")
	return types.ActionContinue
}
func (f *fakePlugin) OnHttpStreamDone()                       { f.hit("stream_done") }
func (f *fakePlugin) OnDownstreamData(int, bool) types.Action { f.hit("downstream"); return 0 }

func setup(f *fakePlugin) (*machine, *recorder) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	r := &recorder{live: map[uint32]bool{}}
	m := newMachine(r)
	r.m = m
	m.vm = f
	m.onContextCreate(1, 0)
	return m, r
}

func TestPanicInHTTPCallbackFailsStream(t *testing.T) {
	for _, tc := range []struct {
		name    string
		panicIn string
		run     func(m *machine) uint32
	}{
		{"request headers", "request_headers", func(m *machine) uint32 { return m.onRequestHeaders(2, 0, 1) }},
		{"request body", "request_body", func(m *machine) uint32 { return m.onRequestBody(2, 5, 1) }},
		{"response headers", "response_headers", func(m *machine) uint32 { return m.onResponseHeaders(2, 0, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakePlugin{panics: map[string]any{tc.panicIn: "secret-abc"}}
			m, r := setup(f)
			m.onContextCreate(2, 1)
			if got := tc.run(m); got != actionPause {
				t.Errorf("action = %d, want Pause", got)
			}
			if len(r.replies) != 1 || r.replies[0] != 2 {
				t.Errorf("replies = %v, want one on stream 2", r.replies)
			}
			if strings.Contains(strings.Join(r.logs, "|"), "secret-abc") {
				t.Errorf("panic value logged: %v", r.logs)
			}
			// No more plugin calls for this stream, and no second reply.
			before := f.calls[tc.panicIn]
			m.onRequestHeaders(2, 0, 1)
			m.onRequestBody(2, 1, 1)
			if got := m.onResponseHeaders(2, 0, 1); got != actionContinue {
				t.Errorf("response headers after failure = %d, want Continue (let the reply out)", got)
			}
			if f.calls[tc.panicIn] != before || len(r.replies) != 1 {
				t.Errorf("failed stream reached the plugin again or replied twice: calls %v replies %v", f.calls, r.replies)
			}
			m.onLog(2)
			if f.calls["stream_done"] != 1 {
				t.Errorf("OnHttpStreamDone not called on log")
			}
			m.onDelete(2)
			if _, ok := m.streams[2]; ok {
				t.Error("stream not deleted")
			}
		})
	}
}

func TestStreamWithoutContextIsDenied(t *testing.T) {
	for _, tc := range []struct {
		name   string
		plugin *fakePlugin
		create bool
	}{
		{"NewHttpContext panics", &fakePlugin{panics: map[string]any{"new_http": "x"}}, true},
		{"plugin has no stream contexts", &fakePlugin{noStreams: true}, true},
		{"never created", &fakePlugin{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, r := setup(tc.plugin)
			if tc.create {
				m.onContextCreate(2, 1)
			}
			if got := m.onRequestHeaders(2, 0, 1); got != actionPause {
				t.Errorf("action = %d, want Pause", got)
			}
			if len(r.replies) != 1 {
				t.Errorf("replies = %v, want one", r.replies)
			}
			if tc.plugin.calls["request_headers"] != 0 {
				t.Error("plugin reached without a context")
			}
		})
	}
}

func TestRootFailuresFailTheStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		panics map[string]any
		noVM   bool
		want   func(m *machine) uint32
	}{
		{name: "NewPluginContext panics", panics: map[string]any{"new_plugin": "x"}, want: func(m *machine) uint32 { return m.onConfigure(1, 0) }},
		{name: "vm_start panics", panics: map[string]any{"vm_start": "x"}, want: func(m *machine) uint32 { return m.onVMStart(1, 0) }},
		{name: "configure panics", panics: map[string]any{"configure": "x"}, want: func(m *machine) uint32 { return m.onConfigure(1, 0) }},
		{name: "no VM context registered", noVM: true, want: func(m *machine) uint32 { return m.onVMStart(1, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakePlugin{panics: tc.panics, calls: map[string]int{}}
			r := &recorder{live: map[uint32]bool{}}
			m := newMachine(r)
			r.m = m
			if !tc.noVM {
				m.vm = f
			}
			m.onContextCreate(1, 0)
			if got := tc.want(m); got != 0 {
				t.Errorf("got %d, want 0 (start refused)", got)
			}
			if len(r.logs) == 0 {
				t.Error("failure not logged")
			}
		})
	}
}

func TestCalloutPanicDeniesOrigin(t *testing.T) {
	f := &fakePlugin{}
	m, r := setup(f)
	m.onContextCreate(2, 1)
	m.enter(2)
	m.registerCallout(4, func(int, int, int) { panic("boom") })
	m.enter(3) // a stream that is not the origin
	m.registerCallout(8, func(int, int, int) { panic("boom") })
	m.onContextCreate(3, 1)
	m.enter(1)
	m.registerCallout(12, func(int, int, int) { panic("boom") }) // dispatched by the root itself

	r.live[2] = true
	m.onHttpCallResponse(1, 4, 1, 0, 0)
	if len(r.replies) != 1 || r.replies[0] != 2 {
		t.Fatalf("replies = %v, want one on origin stream 2 via effective context", r.replies)
	}
	if !m.streams[2].failed {
		t.Error("origin stream not marked failed")
	}
	// Origin 3 is gone by the time the response comes: nothing to deny, nothing panics.
	m.onHttpCallResponse(1, 8, 1, 0, 0)
	m.onHttpCallResponse(1, 12, 1, 0, 0)
	if len(r.replies) != 1 {
		t.Errorf("replies = %v, want still one", r.replies)
	}
	// Tokens are single use.
	m.onHttpCallResponse(1, 4, 1, 0, 0)
	if !strings.Contains(strings.Join(r.logs, "|"), "unknown token") {
		t.Errorf("reused token not reported: %v", r.logs)
	}
}

func TestCalloutRoutedToRootOfEffectiveContext(t *testing.T) {
	f := &fakePlugin{}
	m, _ := setup(f)
	m.onContextCreate(2, 1)
	m.enter(2)
	got := 0
	m.registerCallout(4, func(h, b, tr int) { got = h*100 + b*10 + tr })
	m.onHttpCallResponse(1, 4, 1, 2, 3)
	if got != 123 {
		t.Errorf("callback args = %d, want 123", got)
	}
}

func TestTCPPanicClosesConnection(t *testing.T) {
	f := &fakePlugin{tcp: true, panics: map[string]any{"downstream": "x"}}
	m, r := setup(f)
	m.onContextCreate(2, 1)
	if got := m.onDownstreamData(2, 3, 0); got != actionPause || r.closes != 1 {
		t.Errorf("action %d closes %d, want Pause and one close", got, r.closes)
	}
	m.onDownstreamData(2, 3, 0)
	if f.calls["downstream"] != 1 {
		t.Error("failed connection reached the plugin again")
	}
}

func TestDoneAndTickGuards(t *testing.T) {
	f := &fakePlugin{panics: map[string]any{"tick": "x"}}
	m, r := setup(f)
	m.onTick(1) // must not propagate
	if len(r.logs) != 1 {
		t.Errorf("tick panic logs = %v", r.logs)
	}
	if got := m.onDone(1); got != 0 {
		t.Errorf("on_done = %d, want the plugin's false", got)
	}
	f.panics["done"] = "x"
	if got := m.onDone(1); got != 1 {
		t.Errorf("on_done after panic = %d, want 1 (let the host delete)", got)
	}
	if got := m.onDone(99); got != 1 {
		t.Errorf("on_done for a stream = %d, want 1", got)
	}
}

func TestPanicMessage(t *testing.T) {
	var s []int
	var re any
	func() {
		defer func() { re = recover() }()
		_ = s[3]
	}()
	if got := panicMessage("x", re); !strings.Contains(got, "index out of range") {
		t.Errorf("runtime error not described: %q", got)
	}
	for _, v := range []any{"token=abc", errString("key=abc"), 42} {
		if got := panicMessage("x", v); strings.Contains(got, "abc") || strings.Contains(got, "42") {
			t.Errorf("plugin panic value leaked: %q", got)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
