// Package imports checks the plugin module's import and export surface against what Envoy links
// (host doc /work/shared/docs/proxy-wasm-host.md §2, §6). Envoy refuses to load a module with one
// unknown import, so this is checked on the built bytes rather than trusted to dead-code
// elimination.
//
// # Profiles
//
//   - raw: build/tokengate.raw.wasm straight from `go build` (built into a temp dir when absent).
//     Allowed: env.proxy_* of ABI 0.2.1 and the 18 WASI functions Envoy 1.33–1.39 links, which
//     include the three added by cpp-host #427 (poll_oneoff, sched_yield, fd_fdstat_set_flags).
//   - compat: build/tokengate.wasm, the output of plugin/cmd/wasmcompat. Allowed: env.proxy_*
//     and only the 15 WASI functions every Envoy since about 1.21 links; the compatibility pass
//     must have removed the three newer ones. A missing build/tokengate.wasm fails the test (run
//     `make wasm`); it does not skip.
//
// Both profiles also require exactly one ABI marker, proxy_abi_version_0_2_1, an allocator
// export (malloc and/or proxy_on_memory_allocate) of type (i32)→i32, the 0.2.x callback
// signatures Envoy type-checks, and no imported globals.
package imports
