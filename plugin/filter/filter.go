// Package filter is tokengate's proxy-wasm HTTP filter: the VM, plugin and
// HTTP contexts that Envoy drives.
package filter

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

// NewVMContext returns the root of tokengate's context tree. The wasm main
// registers it with the runtime; native tests hand it to proxytest.
func NewVMContext() types.VMContext { return &vmContext{} }

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct{ types.DefaultPluginContext }

// OnPluginStart refuses to start until the configuration reader is wired:
// failing closed is the only safe placeholder.
func (*pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	hostLogCritical("tokengate: configuration support is not built yet; refusing to start")
	return types.OnPluginStartStatusFailed
}
