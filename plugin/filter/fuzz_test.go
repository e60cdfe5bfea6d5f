package filter

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// FuzzRequest sends arbitrary paths, methods and credentials through the
// whole filter. Properties: no panic reaches the host (no critical log),
// every refusal is a JSON reply with a known status, and a request is only
// forwarded when a rule allows it: anonymous /healthz, a valid test key,
// the shadow rule or a preflight.
func FuzzRequest(f *testing.F) {
	f.Add("GET", "/api/x", "ok:bot", "")
	f.Add("POST", "/api/../healthz", "", "")
	f.Add("OPTIONS", "/api/x", "", "GET")
	f.Add("GET", "/%2e%2e/admin", "bad", "")
	f.Add("GET", "/trial;x", "", "")
	f.Fuzz(func(t *testing.T, method, path, key, acrm string) {
		opt := proxytest.NewEmulatorOption().WithPluginConfiguration([]byte(filterConfig)).
			WithVMContext(NewVMContextWith(Options{Kinds: testKinds, Env: conf.MapEnv{}, Now: func() int64 { return testNow }}))
		host, reset := proxytest.NewHostEmulator(opt)
		defer reset()
		if host.StartPlugin() != types.OnPluginStartStatusOK {
			t.Fatal("start")
		}
		hs := request(method, path)
		if key != "" {
			hs = append(hs, [2]string{"x-key", key})
		}
		if acrm != "" {
			hs = append(hs, [2]string{"origin", "https://a.test"}, [2]string{"access-control-request-method", acrm})
		}
		id := host.InitializeHttpContext()
		act := host.CallOnRequestHeaders(id, hs, true)
		if crit := host.GetCriticalLogs(); len(crit) > 0 {
			t.Fatalf("critical: %q", crit)
		}
		if r := host.GetSentLocalResponse(id); r != nil {
			switch r.StatusCode {
			case 400, 401, 403, 429, 503:
			default:
				t.Fatalf("unexpected status %d", r.StatusCode)
			}
			if !strings.HasPrefix(string(r.Data), `{"error":"`) {
				t.Fatalf("body %q", r.Data)
			}
			return
		}
		if act != types.ActionContinue {
			return // paused for a callout (the remote rule)
		}
		subject := header(host.GetCurrentRequestHeaders(id), "x-tokengate-subject")
		allowedByKey := strings.HasPrefix(key, "ok:") && len(subject) <= 1
		if !allowedByKey && len(subject) != 0 {
			t.Fatalf("identity %q without a valid key", subject)
		}
		if !allowedByKey && method != "OPTIONS" && !logsContain(host, "shadow: would deny") {
			// Only the anonymous health rule remains.
			if v, _ := host.GetCounterMetric("tokengate.requests.rule.health.provider._anonymous.outcome.allowed.reason.ok"); v != 1 {
				t.Fatalf("forwarded %s %q without a verdict that allows it", method, path)
			}
		}
	})
}
