package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot() string { return filepath.Join("..", "..", "..") }

// TestPluginTypeChecksUnderTinyGo is the check itself, so `make test` covers the TinyGo path.
func TestPluginTypeChecksUnderTinyGo(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the whole plugin and the standard library from source")
	}
	var out bytes.Buffer
	if code := run(repoRoot(), []string{"./plugin/..."}, inWasm, &out); code != 0 {
		t.Fatalf("tinygocheck failed:\n%s", out.String())
	}
	t.Log(out.String())
}

// TestCatchesTinyGoOnlyError proves the check can fail: the fixture builds with standard Go but
// not with -tags=tinygo.
func TestCatchesTinyGoOnlyError(t *testing.T) {
	var out bytes.Buffer
	code := run(repoRoot(), []string{"./plugin/internal/tinygocheck/testdata/broken"}, func(string) bool { return true }, &out)
	if code == 0 || !strings.Contains(out.String(), "undefinedInTinyGo") {
		t.Fatalf("exit %d, output:\n%s\nwant a failure naming undefinedInTinyGo", code, out.String())
	}
}

func TestInWasm(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{modulePath + "/plugin/cmd/tokengate-wasm", true},
		{modulePath + "/plugin/cmd/tokengate", false},
		{modulePath + "/plugin/cmd/wasmcompat", false},
		{modulePath + "/plugin/token", false},
		{modulePath + "/plugin/tokenizer", true},
		{modulePath + "/plugin/internal/abi", true},
		{modulePath + "/plugin/internal/tinygocheck", false},
		{modulePath + "/plugin/internal/tinygocheck/testdata/broken", false},
		{modulePath + "/plugin/filter", true},
	} {
		if got := inWasm(tc.path); got != tc.want {
			t.Errorf("inWasm(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
