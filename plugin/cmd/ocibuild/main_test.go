package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/tokengate/tokengate/envoy/deploy"
)

var module = []byte("\x00asm\x01\x00\x00\x00\x00\x05\x04test")

func TestRun(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "tokengate.wasm")
	if err := run(wasm, filepath.Join(dir, "oci"), filepath.Join(dir, "img.tar"), "tokengate"); err == nil || !strings.Contains(err.Error(), "run make wasm") {
		t.Fatalf("missing module: err = %v, want a 'run make wasm' hint", err)
	}
	os.WriteFile(wasm, module, 0o644)
	os.WriteFile(wasm+".sha256", []byte(deploy.ModuleSHA256(module)+"  tokengate.wasm\n"), 0o644)
	if err := run(wasm, filepath.Join(dir, "oci"), filepath.Join(dir, "out", "img.tar"), "tokengate"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "out", "img.tar")); err != nil || fi.Size() == 0 {
		t.Fatalf("tar: %v", err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := p.ImageIndex()
	im, _ := idx.IndexManifest()
	img, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := deploy.ExtractModule(img)
	if err != nil || !bytes.Equal(got, module) {
		t.Fatalf("module back: %v", err)
	}
}
