package imports

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tokengate/tokengate/tests/internal/repo"
)

const i32, i64 = api.ValueTypeI32, api.ValueTypeI64

func sig(params ...api.ValueType) []api.ValueType { return params }

// proxyImports: every env.proxy_* name Envoy links for an ABI 0.2.1 module, with its parameter
// types (all return an i32 status). Host doc §5 and spec v0.2.1.
var proxyImports = map[string][]api.ValueType{
	"proxy_log":                          sig(i32, i32, i32),
	"proxy_get_log_level":                sig(i32),
	"proxy_get_current_time_nanoseconds": sig(i32),
	"proxy_set_tick_period_milliseconds": sig(i32),
	"proxy_get_status":                   sig(i32, i32, i32),
	"proxy_set_effective_context":        sig(i32),
	"proxy_done":                         sig(),
	"proxy_get_buffer_bytes":             sig(i32, i32, i32, i32, i32),
	"proxy_get_buffer_status":            sig(i32, i32, i32),
	"proxy_set_buffer_bytes":             sig(i32, i32, i32, i32, i32),
	"proxy_get_header_map_pairs":         sig(i32, i32, i32),
	"proxy_set_header_map_pairs":         sig(i32, i32, i32),
	"proxy_get_header_map_value":         sig(i32, i32, i32, i32, i32),
	"proxy_add_header_map_value":         sig(i32, i32, i32, i32, i32),
	"proxy_replace_header_map_value":     sig(i32, i32, i32, i32, i32),
	"proxy_remove_header_map_value":      sig(i32, i32, i32),
	"proxy_get_header_map_size":          sig(i32, i32),
	"proxy_continue_stream":              sig(i32),
	"proxy_close_stream":                 sig(i32),
	"proxy_send_local_response":          sig(i32, i32, i32, i32, i32, i32, i32, i32),
	"proxy_http_call":                    sig(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32),
	"proxy_grpc_call":                    sig(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32),
	"proxy_grpc_stream":                  sig(i32, i32, i32, i32, i32, i32, i32, i32, i32),
	"proxy_grpc_send":                    sig(i32, i32, i32, i32),
	"proxy_grpc_cancel":                  sig(i32),
	"proxy_grpc_close":                   sig(i32),
	"proxy_get_shared_data":              sig(i32, i32, i32, i32, i32),
	"proxy_set_shared_data":              sig(i32, i32, i32, i32, i32),
	"proxy_register_shared_queue":        sig(i32, i32, i32),
	"proxy_resolve_shared_queue":         sig(i32, i32, i32, i32, i32),
	"proxy_enqueue_shared_queue":         sig(i32, i32, i32),
	"proxy_dequeue_shared_queue":         sig(i32, i32, i32),
	"proxy_get_property":                 sig(i32, i32, i32, i32),
	"proxy_set_property":                 sig(i32, i32, i32, i32),
	"proxy_call_foreign_function":        sig(i32, i32, i32, i32, i32, i32),
	"proxy_define_metric":                sig(i32, i32, i32, i32),
	"proxy_increment_metric":             sig(i32, i64),
	"proxy_record_metric":                sig(i32, i64),
	"proxy_get_metric":                   sig(i32, i32),
}

// wasiEnvoy121 is what every Envoy since about 1.21 links (host doc §6.1); wasiEnvoy133 adds the
// three functions of cpp-host #427 (Envoy 1.33–1.39).
var (
	wasiEnvoy121 = []string{
		"fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "environ_get",
		"environ_sizes_get", "args_get", "args_sizes_get", "clock_time_get", "random_get",
		"proc_exit", "path_open", "fd_prestat_get", "fd_prestat_dir_name",
	}
	wasiEnvoy133 = append(slices.Clone(wasiEnvoy121), "fd_fdstat_set_flags", "sched_yield", "poll_oneoff")
)

type profile struct {
	name string
	wasi []string
}

var (
	profileRaw    = profile{"raw (Envoy 1.33–1.39 WASI)", wasiEnvoy133}
	profileCompat = profile{"compat (WASI of every Envoy ≥1.21)", wasiEnvoy121}
)

// exportSigs: callbacks Envoy type-checks (host doc §2.4), ABI 0.2.x shapes; params then results.
var exportSigs = map[string][2][]api.ValueType{
	"malloc":                               {sig(i32), sig(i32)},
	"proxy_on_memory_allocate":             {sig(i32), sig(i32)},
	"proxy_on_context_create":              {sig(i32, i32), sig()},
	"proxy_on_vm_start":                    {sig(i32, i32), sig(i32)},
	"proxy_on_configure":                   {sig(i32, i32), sig(i32)},
	"proxy_on_tick":                        {sig(i32), sig()},
	"proxy_on_queue_ready":                 {sig(i32, i32), sig()},
	"proxy_on_request_headers":             {sig(i32, i32, i32), sig(i32)},
	"proxy_on_request_body":                {sig(i32, i32, i32), sig(i32)},
	"proxy_on_request_trailers":            {sig(i32, i32), sig(i32)},
	"proxy_on_response_headers":            {sig(i32, i32, i32), sig(i32)},
	"proxy_on_response_body":               {sig(i32, i32, i32), sig(i32)},
	"proxy_on_response_trailers":           {sig(i32, i32), sig(i32)},
	"proxy_on_http_call_response":          {sig(i32, i32, i32, i32, i32), sig()},
	"proxy_on_new_connection":              {sig(i32), sig(i32)},
	"proxy_on_downstream_data":             {sig(i32, i32, i32), sig(i32)},
	"proxy_on_upstream_data":               {sig(i32, i32, i32), sig(i32)},
	"proxy_on_downstream_connection_close": {sig(i32, i32), sig()},
	"proxy_on_upstream_connection_close":   {sig(i32, i32), sig()},
	"proxy_on_log":                         {sig(i32), sig()},
	"proxy_on_done":                        {sig(i32), sig(i32)},
	"proxy_on_delete":                      {sig(i32), sig()},
	"proxy_on_foreign_function":            {sig(i32, i32, i32), sig()},
	"proxy_abi_version_0_2_1":              {sig(), sig()},
	"_initialize":                          {sig(), sig()},
}

func repoRoot(t testing.TB) string { return repo.Root(t) }

// rawModule returns build/tokengate.raw.wasm, or builds the raw module into a temp dir.
func rawModule(t *testing.T) []byte {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(repoRoot(t), "build", "tokengate.raw.wasm")); err == nil {
		return b
	}
	return buildWasm(t, "./plugin/cmd/tokengate-wasm")
}

// buildWasm builds a main package for wasip1 as a reactor and returns the module bytes.
func buildWasm(t *testing.T, pkg string) []byte {
	t.Helper()
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "module.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared",
		"-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, o)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRawModule(t *testing.T) { checkModule(t, rawModule(t), profileRaw) }

// TestEveryBindingImport builds a guest that references every host call of plugin/internal/abi
// and checks each one's name and type against the ABI table above, so a wrong go:wasmimport
// signature is caught before the filter first uses that call.
func TestEveryBindingImport(t *testing.T) {
	wasm := buildWasm(t, "./plugin/internal/abi/testdata/allcalls")
	checkModule(t, wasm, profileRaw)
	entries, err := readImports(wasm)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		if e.module == "env" {
			got[e.name] = true
		}
	}
	for name := range proxyImports {
		// gRPC and get_status are not bound: SDK v0.24 has no API for them.
		if !got[name] && !strings.HasPrefix(name, "proxy_grpc_") && name != "proxy_get_status" {
			t.Errorf("binding never imports %s (allcalls guest out of date?)", name)
		}
	}
}

// TestProfilesDiffer shows the check is profile-aware: the raw module carries the three WASI
// imports of Envoy 1.33+, which the compat profile refuses.
func TestProfilesDiffer(t *testing.T) {
	got := strings.Join(problems(t, rawModule(t), profileCompat), "\n")
	for _, name := range []string{"sched_yield", "poll_oneoff", "fd_fdstat_set_flags"} {
		if !strings.Contains(got, "wasi_snapshot_preview1."+name) {
			t.Errorf("compat profile did not refuse %s in the raw module; problems:\n%s", name, got)
		}
	}
}

func TestCompatModule(t *testing.T) {
	path := filepath.Join(repoRoot(t), "build", "tokengate.wasm")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s missing (run `make wasm`): %v", path, err)
	}
	checkModule(t, b, profileCompat)
}

// checkModule reports every problem at once, so one run shows the whole gap to Envoy.
func checkModule(t *testing.T, wasm []byte, p profile) {
	t.Helper()
	t.Logf("profile %s", p.name)
	for _, msg := range problems(t, wasm, p) {
		t.Error(msg)
	}
}

// problems lists every way wasm differs from what Envoy accepts under profile p.
func problems(t *testing.T, wasm []byte, p profile) []string {
	t.Helper()
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	entries, err := readImports(wasm)
	if err != nil {
		return []string{"reading imports: " + err.Error()}
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.module+"."+e.name)
		switch {
		case e.kind == 3:
			errorf("imported global %s.%s: Envoy rejects imported globals", e.module, e.name)
		case e.kind != 0:
			// Imported memory/table are accepted by Envoy.
		case e.module == "env":
			if _, ok := proxyImports[e.name]; !ok {
				errorf("import env.%s is not linked by Envoy for ABI 0.2.1", e.name)
			}
		case e.module == "wasi_snapshot_preview1" || e.module == "wasi_unstable":
			if !slices.Contains(p.wasi, e.name) {
				errorf("import %s.%s is not linked by Envoy in profile %s", e.module, e.name, p.name)
			}
		default:
			errorf("import from unknown module %s.%s", e.module, e.name)
		}
	}
	t.Logf("imports: %s", strings.Join(names, " "))

	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	c, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return append(out, "compile: "+err.Error())
	}
	for _, d := range c.ImportedFunctions() {
		mod, name, _ := d.Import()
		if want, ok := proxyImports[name]; ok && mod == "env" {
			if !slices.Equal(d.ParamTypes(), want) || !slices.Equal(d.ResultTypes(), sig(i32)) {
				errorf("env.%s has type %v→%v, want %v→[i32]", name, d.ParamTypes(), d.ResultTypes(), want)
			}
		}
	}

	exports := c.ExportedFunctions()
	var markers []string
	for name := range exports {
		if strings.HasPrefix(name, "proxy_abi_version_") {
			markers = append(markers, name)
		}
	}
	if !slices.Equal(markers, []string{"proxy_abi_version_0_2_1"}) {
		errorf("ABI markers %v, want exactly proxy_abi_version_0_2_1", markers)
	}
	if exports["malloc"] == nil && exports["proxy_on_memory_allocate"] == nil {
		errorf("no allocator export (malloc or proxy_on_memory_allocate)")
	}
	if exports["_initialize"] == nil {
		errorf("no _initialize: not a reactor, package init would never run")
	}
	for name, want := range exportSigs {
		d := exports[name]
		if d == nil {
			continue // callbacks are optional
		}
		if !slices.Equal(d.ParamTypes(), want[0]) || !slices.Equal(d.ResultTypes(), want[1]) {
			errorf("export %s has type %v→%v, want %v→%v", name, d.ParamTypes(), d.ResultTypes(), want[0], want[1])
		}
	}
	for _, required := range []string{"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_http_call_response"} {
		if exports[required] == nil {
			errorf("missing export %s", required)
		}
	}
	return out
}

// TestReadImports keeps the small parser honest on hand-made modules.
func TestReadImports(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm []byte
		want []importEntry
		bad  bool
	}{
		{name: "no sections", wasm: []byte("\x00asm\x01\x00\x00\x00")},
		{
			name: "func and global",
			wasm: []byte("\x00asm\x01\x00\x00\x00" +
				"\x02\x12\x02" + // import section, 18 bytes, 2 entries
				"\x03env\x01f\x00\x00" + // env.f func type 0
				"\x03env\x01g\x03\x7f\x00"), // env.g global i32 const
			want: []importEntry{{"env", "f", 0}, {"env", "g", 3}},
		},
		{name: "truncated", wasm: []byte("\x00asm\x01\x00\x00\x00\x02\x10\x01"), bad: true},
		{name: "not wasm", wasm: []byte("hello"), bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readImports(tc.wasm)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v, want error %v", err, tc.bad)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
