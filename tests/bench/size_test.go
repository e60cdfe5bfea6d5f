package bench

import (
	"os"
	"testing"
)

func TestPackageOf(t *testing.T) {
	tests := []struct{ name, fn, want string }{
		{"runtime", "runtime.mallocgc", "runtime"},
		{"method on pointer", "runtime.__mcache_.refill", "runtime"},
		{"nested standard package", "crypto_internal_fips140_nistec_fiat.p256Mul", "crypto/internal/fips140/nistec/fiat"},
		{"module on github", "github.com_buger_jsonparser.Get", "github.com/buger/jsonparser"},
		{"our own package", "github.com_tokengate_tokengate_plugin_filter.__httpContext_.OnHttpRequestHeaders", "github.com/tokengate/tokengate/plugin/filter"},
		{"golang.org module", "golang.org_x_crypto_blake2b.New", "golang.org/x/crypto/blake2b"},
		{"filippo.io module", "filippo.io_edwards25519_field.feMulGeneric", "filippo.io/edwards25519/field"},
		{"method on value", "time.Time.String", "time"},
		{"generic instance", "internal_sync.__HashTrieMap_go.shape.interface____go.shape.interface_____.Load", "internal/sync"},
		{"type equality", "type_.eq.internal_abi.ITab", PkgTypeEq},
		{"toolchain glue", "wasm_pc_f_loop", PkgToolchain},
		{"no name", "", PkgUnnamed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PackageOf(tt.fn); got != tt.want {
				t.Errorf("PackageOf(%q) = %q, want %q", tt.fn, got, tt.want)
			}
		})
	}
}

// TestModuleSize measures the built module: the parts add up, and the
// packages a Go proxy-wasm plugin must contain are found.
func TestModuleSize(t *testing.T) {
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("%v (run make wasm)", err)
	}
	m, err := MeasureModuleSize(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if sum := m.Code + m.Data + m.Names + m.Other; sum != m.Total || m.Total != len(wasm) {
		t.Errorf("code %d + data %d + names %d + other %d = %d, module %d bytes", m.Code, m.Data, m.Names, m.Other, sum, len(wasm))
	}
	sections := 8
	for _, s := range m.Sections {
		sections += s.Bytes
	}
	if sections != m.Total {
		t.Errorf("sections add up to %d, module %d", sections, m.Total)
	}
	code, funcs := 0, 0
	found := map[string]bool{}
	for _, p := range m.Packages {
		code += p.Bytes
		funcs += p.Functions
		found[p.Package] = true
	}
	// The code section is its entries plus its id, size and count.
	if overhead := m.Code - code; overhead < 3 || overhead > 11 {
		t.Errorf("code section %d bytes, entries %d (%d functions)", m.Code, code, funcs)
	}
	if overhead := m.Data - m.DataPayload - m.DataHeaders; overhead < 3 || overhead > 11 {
		t.Errorf("data section %d bytes = payload %d + headers %d + %d", m.Data, m.DataPayload, m.DataHeaders, overhead)
	}
	if m.HeaderHeavySegments > m.DataSegments || m.HeaderHeavyHeaders > m.DataHeaders || m.HeaderHeavyPayload > m.DataPayload {
		t.Errorf("header-heavy segments (%d, payload %d, headers %d) exceed the totals", m.HeaderHeavySegments, m.HeaderHeavyPayload, m.HeaderHeavyHeaders)
	}
	t.Logf("segments whose header outweighs their payload: %d, payload %d, headers %d", m.HeaderHeavySegments, m.HeaderHeavyPayload, m.HeaderHeavyHeaders)
	if m.Names == 0 {
		// A stripped module (-ldflags=-s): nothing to attribute code to.
		if len(m.Packages) != 1 || m.Packages[0].Package != PkgUnnamed {
			t.Errorf("module without names: packages %v, want only %s", m.Packages, PkgUnnamed)
		}
		return
	}
	for _, pkg := range []string{"runtime", "github.com/tokengate/tokengate/plugin/filter", "github.com/buger/jsonparser", "filippo.io/edwards25519"} {
		if !found[pkg] {
			t.Errorf("no code attributed to %s", pkg)
		}
	}
	if m.Packages[0].Package != "runtime" {
		t.Errorf("largest package is %s, expected the runtime", m.Packages[0].Package)
	}
	t.Logf("total %d: code %d, data %d (payload %d, %d headers %d), names %d, other %d",
		m.Total, m.Code, m.Data, m.DataPayload, m.DataSegments, m.DataHeaders, m.Names, m.Other)
	for _, p := range m.Packages[:min(len(m.Packages), 25)] {
		t.Logf("%8d %5d %s", p.Bytes, p.Functions, p.Package)
	}
}
