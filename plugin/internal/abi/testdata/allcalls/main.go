// Command allcalls references every host call of the binding (through the facade, plus the abi
// extras the facade does not expose), so its import list contains every env.proxy_* function we
// declare. tests/imports checks those signatures against the ABI, and hostsim loads it. It is
// never run for behaviour: the calls sit in OnTick, which no test triggers.
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/internal/abi"
	pw "github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

func init() { pw.SetVMContext(&vm{}) }

func main() {}

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct{ types.DefaultPluginContext }

func (*plugin) OnTick() {
	b := []byte("x")
	h := [][2]string{{"k", "v"}}
	_, _ = pw.GetVMConfiguration()
	_, _ = pw.GetPluginConfiguration()
	_ = pw.SetTickPeriodMilliSeconds(1)
	_ = pw.SetEffectiveContext(1)
	q, _ := pw.RegisterSharedQueue("q")
	_, _ = pw.ResolveSharedQueue("", "q")
	_ = pw.EnqueueSharedQueue(q, b)
	_, _ = pw.DequeueSharedQueue(q)
	pw.PluginDone()
	_, _ = pw.DispatchHttpCall("c", h, b, h, 1, func(int, int, int) {})
	_, _ = pw.GetHttpCallResponseHeaders()
	_, _ = pw.GetHttpCallResponseBody(0, 1)
	_, _ = pw.GetHttpCallResponseTrailers()
	_, _ = pw.GetDownstreamData(0, 1)
	_ = pw.AppendDownstreamData(b)
	_ = pw.PrependDownstreamData(b)
	_ = pw.ReplaceDownstreamData(b)
	_ = pw.ContinueTcpStream()
	_ = pw.CloseDownstream()
	_ = pw.CloseUpstream()
	_, _ = pw.GetHttpRequestHeaders()
	_ = pw.ReplaceHttpRequestHeaders(h)
	_, _ = pw.GetHttpRequestHeader("k")
	_ = pw.RemoveHttpRequestHeader("k")
	_ = pw.ReplaceHttpRequestHeader("k", "v")
	_ = pw.AddHttpRequestHeader("k", "v")
	_, _ = pw.GetHttpRequestBody(0, 1)
	_ = pw.ReplaceHttpRequestBody(b)
	_ = pw.ResumeHttpRequest()
	_ = pw.SendHttpResponse(403, h, b, -1)
	_, _, _ = pw.GetSharedData("k")
	_ = pw.SetSharedData("k", b, 0)
	_, _ = pw.GetProperty([]string{"a"})
	_ = pw.SetProperty([]string{"a"}, b)
	_, _ = pw.CallForeignFunction("f", b)
	pw.LogInfo("x")
	c := pw.DefineCounterMetric("c")
	c.Increment(1)
	_ = c.Value()
	pw.DefineHistogramMetric("h").Record(1)
	_, _ = abi.GetLogLevel()
	_, _ = abi.GetCurrentTimeNanoseconds()
	_, _, _ = abi.GetBufferStatus(abi.BufferTypeHttpRequestBody)
	_, _ = abi.GetMapSize(abi.MapTypeHttpRequestHeaders)
}
