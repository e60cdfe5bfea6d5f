// Package compat is the Envoy compatibility pass over a compiled proxy-wasm
// module (issue 9).
//
// # Why
//
// Standard Go (GOOS=wasip1) links three WASI functions that old Envoy hosts do
// not have and current ones answer badly:
//
//   - Envoy ≤1.32 does not link poll_oneoff, sched_yield or
//     fd_fdstat_set_flags at all, so the module fails to load;
//   - Envoy 1.33–1.39 links them, but poll_oneoff returns ENOSYS (52) and the
//     Go runtime throws ("fatal error: poll_oneoff failed") the first time its
//     poller or sleep path runs, which a GC cycle with retained memory is
//     enough to cause;
//   - on Envoy ≤1.32, Go's os initialiser also calls fd_fdstat_get during
//     _initialize, where that version's start-up allow-list forbids it.
//
// Rewrite replaces those imports with functions defined inside the module
// that behave exactly as the newest Envoy host does (see
// shared/docs/proxy-wasm-host.md §6.2): poll_oneoff reports zero events and
// succeeds, sched_yield succeeds, fd_fdstat_set_flags returns ENOSYS (52), and
// fd_fdstat_get answers fds 1 and 2 with Envoy's fixed descriptor and every
// other fd with EBADF (8). The module then imports only WASI functions Envoy
// has linked since about 1.21, and never calls an import outside the
// start-up allow-list of any Envoy version because of these four.
//
// # How
//
// The module is read as a list of sections. Sections that do not mention the
// function index space (memory, data, globals without ref.func, most custom
// sections) are copied as raw bytes. Sections that do — imports, functions,
// exports, start, elements, globals, code and the "name" custom section — are
// re-encoded, copying every byte that is not a function index and keeping the
// original width of each LEB128 number where the new value fits (the Go
// linker pads indices and sizes to five bytes). So a module with nothing to
// replace comes back byte for byte, and a second pass over a rewritten module
// is a no-op.
//
// Every code body is walked instruction by instruction. The walker knows the
// MVP, sign-extension, saturating conversion (0xFC 0–7), bulk memory
// (0xFC 8–17) and reference-type instructions, which cover what the Go and
// TinyGo toolchains emit; anything else (SIMD, atomics, exceptions, tail
// calls, GC types, multi-memory, memory64, DWARF or relocation sections) is
// refused with an error naming it, because a pass that cannot see every
// function index must not guess.
//
// # Why not a library
//
// github.com/tetratelabs/wabin (last release 2023-03) decodes a module into
// structures and encodes it back. Its round trip is not byte-identical on
// Go-built modules (measured with v0.0.0-20230304001439: the plugin,
// 6,669,131 → 6,669,154 bytes; the test guest, 2,821,314 → 2,821,333), as
// it re-encodes numbers the Go linker pads. The pass must change function
// indices and nothing else, which a section-level reader gives directly, so
// it has its own and copies untouched sections as raw bytes.
package compat
