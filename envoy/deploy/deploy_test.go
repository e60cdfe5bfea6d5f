package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tinyModule is the smallest valid Wasm binary (magic + version) plus a
// custom section, so tests need no build.
var tinyModule = []byte("\x00asm\x01\x00\x00\x00\x00\x05\x04test")

var (
	modA = strings.Repeat("a", 64)
	modB = strings.Repeat("b", 64)
	imgC = strings.Repeat("c", 64)
	imgD = strings.Repeat("d", 64)
)

func TestRewrite(t *testing.T) {
	src := "a: 1\n" +
		"sha: " + modA + "  # tokengate:module-sha256\n" +
		"url: oci://r/x@sha256:" + imgC + " # tokengate:image-digest\n" +
		"untouched: " + modA + "\n"
	d := Digests{Module: modB, Image: imgD}
	out, n, err := Rewrite([]byte(src), d)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("changed %d values, want 2", n)
	}
	want := "a: 1\n" +
		"sha: " + modB + "  # tokengate:module-sha256\n" +
		"url: oci://r/x@sha256:" + imgD + " # tokengate:image-digest\n" +
		"untouched: " + modA + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// Idempotent: a second pass changes nothing.
	again, n, err := Rewrite(out, d)
	if err != nil || n != 0 || !bytes.Equal(again, out) {
		t.Errorf("second pass: n=%d err=%v changed=%v", n, err, !bytes.Equal(again, out))
	}
	if stale, err := Stale(out, d); err != nil || len(stale) != 0 {
		t.Errorf("Stale after rewrite = %v, %v", stale, err)
	}
	stale, err := Stale([]byte(src), d)
	if err != nil || len(stale) != 2 {
		t.Errorf("Stale before rewrite = %v, %v; want 2 entries", stale, err)
	}
}

func TestRewriteRefuses(t *testing.T) {
	good := Digests{Module: modB, Image: imgD}
	for _, tc := range []struct {
		name string
		src  string
		d    Digests
	}{
		{"no markers", "sha: " + modA + "\n", good},
		{"marker without value", "sha: TODO # tokengate:module-sha256\n", good},
		{"unknown marker", "sha: " + modA + " # tokengate:modul-sha256\n", good},
		{"short digest", "sha: " + modA + " # tokengate:module-sha256\n", Digests{Module: "abc", Image: imgD}},
		{"upper-case digest", "sha: " + modA + " # tokengate:module-sha256\n", Digests{Module: strings.ToUpper(modB), Image: imgD}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Rewrite([]byte(tc.src), tc.d); err == nil {
				t.Error("Rewrite succeeded, want an error")
			}
		})
	}
}

func TestImageReproducibleAndRoundTrips(t *testing.T) {
	a, err := ImageDigest(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ImageDigest(bytes.Clone(tinyModule))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same module, different digests: %s vs %s", a, b)
	}
	other := append(bytes.Clone(tinyModule), 'x')
	if c, _ := ImageDigest(other); c == a {
		t.Fatal("different modules gave the same image digest")
	}

	img, err := Image(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, img, "tokengate:test"); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest.Hex != a || im.Manifests[0].MediaType != types.OCIManifestSchema1 {
		t.Fatalf("index = %+v, want one OCI manifest %s", im.Manifests, a)
	}
	back, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ExtractModule(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tinyModule) {
		t.Fatal("module read back from the layout differs")
	}
	m, _ := back.Manifest()
	if m.Annotations[ModuleSHA256Annotation] != ModuleSHA256(tinyModule) {
		t.Errorf("module annotation = %q", m.Annotations[ModuleSHA256Annotation])
	}

	// The tar of the layout is itself reproducible.
	t1, t2 := filepath.Join(t.TempDir(), "1.tar"), filepath.Join(t.TempDir(), "2.tar")
	if err := WriteLayoutTar(dir, t1); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayoutTar(dir, t2); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(t1)
	b2, _ := os.ReadFile(t2)
	if len(b1) == 0 || !bytes.Equal(b1, b2) {
		t.Error("layout tar is empty or not reproducible")
	}
}

func TestImageRefusesNonWasm(t *testing.T) {
	if _, err := Image([]byte("#!/bin/sh\necho hi\n")); err == nil {
		t.Error("Image accepted a shell script")
	}
}

func TestReadModule(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokengate.wasm")
	if _, err := ReadModule(path); err == nil || !strings.Contains(err.Error(), "run make wasm") {
		t.Errorf("missing module: err = %v, want a 'run make wasm' hint", err)
	}
	os.WriteFile(path, tinyModule, 0o644)
	if _, err := ReadModule(path); err == nil || !strings.Contains(err.Error(), "run make wasm") {
		t.Errorf("missing .sha256: err = %v", err)
	}
	os.WriteFile(path+".sha256", []byte(modA+"  tokengate.wasm\n"), 0o644)
	if _, err := ReadModule(path); err == nil || !strings.Contains(err.Error(), "run make wasm") {
		t.Errorf("stale .sha256: err = %v", err)
	}
	os.WriteFile(path+".sha256", []byte(ModuleSHA256(tinyModule)+"  tokengate.wasm\n"), 0o644)
	got, err := ReadModule(path)
	if err != nil || !bytes.Equal(got, tinyModule) {
		t.Errorf("ReadModule = %v, %v", got, err)
	}
}

func TestSyncFiles(t *testing.T) {
	root := t.TempDir()
	for _, rel := range ShippedFiles {
		path := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte("# head\nsha256: "+modA+" # tokengate:module-sha256\nd: "+imgC+" # tokengate:image-digest\n"), 0o644)
	}
	d := Digests{Module: modB, Image: imgD}
	changed, err := SyncFiles(root, d)
	if err != nil || len(changed) != len(ShippedFiles) {
		t.Fatalf("SyncFiles = %v, %v", changed, err)
	}
	changed, err = SyncFiles(root, d)
	if err != nil || len(changed) != 0 {
		t.Fatalf("second SyncFiles = %v, %v; want no change", changed, err)
	}
}
