package attacks

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/filter"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
	"github.com/tokengate/tokengate/tests/attacks/panicky"
)

// TestPanicContainmentNative: every provider of the fixture panics on
// demand inside the filter (natively, under the SDK's proxytest host): the
// request is refused 500 internal_error, the panic value is not logged, and
// the next request on the same VM is served.
//
// The same proof on the built .wasm needs a test main that registers the
// filter with these kinds; plugin/filter has no exported registration hook
// for a main outside plugin/ (see SECURITY.md, "Panic containment").
func TestPanicContainmentNative(t *testing.T) {
	e := &env{t: t}
	fx, err := fixture.Get()
	if err != nil {
		t.Fatal(err)
	}
	e.fx, e.now = fx, fixture.T0
	routeOf := map[string]string{"keys": "k", "office": "ip", "codes": "rc", "tmp": "st", "jwt": "jwt", "az": "az",
		"sp": "sp", "hs": "hs", "sess": "sess", "intro": "intro"}
	for name, route := range routeOf {
		t.Run(name, func(t *testing.T) {
			opt := proxytest.NewEmulatorOption().WithPluginConfiguration(fx.Config).
				WithProperty([]string{"source", "address"}, []byte(fixture.ClientIP+":40000")).
				WithVMContext(filter.NewVMContextWith(filter.Options{Kinds: panicky.Kinds(), Env: conf.MapEnv{},
					Now: func() int64 { return fixture.T0.UnixNano() }}))
			host, reset := proxytest.NewHostEmulator(opt)
			defer reset()
			if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
				t.Fatalf("start: %v", host.GetCriticalLogs())
			}
			headers := func(extra ...[2]string) [][2]string {
				r := valid(e, route)
				hs := [][2]string{{":method", r.Method}, {":path", r.Path}, {":authority", fixture.Authority}}
				return append(append(hs, r.Headers...), extra...)
			}
			id := host.InitializeHttpContext()
			host.CallOnRequestHeaders(id, headers([2]string{"x-panic", name}), true)
			reply := host.GetSentLocalResponse(id)
			if reply == nil || reply.StatusCode != 500 || string(reply.Data) != `{"error":"internal_error"}` {
				t.Fatalf("panicking %s: reply %+v, want 500 internal_error", name, reply)
			}
			if route == "sess" || route == "intro" {
				id := host.InitializeHttpContext()
				if act := host.CallOnRequestHeaders(id, headers([2]string{"x-panic-resume", name}), true); act != types.ActionPause {
					t.Fatalf("callout provider did not pause: %v", act)
				}
				calls := host.GetCalloutAttributesFromContext(id)
				if len(calls) != 1 {
					t.Fatalf("%d callouts", len(calls))
				}
				host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, []byte(`{"valid":true,"active":true,"subject":"x","sub":"x"}`))
				if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 500 {
					t.Fatalf("panic in a callout's resume: reply %+v, want 500", r)
				}
			}
			var all []string
			for _, l := range [][]string{host.GetTraceLogs(), host.GetDebugLogs(), host.GetInfoLogs(), host.GetWarnLogs(), host.GetErrorLogs(), host.GetCriticalLogs()} {
				all = append(all, l...)
			}
			crit := strings.Join(host.GetCriticalLogs(), "\n")
			if !strings.Contains(crit, "panic") {
				t.Errorf("no critical line names the panic: %q", crit)
			}
			for _, l := range all {
				if strings.Contains(l, panicky.Value) {
					t.Errorf("panic value logged: %q", l)
				}
				for _, f := range fx.Scan.Text("log", l) {
					t.Errorf("secret leak: %s", f)
				}
			}
			// The VM keeps serving: a request without the trigger.
			id = host.InitializeHttpContext()
			act := host.CallOnRequestHeaders(id, headers(), true)
			if route == "sess" || route == "intro" {
				calls := host.GetCalloutAttributesFromContext(id)
				if len(calls) != 1 {
					t.Fatalf("after the panic: %d callouts (action %v, reply %+v)", len(calls), act, host.GetSentLocalResponse(id))
				}
				body := `{"valid":true,"subject":"user-0","expires_at":1900000000}`
				if route == "intro" {
					body = `{"active":true,"sub":"svc-0","scope":"read"}`
				}
				host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, nil, []byte(body))
				act = host.GetCurrentHttpStreamAction(id)
			}
			if r := host.GetSentLocalResponse(id); r != nil || act != types.ActionContinue {
				t.Fatalf("after a contained panic the next request is not served: action %v, reply %+v", act, r)
			}
		})
	}
}
