package envoy

import (
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
)

// Host is what the WASI stubs need from the simulated proxy. hostsim's VM
// implements it.
type Host interface {
	// Stdio receives one fd_write (fd 1 or 2) as a single log record, with
	// one trailing newline already removed. Never called for empty writes.
	Stdio(fd uint32, msg string)
	// Environ returns vm_config.environment_variables as KEY=VALUE.
	Environ() []string
	// WallNanos and MonoNanos are clock ids 0 and 1.
	WallNanos() int64
	MonoNanos() int64
	// Random fills p.
	Random(p []byte)
	// ErrorHook is Envoy's context error hook: a trace-level log line.
	ErrorHook(msg string)
}

// Func is one WASI host function: its signature and its Envoy behaviour.
type Func struct {
	Name    string
	Params  []api.ValueType
	Results []api.ValueType
	Fn      func(h Host, mem api.Memory, stack []uint64)
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func p(ts ...api.ValueType) []api.ValueType { return ts }

var errnoResult = []api.ValueType{i32}

// WASIFuncs returns the profile's WASI functions with Envoy's behaviours.
// For FullWASI it returns nil.
func WASIFuncs(profile string) []Func {
	names := WASINames(profile)
	out := make([]Func, 0, len(names))
	for _, n := range names {
		f := funcs[n]
		if n == "poll_oneoff" && profile == EnvoyCurrent {
			f = pollOneoffCurrent
		}
		f.Name = n
		out = append(out, f)
	}
	return out
}

func ret(stack []uint64, errno uint32) { stack[0] = uint64(errno) }

func u32(v uint64) uint32 { return uint32(v) }

// constant builds a function that only returns errno.
func constant(params []api.ValueType, errno uint32) Func {
	return Func{Params: params, Results: errnoResult, Fn: func(_ Host, _ api.Memory, s []uint64) { ret(s, errno) }}
}

// stdioOnly returns 0 for fds 1/2 and BADF otherwise (fd is argument 0).
func stdioOnly(params []api.ValueType) Func {
	return Func{Params: params, Results: errnoResult, Fn: func(_ Host, _ api.Memory, s []uint64) {
		if isStdio(u32(s[0])) {
			ret(s, errnoSuccess)
			return
		}
		ret(s, errnoBadf)
	}}
}

func isStdio(fd uint32) bool { return fd == 1 || fd == 2 }

// writeIovecs implements fd_write/fd_pwrite for stdout/stderr:
// iovec = { u32 buf, u32 len }, concatenated into one log record.
func writeIovecs(h Host, mem api.Memory, fd, iovs, n, nwrittenPtr uint32) uint32 {
	if !isStdio(fd) {
		return errnoBadf
	}
	var msg []byte
	for i := uint32(0); i < n; i++ {
		vec, ok := mem.Read(iovs+8*i, 8)
		if !ok {
			return errnoFault
		}
		buf, ok := mem.Read(binary.LittleEndian.Uint32(vec), binary.LittleEndian.Uint32(vec[4:]))
		if !ok {
			return errnoFault
		}
		msg = append(msg, buf...)
	}
	total := uint32(len(msg))
	if !mem.WriteUint32Le(nwrittenPtr, total) {
		return errnoFault
	}
	if len(msg) > 0 && msg[len(msg)-1] == '\n' {
		msg = msg[:len(msg)-1]
	}
	if total > 0 {
		h.Stdio(fd, string(msg))
	}
	return errnoSuccess
}

var pollOneoffCurrent = Func{Params: p(i32, i32, i32, i32), Results: errnoResult,
	Fn: func(_ Host, mem api.Memory, s []uint64) {
		// Post-#533: zero events, success; never sleeps.
		if !mem.WriteUint32Le(u32(s[3]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}}

var funcs = map[string]Func{
	"fd_write": {Params: p(i32, i32, i32, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		ret(s, writeIovecs(h, mem, u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])))
	}},
	"fd_pwrite": {Params: p(i32, i32, i32, i64, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		ret(s, writeIovecs(h, mem, u32(s[0]), u32(s[1]), u32(s[2]), u32(s[4])))
	}},
	"fd_read":  constant(p(i32, i32, i32, i32), errnoNosys),
	"fd_pread": constant(p(i32, i32, i32, i64, i32), errnoNosys),
	"fd_seek": {Params: p(i32, i64, i32, i32), Results: errnoResult, Fn: func(h Host, _ api.Memory, s []uint64) {
		h.ErrorHook("wasi fd_seek called")
		ret(s, errnoSuccess)
	}},
	"fd_close": {Params: p(i32), Results: errnoResult, Fn: func(h Host, _ api.Memory, s []uint64) {
		h.ErrorHook("wasi fd_close called")
		ret(s, errnoSuccess)
	}},
	"fd_fdstat_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !isStdio(u32(s[0])) {
			ret(s, errnoBadf)
			return
		}
		// filetype u8 0, flags u16 0, rights_base u64 FD_WRITE (64), inheriting 0.
		var b [24]byte
		binary.LittleEndian.PutUint64(b[8:], 64)
		if !mem.Write(u32(s[1]), b[:]) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"fd_fdstat_set_flags": constant(p(i32, i32), errnoNosys),
	"fd_prestat_get":      constant(p(i32, i32), errnoBadf),
	"fd_prestat_dir_name": constant(p(i32, i32, i32), errnoNosys),
	"path_open":           constant(p(i32, i32, i32, i32, i32, i64, i64, i32, i32), errnoNoent),
	"environ_sizes_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		env := h.Environ()
		size := 0
		for _, e := range env {
			size += len(e) + 1
		}
		if !mem.WriteUint32Le(u32(s[0]), uint32(len(env))) || !mem.WriteUint32Le(u32(s[1]), uint32(size)) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"environ_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		ptrs, buf := u32(s[0]), u32(s[1])
		for i, e := range h.Environ() {
			if !mem.WriteUint32Le(ptrs+4*uint32(i), buf) || !mem.WriteString(buf, e) || !mem.WriteByte(buf+uint32(len(e)), 0) {
				ret(s, errnoFault)
				return
			}
			buf += uint32(len(e)) + 1
		}
		ret(s, errnoSuccess)
	}},
	"args_sizes_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !mem.WriteUint32Le(u32(s[0]), 0) || !mem.WriteUint32Le(u32(s[1]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"args_get": constant(p(i32, i32), errnoSuccess),
	"clock_time_get": {Params: p(i32, i64, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		var t int64
		switch u32(s[0]) {
		case 0:
			t = h.WallNanos()
		case 1:
			t = h.MonoNanos()
		case 2, 3:
			ret(s, errnoNotsup)
			return
		default:
			ret(s, errnoInval)
			return
		}
		if !mem.WriteUint64Le(u32(s[2]), uint64(t)) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"clock_res_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if id := u32(s[0]); id > 1 {
			ret(s, errnoNotsup)
			return
		}
		if !mem.WriteUint64Le(u32(s[1]), 1) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"random_get": {Params: p(i32, i32), Results: errnoResult, Fn: func(h Host, mem api.Memory, s []uint64) {
		n := u32(s[1])
		if n == 0 {
			ret(s, errnoSuccess)
			return
		}
		if n > maxRandomBytes {
			ret(s, errnoInval)
			return
		}
		buf, ok := mem.Read(u32(s[0]), n)
		if !ok {
			ret(s, errnoFault)
			return
		}
		h.Random(buf)
		ret(s, errnoSuccess)
	}},
	"proc_exit": {Params: p(i32), Fn: func(h Host, _ api.Memory, s []uint64) {
		// Envoy returns to the guest instead of stopping the VM.
		h.ErrorHook("wasi proc_exit called")
	}},
	"sched_yield": constant(nil, errnoSuccess),
	"poll_oneoff": constant(p(i32, i32, i32, i32), errnoNosys),
	// Rows below exist only after #533.
	"fd_advise":             constant(p(i32, i64, i64, i32), errnoSuccess),
	"fd_allocate":           stdioOnly(p(i32, i64, i64)),
	"fd_datasync":           stdioOnly(p(i32)),
	"fd_sync":               stdioOnly(p(i32)),
	"fd_fdstat_set_rights":  stdioOnly(p(i32, i64, i64)),
	"fd_filestat_set_size":  stdioOnly(p(i32, i64)),
	"fd_filestat_set_times": stdioOnly(p(i32, i64, i64, i32)),
	"fd_filestat_get":       constant(p(i32, i32), errnoBadf),
	"fd_tell": {Params: p(i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !isStdio(u32(s[0])) {
			ret(s, errnoBadf)
			return
		}
		if !mem.WriteUint64Le(u32(s[1]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoSuccess)
	}},
	"fd_readdir": {Params: p(i32, i32, i32, i64, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !mem.WriteUint32Le(u32(s[4]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoExist) // cpp-host says ENOTDIR but returns 20 (EXIST)
	}},
	"fd_renumber": {Params: p(i32, i32), Results: errnoResult, Fn: func(_ Host, _ api.Memory, s []uint64) {
		if isStdio(u32(s[0])) && isStdio(u32(s[1])) {
			ret(s, errnoNotsup)
			return
		}
		ret(s, errnoBadf)
	}},
	"path_filestat_get":       constant(p(i32, i32, i32, i32, i32), errnoNotsup),
	"path_create_directory":   constant(p(i32, i32, i32), errnoNotsup),
	"path_filestat_set_times": constant(p(i32, i32, i32, i32, i64, i64, i32), errnoNotsup),
	"path_link":               constant(p(i32, i32, i32, i32, i32, i32, i32), errnoNotsup),
	"path_remove_directory":   constant(p(i32, i32, i32), errnoNotsup),
	"path_rename":             constant(p(i32, i32, i32, i32, i32, i32), errnoNotsup),
	"path_symlink":            constant(p(i32, i32, i32, i32, i32), errnoNotsup),
	"path_unlink_file":        constant(p(i32, i32, i32), errnoNotsup),
	"path_readlink": {Params: p(i32, i32, i32, i32, i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !mem.WriteUint32Le(u32(s[5]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoNotsup)
	}},
	"sock_accept": {Params: p(i32, i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		// cpp-host writes a u64 where a u32 fd is expected; reproduce it.
		if !mem.WriteUint64Le(u32(s[2]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoNotsup)
	}},
	"sock_recv": {Params: p(i32, i32, i32, i32, i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !mem.WriteUint32Le(u32(s[4]), 0) || !mem.WriteUint16Le(u32(s[5]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoNotsup)
	}},
	"sock_send": {Params: p(i32, i32, i32, i32, i32), Results: errnoResult, Fn: func(_ Host, mem api.Memory, s []uint64) {
		if !mem.WriteUint32Le(u32(s[4]), 0) {
			ret(s, errnoFault)
			return
		}
		ret(s, errnoNotsup)
	}},
	"sock_shutdown": constant(p(i32, i32), errnoNotsup),
}
