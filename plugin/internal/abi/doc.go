// Package abi is tokengate's own binding of the proxy-wasm ABI v0.2.1 for standard Go
// (GOOS=wasip1, -buildmode=c-shared, go:wasmimport / go:wasmexport).
//
// Only plugin/internal/proxywasm uses it; plugin code goes through that facade, which has the
// SDK's function names. The SDK (tetratelabs/proxy-wasm-go-sdk v0.24) cannot serve this build:
// its real host calls are TinyGo-only, and under standard Go it links its test emulator.
//
// # Files
//
//   - status.go, pairs.go, state.go: portable Go (status table, pairs codec, context state
//     machine with its recover guards). They build everywhere so they are unit-tested natively.
//   - hostcalls.go, alloc.go, exports.go, api.go: `wasip1 && !tinygo` only — the
//     wasmimport declarations, the allocator, the wasmexport callbacks and the Go-friendly
//     wrappers the facade calls.
//
// # Contexts
//
// Envoy numbers contexts per VM: 0 is the VM, roots (plugin contexts) and streams take the
// next id. proxy_on_context_create(id, 0) makes a root via types.VMContext.NewPluginContext;
// proxy_on_context_create(id, root) makes an HTTP stream via NewHttpContext (or a TCP stream via
// NewTcpContext when the plugin has no HTTP context). HTTP call responses arrive on the root that
// issued the call (the root of the effective context at dispatch time) and are routed to the
// callback by token.
//
// # Failing closed
//
// Every export recovers. A panic never crosses into the host, because in Envoy a trap marks the
// whole VM failed and every later request on that worker gets a 503 until the config changes.
// Instead:
//   - HTTP callbacks: the stream is marked failed, a local 500 reply with body
//     {"reason":"internal_error"} is sent, and the callback returns Pause. Later callbacks of that
//     stream never reach plugin code again (request side: Pause; response side: Continue, so the
//     reply itself can flow out).
//   - A panic in an HTTP call response callback denies the stream that dispatched the call (via
//     proxy_set_effective_context) the same way.
//   - vm_start / configure: return false, so Envoy rejects the configuration.
//   - TCP callbacks: the downstream connection is closed.
//   - tick, queue, log, done, delete: logged and dropped.
//
// The log line names the export and, for runtime errors only, the runtime's message (which holds
// types and indexes, never data). Other panic values are not logged: they may carry request bytes.
//
// # Memory
//
// The host returns data by calling the guest allocator (malloc, preferred by Envoy, or
// proxy_on_memory_allocate) and writing into the buffer. Each allocation is an ordinary Go byte
// slice kept in a pin list, so a GC started by a second allocation in the same host call cannot
// free the first one. When the host call returns, the wrapper claims its buffer from the pin list
// by address (an address the guest never handed out is refused as ErrHostBuffer) and clears the
// list. From then on the buffer is plain Go memory owned by the caller: strings decoded from it
// (header names and values) point into it without copying, and stay valid for as long as they
// are referenced, because nothing ever writes to that buffer again.
//
// Memory handed to the host (keys, values, serialized pairs) is passed as unsafe.Pointer
// arguments, which keeps it alive for the duration of the import call; the host copies it.
//
// The allocator only allocates Go memory: it calls no import itself. (Whether Go's GC reaches
// poll_oneoff from inside it is a property of the runtime, handled by the compatibility pass.)
//
// # Runtime limits
//
// Every export runs to completion on the host's thread: no goroutines, no timers, no sleeps
// (a Go timer starts the netpoller, and Envoy 1.33–1.39 answers its poll_oneoff with ENOSYS,
// which kills the VM). GC runs inside callbacks, also inside the allocator;
// TestGCUnderEnvoyRestrictions runs a GC-heavy load on hostsim's Envoy 1.33 profile, which traps
// any import outside the allocator's allow-list.
//
// # Tests
//
// Native: pairs codec (table, fuzz, zero-copy), status table, state machine (table and fuzz with
// a recording host). Wasm: testdata/guest, a small plugin on the facade, driven by a minimal
// wazero host in harness_test.go and by hostsim; testdata/allcalls references every host call so
// tests/imports and hostsim can check all import signatures.
package abi
