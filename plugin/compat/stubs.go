package compat

// The replacement bodies. Each one is the behaviour of the newest Envoy host
// (cpp-host after PR #533; shared/docs/proxy-wasm-host.md §6.2), written
// directly as WebAssembly so it needs nothing from the host.

// WASI module names Envoy links the same functions under.
const (
	wasiPreview1 = "wasi_snapshot_preview1"
	wasiUnstable = "wasi_unstable"
)

// WASI errno values used by the stubs.
const (
	errnoBADF  = 8
	errnoFAULT = 21
	errnoNOSYS = 52
)

type stub struct {
	params, results string // value types, as in funcType
	needsMemory     bool
	body            []byte // code-section entry without its size: locals + expression
	doc             string
}

var i32x4 = string([]byte{valI32, valI32, valI32, valI32})

// stubs by WASI function name.
var stubs = map[string]stub{
	// poll_oneoff(in, out, nsubscriptions, nevents_ptr) → errno.
	// Post-#533 Envoy writes 0 to *nevents and succeeds; it never sleeps and
	// never reports an event. A nevents_ptr outside memory gives FAULT (21)
	// instead of a trap, as Envoy's memory writes do.
	"poll_oneoff": {
		params: i32x4, results: string([]byte{valI32}), needsMemory: true,
		doc: "0 events, success",
		body: []byte{
			0x00,       // no locals
			0x20, 0x03, // local.get 3
			0xad,       // i64.extend_i32_u
			0x42, 0x04, // i64.const 4
			0x7c,       // i64.add
			0x3f, 0x00, // memory.size 0
			0xad,       // i64.extend_i32_u
			0x42, 0x10, // i64.const 16
			0x86,         // i64.shl            (bytes of memory)
			0x56,         // i64.gt_u           (ptr+4 > bytes)
			0x04, valI32, // if (result i32)
			0x41, errnoFAULT, // i32.const 21
			0x05,       // else
			0x20, 0x03, // local.get 3
			0x41, 0x00, // i32.const 0
			0x36, 0x02, 0x00, // i32.store align=4 offset=0
			0x41, 0x00, // i32.const 0
			0x0b, // end
			0x0b, // end
		},
	},
	// sched_yield() → errno: success (Envoy 1.33+).
	"sched_yield": {
		results: string([]byte{valI32}),
		doc:     "success",
		body:    []byte{0x00, 0x41, 0x00, 0x0b},
	},
	// fd_fdstat_set_flags(fd, flags) → errno: NOSYS (52) on every Envoy that
	// has it. Keeping stdio blocking is what stops Go's os package from
	// registering it with the netpoller.
	"fd_fdstat_set_flags": {
		params: string([]byte{valI32, valI32}), results: string([]byte{valI32}),
		doc:  "ENOSYS (52)",
		body: []byte{0x00, 0x41, errnoNOSYS, 0x0b},
	},
	// fd_fdstat_get(fd, buf) → errno. Envoy: fds 1 and 2 get 24 bytes —
	// filetype 0, flags 0, rights_base FD_WRITE (64), rights_inheriting 0 —
	// and success; every other fd gets BADF (8). Bad memory gives FAULT (21).
	// Inlined because Envoy ≤1.32 forbids it during _initialize, where Go's
	// os package calls it.
	"fd_fdstat_get": {
		params: string([]byte{valI32, valI32}), results: string([]byte{valI32}), needsMemory: true,
		doc: "Envoy's fixed stdout/stderr descriptor, EBADF for other fds",
		body: []byte{
			0x00,                         // no locals
			0x20, 0x00, 0x41, 0x01, 0x46, // fd == 1
			0x20, 0x00, 0x41, 0x02, 0x46, // fd == 2
			0x72, 0x45, // i32.or, i32.eqz
			0x04, 0x40, 0x41, errnoBADF, 0x0f, 0x0b, // if: return 8
			0x20, 0x01, 0xad, 0x42, 24, 0x7c, // buf + 24 (as i64)
			0x3f, 0x00, 0xad, 0x42, 0x10, 0x86, // memory bytes
			0x56,                                     // i64.gt_u
			0x04, 0x40, 0x41, errnoFAULT, 0x0f, 0x0b, // if: return 21
			0x20, 0x01, 0x42, 0x00, 0x37, 0x00, 0x00, // i64.store [buf+0] = 0 (filetype, flags)
			0x20, 0x01, 0x42, 0xc0, 0x00, 0x37, 0x00, 0x08, // i64.store [buf+8] = 64
			0x20, 0x01, 0x42, 0x00, 0x37, 0x00, 0x10, // i64.store [buf+16] = 0
			0x41, 0x00, // i32.const 0
			0x0b,
		},
	},
}

// DefaultReplacements lists the WASI functions Rewrite replaces unless told
// otherwise: the three Envoy ≤1.32 lacks, plus fd_fdstat_get (see the
// package documentation).
func DefaultReplacements() []string {
	return []string{"poll_oneoff", "sched_yield", "fd_fdstat_set_flags", "fd_fdstat_get"}
}

// KnownReplacements lists every WASI function Rewrite can define in the
// module, with the behaviour it gets.
func KnownReplacements() map[string]string {
	out := make(map[string]string, len(stubs))
	for name, s := range stubs {
		out[name] = s.doc
	}
	return out
}
