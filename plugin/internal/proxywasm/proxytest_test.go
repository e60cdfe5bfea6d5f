//go:build !wasip1

package proxywasm_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// A tiny plugin written against the facade, run natively under the SDK's proxytest emulator:
// the native build must reach the emulator for every kind of call the filter makes.
type vmCtx struct{ types.DefaultVMContext }

func (*vmCtx) NewPluginContext(uint32) types.PluginContext { return &pluginCtx{} }

type pluginCtx struct {
	types.DefaultPluginContext
	counter proxywasm.MetricCounter
}

func (p *pluginCtx) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration()
	if err != nil || string(cfg) != "cfg" {
		return types.OnPluginStartStatusFailed
	}
	p.counter = proxywasm.DefineCounterMetric("facade_requests")
	return types.OnPluginStartStatusOK
}

func (p *pluginCtx) NewHttpContext(id uint32) types.HttpContext { return &httpCtx{id: id, p: p} }

type httpCtx struct {
	types.DefaultHttpContext
	id uint32
	p  *pluginCtx
}

func (h *httpCtx) OnHttpRequestHeaders(int, bool) types.Action {
	h.p.counter.Increment(1)
	if v, _ := proxywasm.GetHttpRequestHeader("x-deny"); v != "" {
		_ = proxywasm.SendHttpResponse(403, [][2]string{{"x-why", v}}, []byte("no"), -1)
		return types.ActionPause
	}
	_ = proxywasm.SetSharedData("k", []byte("v"), 0)
	_ = proxywasm.AddHttpRequestHeader("x-ok", "1")
	proxywasm.LogInfo("facade: forwarded")
	return types.ActionContinue
}

func TestFacadeUnderProxytest(t *testing.T) {
	opt := proxytest.NewEmulatorOption().WithVMContext(&vmCtx{}).WithPluginConfiguration([]byte("cfg"))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatal("plugin did not start")
	}

	id := host.InitializeHttpContext()
	if a := host.CallOnRequestHeaders(id, [][2]string{{"x-deny", "test"}}, true); a != types.ActionPause {
		t.Errorf("deny action = %v", a)
	}
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 403 || string(r.Data) != "no" {
		t.Errorf("local response = %+v", r)
	}

	id = host.InitializeHttpContext()
	if a := host.CallOnRequestHeaders(id, [][2]string{{"a", "b"}}, true); a != types.ActionContinue {
		t.Errorf("allow action = %v", a)
	}
	hs := host.GetCurrentRequestHeaders(id)
	if len(hs) != 2 || hs[1] != [2]string{"x-ok", "1"} {
		t.Errorf("headers = %v", hs)
	}
	if v, _, err := proxywasm.GetSharedData("k"); err != nil || string(v) != "v" {
		t.Errorf("shared data = %q, %v", v, err)
	}
	if logs := host.GetInfoLogs(); len(logs) != 1 || logs[0] != "facade: forwarded" {
		t.Errorf("info logs = %v", logs)
	}
	if v, err := host.GetCounterMetric("facade_requests"); err != nil || v != 2 {
		t.Errorf("counter = %d, %v", v, err)
	}
}
