package deploycheck

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/tokengate/tokengate/envoy/deploy"
)

// readLayoutImage opens the single image of an OCI layout directory.
func readLayoutImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("%s: %d manifests in index.json, want 1", dir, len(im.Manifests))
	}
	if im.Manifests[0].Annotations[deploy.RefNameAnnotation] == "" {
		t.Errorf("%s: index entry has no %s", dir, deploy.RefNameAnnotation)
	}
	img, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// untar unpacks an archive into dir, refusing entries that escape it.
func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !filepath.IsLocal(filepath.FromSlash(h.Name)) {
			t.Fatalf("archive entry %q escapes the directory", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(target, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(target), 0o755)
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOCIImageRoundTrip does what `make oci` does with the built module,
// into a temporary directory, and reads the module back from both outputs
// (the layout directory and the tar of it), the way Istio's agent unpacks
// a compat image.
func TestOCIImageRoundTrip(t *testing.T) {
	module := builtModule(t)
	img, err := deploy.Image(module)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	tarPath := filepath.Join(t.TempDir(), "tokengate-oci.tar")
	if err := deploy.WriteLayout(dir, img, deploy.DefaultRefName); err != nil {
		t.Fatal(err)
	}
	if err := deploy.WriteLayoutTar(dir, tarPath); err != nil {
		t.Fatal(err)
	}
	unpacked := filepath.Join(t.TempDir(), "unpacked")
	untar(t, tarPath, unpacked)
	want, _ := img.Digest()
	for name, d := range map[string]string{"layout": dir, "tar": unpacked} {
		t.Run(name, func(t *testing.T) {
			back := readLayoutImage(t, d)
			got, err := back.Digest()
			if err != nil || got != want {
				t.Fatalf("manifest digest %v (%v), want %v", got, err, want)
			}
			m, err := deploy.ExtractModule(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m, module) {
				t.Fatal("module read back differs from build/tokengate.wasm")
			}
		})
	}
}

// TestOCIBuildOutput checks what `make oci` left in build/, when it ran:
// a well-formed compat image whose module matches its own annotation, and
// the current module. make test does not run make oci, so a missing or
// older image is a skip, not a failure; TestOCIImageRoundTrip covers the
// current module either way.
func TestOCIBuildOutput(t *testing.T) {
	module := builtModule(t)
	dir := filepath.Join(repoRoot(t), "build", "oci")
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		t.Skip("build/oci not found: run make oci to build and check the image")
	}
	img := readLayoutImage(t, dir)
	got, err := deploy.ExtractModule(img)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if ann := m.Annotations[deploy.ModuleSHA256Annotation]; ann != deploy.ModuleSHA256(got) {
		t.Errorf("build/oci: module annotation %s does not match the module inside (%s)", ann, deploy.ModuleSHA256(got))
	}
	if !bytes.Equal(got, module) {
		t.Skip("build/oci holds an older module than build/tokengate.wasm: run make oci to refresh it")
	}
}
