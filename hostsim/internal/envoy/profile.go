// Package envoy holds what is specific to Envoy's proxy-wasm host rather than
// to the ABI: which WASI functions each Envoy version links and how each one
// behaves (they are stubs, not a real WASI), and which imports may run during
// the restricted phases (module start-up and host-initiated malloc).
//
// # Why not wazero's WASI
//
// wazero's wasi_snapshot_preview1 is a complete, working WASI. Envoy links a
// small set of stubs whose answers differ (poll_oneoff → ENOSYS, fd_read →
// ENOSYS, no preopens, stdout becomes log records). A test host with full WASI
// makes Go modules look healthy that crash in Envoy, so the Envoy profiles use
// the functions below and only the "full-wasi" comparison profile uses wazero's.
package envoy

// Profile names; hostsim re-exports them as typed constants.
const (
	Envoy132     = "envoy-1.32"
	Envoy133     = "envoy-1.33"
	EnvoyCurrent = "envoy-current"
	FullWASI     = "full-wasi"
)

// WASI modules: Envoy links the same implementations under both names.
const (
	ModuleWASI     = "wasi_snapshot_preview1"
	ModuleWASIOld  = "wasi_unstable"
	ModuleEnv      = "env"
	errnoSuccess   = 0
	errnoBadf      = 8
	errnoExist     = 20
	errnoFault     = 21
	errnoInval     = 28
	errnoNoent     = 44
	errnoNosys     = 52
	errnoNotsup    = 58
	maxRandomBytes = 64 << 10
)

// base15 is what Envoy up to 1.32 links (since about 1.21).
var base15 = []string{
	"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get",
	"environ_get", "environ_sizes_get", "args_get", "args_sizes_get",
	"clock_time_get", "random_get", "proc_exit", "path_open",
	"fd_prestat_get", "fd_prestat_dir_name",
}

// added427 came with cpp-host #427 (Envoy 1.33).
var added427 = []string{"fd_fdstat_set_flags", "sched_yield", "poll_oneoff"}

// added533 came with cpp-host #533 (Envoy main, mid 2026).
var added533 = []string{
	"clock_res_get", "fd_pwrite", "fd_pread", "fd_advise", "fd_allocate",
	"fd_datasync", "fd_sync", "fd_fdstat_set_rights", "fd_filestat_set_size",
	"fd_filestat_set_times", "fd_filestat_get", "fd_tell", "fd_readdir",
	"fd_renumber", "path_filestat_get", "path_create_directory",
	"path_filestat_set_times", "path_link", "path_remove_directory",
	"path_rename", "path_symlink", "path_unlink_file", "path_readlink",
	"sock_accept", "sock_recv", "sock_send", "sock_shutdown",
}

// WASINames lists the WASI functions a profile links, in a stable order.
// For FullWASI it returns nil: wazero's module decides.
func WASINames(profile string) []string {
	var out []string
	switch profile {
	case Envoy132:
		out = append(out, base15...)
	case Envoy133:
		out = append(append(out, base15...), added427...)
	case EnvoyCurrent:
		out = append(append(append(out, base15...), added427...), added533...)
	}
	return out
}

// Known reports whether profile is one of the names above.
func Known(profile string) bool {
	switch profile {
	case Envoy132, Envoy133, EnvoyCurrent, FullWASI:
		return true
	}
	return false
}

var startup132 = set("proxy_log", "fd_write", "args_sizes_get", "args_get",
	"environ_sizes_get", "environ_get", "fd_prestat_get", "fd_prestat_dir_name",
	"clock_time_get", "random_get")

// startup133 is the list of the late 1.33–1.39 pin (beb8a4e, after #461).
var startup133 = union(startup132, set("fd_fdstat_get", "fd_fdstat_set_flags",
	"emscripten_notify_memory_growth"))

var startupCurrent = union(union(startup133, set(added533...)), set("poll_oneoff"))

var malloc133 = set("proxy_log", "fd_write", "clock_time_get")

var mallocCurrent = union(malloc133, set("poll_oneoff"))

// StartupAllowed reports whether the import name may run during
// _initialize/_start/main ("restricted callbacks"). FullWASI has no
// restriction: it models a naive host, not Envoy.
func StartupAllowed(profile, name string) bool {
	switch profile {
	case Envoy132:
		return startup132[name]
	case Envoy133:
		return startup133[name]
	case EnvoyCurrent:
		return startupCurrent[name]
	}
	return true
}

// MallocAllowed reports whether the import name may run inside a
// host-initiated call of the guest allocator.
func MallocAllowed(profile, name string) bool {
	switch profile {
	case Envoy132, Envoy133:
		return malloc133[name]
	case EnvoyCurrent:
		return mallocCurrent[name]
	}
	return true
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func union(a, b map[string]bool) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
