package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/envoy/deploy"
)

var module = []byte("\x00asm\x01\x00\x00\x00\x00\x05\x04test")

func TestRunCheckThenSync(t *testing.T) {
	root := t.TempDir()
	wasm := filepath.Join(root, "build", "tokengate.wasm")
	os.MkdirAll(filepath.Dir(wasm), 0o755)
	os.WriteFile(wasm, module, 0o644)
	os.WriteFile(wasm+".sha256", []byte(deploy.ModuleSHA256(module)+"  tokengate.wasm\n"), 0o644)
	old := strings.Repeat("0", 64)
	for _, rel := range deploy.ShippedFiles {
		path := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte("a: "+old+" # tokengate:module-sha256\nb: "+old+" # tokengate:image-digest\n"), 0o644)
	}
	if err := run(wasm, root, true); err == nil || !strings.Contains(err.Error(), "make sync-sha") {
		t.Fatalf("check on stale files: err = %v", err)
	}
	if err := run(wasm, root, false); err != nil {
		t.Fatal(err)
	}
	if err := run(wasm, root, true); err != nil {
		t.Fatalf("check after sync: %v", err)
	}
	d, _ := deploy.DigestsFor(module)
	b, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(deploy.ShippedFiles[0])))
	if !strings.Contains(string(b), d.Module) || !strings.Contains(string(b), d.Image) {
		t.Errorf("file after sync:\n%s", b)
	}
}
