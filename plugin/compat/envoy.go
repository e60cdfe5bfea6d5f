package compat

import "sort"

// envoyBaselineWASI is what Envoy has linked since about 1.21 (when the
// preopen stubs arrived), in both wasi_snapshot_preview1 and wasi_unstable:
// shared/docs/proxy-wasm-host.md §6.1.
var envoyBaselineWASI = map[string]bool{
	"fd_write": true, "fd_read": true, "fd_seek": true, "fd_close": true, "fd_fdstat_get": true,
	"environ_get": true, "environ_sizes_get": true, "args_get": true, "args_sizes_get": true,
	"clock_time_get": true, "random_get": true, "proc_exit": true, "path_open": true,
	"fd_prestat_get": true, "fd_prestat_dir_name": true,
}

// EnvoyBaselineWASI lists the WASI functions every Envoy since about 1.21
// links, sorted.
func EnvoyBaselineWASI() []string {
	out := make([]string, 0, len(envoyBaselineWASI))
	for n := range envoyBaselineWASI {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BeyondEnvoyBaseline returns the WASI imports (either module name) that
// are not in EnvoyBaselineWASI: each one makes the module fail to load on
// some Envoy release still in use.
func BeyondEnvoyBaseline(imports []Import) []Import {
	var out []Import
	for _, im := range imports {
		if (im.Module == wasiPreview1 || im.Module == wasiUnstable) && !envoyBaselineWASI[im.Name] {
			out = append(out, im)
		}
	}
	return out
}
