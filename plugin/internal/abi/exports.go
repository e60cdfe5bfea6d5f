//go:build wasip1 && !tinygo

package abi

import (
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Callbacks Envoy calls (host doc §2.4, §3). Each one drops stale pins, then hands over to the
// state machine, whose methods recover every panic (state.go). Signatures follow ABI 0.2.x:
// header callbacks take (context, count, end_of_stream); booleans travel as i32.

// vm is the state machine of this VM instance.
var vm = newMachine(wasmHost{})

// SetVMContext registers the plugin's VM context. Call it from init(): in a Go reactor package
// init runs inside _initialize, before Envoy's first proxy_on_context_create.
func SetVMContext(ctx types.VMContext) { vm.vm = ctx }

// proxy_abi_version_0_2_1 is the ABI marker; the host never calls it.
//
//go:wasmexport proxy_abi_version_0_2_1
func proxy_abi_version_0_2_1() {}

//go:wasmexport proxy_on_context_create
func proxy_on_context_create(contextID, parentContextID uint32) {
	unpin()
	vm.onContextCreate(contextID, parentContextID)
}

//go:wasmexport proxy_on_vm_start
func proxy_on_vm_start(rootContextID, vmConfigurationSize uint32) uint32 {
	unpin()
	return vm.onVMStart(rootContextID, vmConfigurationSize)
}

//go:wasmexport proxy_on_configure
func proxy_on_configure(rootContextID, pluginConfigurationSize uint32) uint32 {
	unpin()
	return vm.onConfigure(rootContextID, pluginConfigurationSize)
}

//go:wasmexport proxy_on_tick
func proxy_on_tick(rootContextID uint32) {
	unpin()
	vm.onTick(rootContextID)
}

//go:wasmexport proxy_on_queue_ready
func proxy_on_queue_ready(rootContextID, queueID uint32) {
	unpin()
	vm.onQueueReady(rootContextID, queueID)
}

//go:wasmexport proxy_on_request_headers
func proxy_on_request_headers(contextID, numHeaders, endOfStream uint32) uint32 {
	unpin()
	return vm.onRequestHeaders(contextID, numHeaders, endOfStream)
}

//go:wasmexport proxy_on_request_body
func proxy_on_request_body(contextID, bodySize, endOfStream uint32) uint32 {
	unpin()
	return vm.onRequestBody(contextID, bodySize, endOfStream)
}

//go:wasmexport proxy_on_request_trailers
func proxy_on_request_trailers(contextID, numTrailers uint32) uint32 {
	unpin()
	return vm.onRequestTrailers(contextID, numTrailers)
}

//go:wasmexport proxy_on_response_headers
func proxy_on_response_headers(contextID, numHeaders, endOfStream uint32) uint32 {
	unpin()
	return vm.onResponseHeaders(contextID, numHeaders, endOfStream)
}

//go:wasmexport proxy_on_response_body
func proxy_on_response_body(contextID, bodySize, endOfStream uint32) uint32 {
	unpin()
	return vm.onResponseBody(contextID, bodySize, endOfStream)
}

//go:wasmexport proxy_on_response_trailers
func proxy_on_response_trailers(contextID, numTrailers uint32) uint32 {
	unpin()
	return vm.onResponseTrailers(contextID, numTrailers)
}

//go:wasmexport proxy_on_http_call_response
func proxy_on_http_call_response(rootContextID, token, numHeaders, bodySize, numTrailers uint32) {
	unpin()
	vm.onHttpCallResponse(rootContextID, token, numHeaders, bodySize, numTrailers)
}

//go:wasmexport proxy_on_new_connection
func proxy_on_new_connection(contextID uint32) uint32 {
	unpin()
	return vm.onNewConnection(contextID)
}

//go:wasmexport proxy_on_downstream_data
func proxy_on_downstream_data(contextID, dataSize, endOfStream uint32) uint32 {
	unpin()
	return vm.onDownstreamData(contextID, dataSize, endOfStream)
}

//go:wasmexport proxy_on_upstream_data
func proxy_on_upstream_data(contextID, dataSize, endOfStream uint32) uint32 {
	unpin()
	return vm.onUpstreamData(contextID, dataSize, endOfStream)
}

//go:wasmexport proxy_on_downstream_connection_close
func proxy_on_downstream_connection_close(contextID, peerType uint32) {
	unpin()
	vm.onDownstreamClose(contextID, peerType)
}

//go:wasmexport proxy_on_upstream_connection_close
func proxy_on_upstream_connection_close(contextID, peerType uint32) {
	unpin()
	vm.onUpstreamClose(contextID, peerType)
}

//go:wasmexport proxy_on_log
func proxy_on_log(contextID uint32) {
	unpin()
	vm.onLog(contextID)
}

//go:wasmexport proxy_on_done
func proxy_on_done(contextID uint32) uint32 {
	unpin()
	return vm.onDone(contextID)
}

//go:wasmexport proxy_on_delete
func proxy_on_delete(contextID uint32) {
	unpin()
	vm.onDelete(contextID)
}

// proxy_on_foreign_function exists in ABI 0.2.x but no production Envoy path calls it (host doc
// §3.4) and the SDK's context types have no method for it: it is accepted and ignored.
//
//go:wasmexport proxy_on_foreign_function
func proxy_on_foreign_function(rootContextID, functionID, dataSize uint32) {
	unpin()
}

// wasmHost binds the state machine's fail-closed actions to real host calls.
type wasmHost struct{}

var (
	internalErrorBody    = []byte(InternalErrorBody)
	internalErrorHeaders = SerializePairs([][2]string{{"content-type", "application/json"}})
	internalErrorDetails = "tokengate_internal_error"
)

func (wasmHost) log(level LogLevel, msg string) { Log(level, msg) }

func (wasmHost) sendInternalError() {
	proxy_send_local_response(InternalErrorStatus,
		unsafe.Pointer(unsafe.StringData(internalErrorDetails)), uint32(len(internalErrorDetails)),
		unsafe.Pointer(&internalErrorBody[0]), uint32(len(internalErrorBody)),
		unsafe.Pointer(&internalErrorHeaders[0]), uint32(len(internalErrorHeaders)), -1)
}

func (wasmHost) setEffectiveContext(id uint32) bool {
	return proxy_set_effective_context(id) == StatusOK
}

func (wasmHost) closeDownstream() { proxy_close_stream(uint32(StreamTypeDownstream)) }
