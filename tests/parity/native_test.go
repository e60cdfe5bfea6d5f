package parity

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/hostsim/scenario"
	"github.com/tokengate/tokengate/plugin/filter"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// TestScenariosNative replays every scenario through plugin/filter linked
// natively, under the SDK's proxytest host emulator.
func TestScenariosNative(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.expect, runNative(t, c.scen, c.expect))
		})
	}
}

// runNative plays the decoded scenario the way scenario.md describes, with
// the limits of proxytest: one worker, callouts answered from "upstreams".
// scenario.Run cannot drive proxytest, so this runner is parity's own; it
// reports in scenario.Result's shape so that both sides compare directly.
func runNative(t *testing.T, s *scenario.Scenario, exp expectation) *scenario.Result {
	now := s.NowUnixMs * 1e6
	opt := proxytest.NewEmulatorOption().
		WithPluginConfiguration(s.PluginConfig).
		WithVMConfiguration([]byte(s.VMConfig)).
		WithVMContext(filter.NewVMContextWith(filter.Options{
			Env: conf.MapEnv(s.Env),
			Now: func() int64 { return now },
		}))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	out := &scenario.Result{Metrics: map[string]int64{}}
	out.VMStartOK = host.StartVM() == types.OnVMStartStatusOK
	if !out.VMStartOK {
		return out
	}
	out.ConfigureOK = host.StartPlugin() == types.OnPluginStartStatusOK
	if !out.ConfigureOK {
		return out
	}
	for _, r := range s.Requests {
		now += r.AdvanceMs * 1e6
		out.Results = append(out.Results, nativeRequest(t, host, s, r, &now))
	}
	for name := range exp.Metrics {
		if v, err := host.GetCounterMetric(name); err == nil {
			out.Metrics[name] = int64(v)
		}
	}
	return out
}

func nativeRequest(t *testing.T, host proxytest.HostEmulator, s *scenario.Scenario, r scenario.Request, now *int64) (res scenario.RequestResult) {
	res.Name = r.Name
	defer func() {
		if p := recover(); p != nil {
			res = scenario.RequestResult{Name: r.Name, Outcome: "trap", Body: "panic"}
		}
	}()
	setProp(t, host, "source", r.SourceAddress)
	setProp(t, host, "destination", r.DestinationAddress)
	// Pseudo-headers in Envoy's order (as hostsim sends them), with
	// scenario.md's defaults.
	method, path, scheme := r.Method, r.Path, r.Scheme
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/"
	}
	if scheme == "" {
		scheme = "http"
	}
	hs := [][2]string{{":authority", r.Authority}, {":path", path}, {":method", method}, {":scheme", scheme}}
	for _, h := range r.Headers {
		hs = append(hs, [2]string{strings.ToLower(h[0]), h[1]})
	}
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, hs, r.Body == "")
	// Answer callouts until the plugin stops asking.
	answered := 0
	for {
		calls := host.GetCalloutAttributesFromContext(id)
		if answered >= len(calls) {
			break
		}
		c := calls[answered]
		answered++
		up, ok := s.Upstreams[c.Upstream]
		timeout := calloutTimeout(c)
		switch {
		case !ok:
			host.CallOnHttpCallResponse(c.CalloutID, nil, nil, nil) // reset
		case timeout > 0 && up.DelayMs > timeout:
			*now += timeout * 1e6
			host.CallOnHttpCallResponse(c.CalloutID, [][2]string{{":status", "504"}}, nil, []byte("upstream request timeout"))
		default:
			*now += up.DelayMs * 1e6
			status := up.Status
			if status == 0 {
				status = 200 // scenario.md's default, as scenario.Run applies it
			}
			rh := append([][2]string{{":status", strconv.Itoa(status)}}, up.Headers...)
			host.CallOnHttpCallResponse(c.CalloutID, rh, nil, []byte(up.Body))
		}
	}
	if r.Body != "" && host.GetSentLocalResponse(id) == nil && host.GetCurrentHttpStreamAction(id) == types.ActionContinue {
		host.CallOnRequestBody(id, []byte(r.Body), true)
	}
	if lr := host.GetSentLocalResponse(id); lr != nil {
		res.Outcome, res.Status, res.Body = "local_reply", int(lr.StatusCode), string(lr.Data)
		res.Headers = append([][2]string{{":status", strconv.Itoa(int(lr.StatusCode))}}, lr.Headers...)
		if len(lr.Data) > 0 {
			res.Headers = append(res.Headers, [2]string{"content-length", strconv.Itoa(len(lr.Data))})
			if !hasName(lr.Headers, "content-type") {
				res.Headers = append(res.Headers, [2]string{"content-type", "text/plain"})
			}
		}
	} else if host.GetCurrentHttpStreamAction(id) == types.ActionContinue {
		res.Outcome, res.Status = "forwarded", 200
		res.Headers = host.GetCurrentRequestHeaders(id)
	} else {
		res.Outcome = "paused_forever"
	}
	host.CompleteHttpContext(id)
	return res
}

// calloutTimeout is not visible through proxytest's callout attributes; a
// scenario delay beyond this default is treated as a timeout.
func calloutTimeout(proxytest.HttpCalloutAttribute) int64 { return 5000 }

func hasName(hs [][2]string, n string) bool {
	for _, h := range hs {
		if h[0] == n {
			return true
		}
	}
	return false
}

func setProp(t *testing.T, host proxytest.HostEmulator, name, addr string) {
	if addr == "" {
		return
	}
	if err := host.SetProperty([]string{name, "address"}, []byte(addr)); err != nil {
		t.Fatal(err)
	}
}
