// Package proxywasm is the plugin's only door to the proxy-wasm host.
//
// It exposes the function names of github.com/tetratelabs/proxy-wasm-go-sdk@v0.24.0/proxywasm
// (SetVMContext, GetHttpRequestHeaders, SendHttpResponse, DispatchHttpCall, ...), so filter code
// reads like any SDK plugin, and it uses the SDK's proxywasm/types package (VMContext,
// PluginContext, HttpContext, Action, ErrorStatus*) in every build, so the filter compiles
// unchanged three ways.
//
// # Builds
//
//   - `tinygo || !wasip1` (TinyGo, and native Go on the developer's machine): thin re-exports of the
//     SDK's proxywasm package. Natively the SDK links its host emulator, so filter tests run under
//     proxytest with -race and coverage; under TinyGo the SDK links its real host calls.
//   - `wasip1 && !tinygo` (our release build, standard Go with go:wasmexport): forwards to
//     plugin/internal/abi, our own ABI v0.2.1 binding. The SDK cannot serve this build: its real
//     host calls are TinyGo-only and standard Go would silently link its emulator instead.
//
// # Validity
//
// Each call documents in which callbacks the host honours it; outside of them the host answers
// with an error status (types.ErrorStatusNotFound / ErrorStatusBadArgument), never a panic.
//
// # Differences from the SDK in the abi build
//
// The wasip1 build keeps the SDK's conventions (an empty header map or buffer is
// types.ErrorStatusNotFound; host statuses map to the same types.ErrorStatus* sentinels), but it
// never panics where the host merely refused something:
//   - Metric updates (Increment, Add, Record) ignore refusals: a metric must not turn a request
//     decision into an internal error. Define*Metric still panics on refusal, as in the SDK; it
//     runs at plugin start, where the abi recover guard fails the start closed.
//   - GetPropertyMap returns abi.ErrMalformedPairs for a value that is not a pairs map (the SDK
//     panics); header maps from the host are decoded strictly the same way.
//   - GetProperty/SetProperty with an empty path return abi.ErrEmptyPath; SetProperty with empty
//     data returns types.ErrorStatusBadArgument (the SDK returns ad-hoc errors).
//   - EnqueueSharedQueue accepts empty data (the SDK indexes data[0] and panics).
//   - A nil DispatchHttpCall callback is allowed; the response is then dropped.
//   - Result buffers must come from the guest allocator during that call; anything else is
//     abi.ErrHostBuffer.
//
// TestBuildsExportTheSameAPI keeps the two files' exported signatures identical, and
// TestCoversSDK checks that every function of the SDK's hostcall.go and entrypoint.go exists.
package proxywasm
