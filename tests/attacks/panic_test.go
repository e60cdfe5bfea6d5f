package attacks

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/filter"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/authnz"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/httpsig"
	"github.com/tokengate/tokengate/plugin/provider/introspect"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
	"github.com/tokengate/tokengate/plugin/provider/jwt"
	"github.com/tokengate/tokengate/plugin/provider/rollingcode"
	"github.com/tokengate/tokengate/plugin/provider/scopedtoken"
	"github.com/tokengate/tokengate/plugin/provider/session"
	"github.com/tokengate/tokengate/plugin/provider/signedpayload"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// panicValue is what the panicking providers panic with: it looks like a
// secret, so a log line that printed the panic value would be a leak.
const panicValue = "panic-value-carrying-a-secret-7c1f0e9a"

// panicky wraps a real provider: Verify panics when the request names it in
// x-panic, and a callout's Resume panics when x-panic-resume names it.
type panicky struct{ provider.Provider }

func (p panicky) Verify(r *provider.Request) (provider.Identity, error) {
	if v, _ := r.Header("x-panic"); v == p.Name() {
		panic(panicValue)
	}
	id, err := p.Provider.Verify(r)
	if nc, ok := err.(*provider.NeedCallout); ok {
		if v, _ := r.Header("x-panic-resume"); v == p.Name() {
			inner := nc.Resume
			nc.Resume = func(resp *provider.CalloutResponse) (provider.Identity, error) {
				_, _ = inner, resp
				panic(panicValue)
			}
		}
	}
	return id, err
}

// Strip keeps the wrapped provider's credential stripping.
func (p panicky) Strip(r *provider.Request, e *provider.Edits) {
	if s, ok := p.Provider.(provider.Stripper); ok {
		s.Strip(r, e)
	}
}

func wrap(c config.Constructor) config.Constructor {
	return func(name string, o *conf.Object, d provider.Deps) provider.Provider {
		p := c(name, o, d)
		if p == nil {
			return nil
		}
		return panicky{p}
	}
}

// panicKinds are the production provider types, each able to panic on demand.
func panicKinds() map[string]config.Constructor {
	return map[string]config.Constructor{
		"api_key": wrap(apikey.FromConfig), "http_signature": wrap(httpsig.FromConfig),
		"introspection": wrap(introspect.FromConfig), "ip_rule": wrap(iprule.FromConfig),
		"jwt": wrap(jwt.FromConfig), "rolling_code": wrap(rollingcode.FromConfig),
		"scoped_token": wrap(scopedtoken.FromConfig), "signed_payload": wrap(signedpayload.FromConfig),
		"session": wrap(session.FromConfig), "authnzerver_key": wrap(authnz.FromConfig),
	}
}

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
				WithVMContext(filter.NewVMContextWith(filter.Options{Kinds: panicKinds(), Env: conf.MapEnv{},
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
				if strings.Contains(l, panicValue) {
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
