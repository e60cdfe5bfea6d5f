// Command guest is a small test plugin for the abi binding: it exercises the facade the way the
// filter does (headers, local replies, HTTP calls, shared data, metrics, logs) and panics on
// request, so wasm_test.go can drive every path under wazero. Behaviour is selected by the
// request header x-mode.
package main

import (
	"errors"
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

func init() { proxywasm.SetVMContext(&vmCtx{}) }

func main() {}

type vmCtx struct{ types.DefaultVMContext }

func (*vmCtx) NewPluginContext(uint32) types.PluginContext { return &pluginCtx{} }

type pluginCtx struct {
	types.DefaultPluginContext
	requests proxywasm.MetricCounter
	inflight proxywasm.MetricGauge
	sizes    proxywasm.MetricHistogram
}

func (p *pluginCtx) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogCritical("guest: no configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	switch string(cfg) {
	case "fail":
		return types.OnPluginStartStatusFailed
	case "panic":
		panic("guest: configure panic with secret-config-value")
	}
	p.requests = proxywasm.DefineCounterMetric("guest_requests")
	p.inflight = proxywasm.DefineGaugeMetric("guest_inflight")
	p.sizes = proxywasm.DefineHistogramMetric("guest_header_count")
	if err := proxywasm.SetSharedData("guest_started", cfg, 0); err != nil {
		proxywasm.LogError("guest: set shared data: " + err.Error())
	}
	proxywasm.LogInfo("guest: configured with " + string(cfg))
	return types.OnPluginStartStatusOK
}

func (p *pluginCtx) OnTick() { proxywasm.LogInfo("guest: tick") }

func (p *pluginCtx) NewHttpContext(id uint32) types.HttpContext {
	return &httpCtx{id: id, plugin: p}
}

type httpCtx struct {
	types.DefaultHttpContext
	id     uint32
	plugin *pluginCtx
}

func (h *httpCtx) OnHttpRequestHeaders(numHeaders int, _ bool) types.Action {
	h.plugin.requests.Increment(1)
	h.plugin.inflight.Add(1)
	h.plugin.sizes.Record(uint64(numHeaders))
	mode, err := proxywasm.GetHttpRequestHeader("x-mode")
	if err != nil {
		if !errors.Is(err, types.ErrorStatusNotFound) {
			// A refused host answer (e.g. a buffer the guest never allocated): fail closed.
			_ = proxywasm.SendHttpResponse(500, nil, []byte("host error: "+err.Error()), -1)
			return types.ActionPause
		}
		mode = "missing"
	}
	switch mode {
	case "panic":
		panic("guest: request panic with secret-token-value")
	case "index":
		var s []int
		_ = s[numHeaders] // runtime error: index out of range
	case "deny":
		_ = proxywasm.SendHttpResponse(403, [][2]string{{"x-why", "test"}}, []byte("denied"), -1)
		return types.ActionPause
	case "callout", "callout-panic":
		id := h.id
		_, err := proxywasm.DispatchHttpCall("auth",
			[][2]string{{":method", "GET"}, {":path", "/check"}, {":authority", "auth"}},
			nil, nil, 1000, func(numHeaders, bodySize, _ int) {
				if mode == "callout-panic" {
					panic("guest: callout panic")
				}
				status := "none"
				if hs, err := proxywasm.GetHttpCallResponseHeaders(); err == nil {
					for _, kv := range hs {
						if kv[0] == ":status" {
							status = kv[1]
						}
					}
				}
				body, _ := proxywasm.GetHttpCallResponseBody(0, bodySize)
				if err := proxywasm.SetEffectiveContext(id); err != nil {
					return
				}
				if status != "200" {
					_ = proxywasm.SendHttpResponse(401, nil, []byte("callout said "+status), -1)
					return
				}
				_ = proxywasm.AddHttpRequestHeader("x-auth", string(body))
				_ = proxywasm.ResumeHttpRequest()
			})
		if err != nil {
			_ = proxywasm.SendHttpResponse(503, nil, []byte("dispatch failed"), -1)
		}
		return types.ActionPause
	case "shared":
		for attempt := 0; attempt < 3; attempt++ {
			v, cas, err := proxywasm.GetSharedData("guest_counter")
			n := 0
			if err == nil {
				n, _ = strconv.Atoi(string(v))
			}
			n++
			if err := proxywasm.SetSharedData("guest_counter", []byte(strconv.Itoa(n)), cas); err == nil {
				_ = proxywasm.AddHttpRequestHeader("x-count", strconv.Itoa(n))
				break
			}
		}
		return types.ActionContinue
	}
	hs, err := proxywasm.GetHttpRequestHeaders()
	if err != nil {
		_ = proxywasm.SendHttpResponse(500, nil, []byte("no headers"), -1)
		return types.ActionPause
	}
	_ = proxywasm.AddHttpRequestHeader("x-seen", strconv.Itoa(len(hs)))
	_ = proxywasm.ReplaceHttpRequestHeader("x-mode", "done")
	_ = proxywasm.RemoveHttpRequestHeader("x-remove")
	return types.ActionContinue
}

func (h *httpCtx) OnHttpStreamDone() {
	h.plugin.inflight.Add(-1)
	proxywasm.LogDebug("guest: stream done")
}
