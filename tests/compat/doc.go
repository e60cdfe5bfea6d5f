// Package compat proves, per Envoy version, what the compatibility pass
// (plugin/compat, issue 9) is for. hostsim runs the same request suite and
// a long allocation-heavy soak against each module before and after the
// pass, under the profiles envoy-1.32, envoy-1.33 (Envoy 1.33–1.39),
// envoy-current (after cpp-host #533) and full-wasi:
//
//   - the raw module fails exactly as in real Envoy: on envoy-1.32 the load
//     fails naming a missing WASI import; on envoy-1.33 the first GC cycle
//     after a runtime timer exists kills the VM — the Go runtime throws
//     "poll_oneoff failed" (ENOSYS), or, when that GC starts inside the
//     host-called malloc, poll_oneoff traps as a restricted call;
//   - the rewritten module passes on every profile with results identical
//     to each other and to the raw module where the raw module works;
//   - start-up and the allocator call no import outside each Envoy
//     version's allow-list (hostsim traps on any), including Envoy 1.32's
//     list, which is why the pass also inlines fd_fdstat_get; a negative
//     control shows the trap when it does not.
//
// Modules: a small allocation-heavy Go guest (testdata/guest, built by the
// tests) and the plugin itself (build/tokengate.raw.wasm, built into a
// temporary directory when `make wasm` has not run).
//
// The soak runs 10,000 requests per module and profile by default (3,000
// with -short) so that the package fits go test's default timeout; the
// issue's 100,000-request soak is
//
//	TOKENGATE_COMPAT_SOAK=100000 go test -run TestSoak -timeout 60m ./tests/compat
package compat
