package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Names and annotations of the image. The layer file name and the variant
// annotation come from the Wasm image specification's "compat" variant,
// which is what Istio's image fetcher reads first for OCI manifests.
const (
	// ModuleFile is the module's name inside the single layer.
	ModuleFile = "plugin.wasm"
	// VariantAnnotation marks a compat-variant image with an OCI layer type.
	VariantAnnotation = "module.wasm.image/variant"
	// ModuleSHA256Annotation records the module's own sha256 in the
	// manifest, so the module digest can be read without unpacking.
	ModuleSHA256Annotation = "io.tokengate.module.sha256"
	// TitleAnnotation is the standard OCI title annotation.
	TitleAnnotation = "org.opencontainers.image.title"
	// RefNameAnnotation names the image inside an OCI layout's index.json.
	RefNameAnnotation = "org.opencontainers.image.ref.name"
	// DefaultRefName is the ref name written into build/oci/index.json.
	DefaultRefName = "tokengate"
)

// epoch is the fixed timestamp of every tar entry, so the same module
// always gives the same layer digest and the same manifest digest.
var epoch = time.Unix(0, 0).UTC()

// ModuleSHA256 is the lower-case hex sha256 of a module, as
// `sha256sum` prints it and as Envoy's remote data source and Istio's
// http(s) URLs expect it.
func ModuleSHA256(module []byte) string {
	sum := sha256.Sum256(module)
	return hex.EncodeToString(sum[:])
}

// checkModule refuses input that is not a WebAssembly binary: a deployment
// image holding anything else would only fail later, inside the proxy.
func checkModule(module []byte) error {
	if len(module) < 8 || !bytes.Equal(module[:4], []byte("\x00asm")) {
		return errors.New("not a WebAssembly module (missing \\0asm header)")
	}
	return nil
}

// Image packs module as a Wasm OCI image, "compat" variant: an OCI manifest
// with exactly one layer of media type application/vnd.oci.image.layer.v1.tar+gzip
// whose tar holds the module as plugin.wasm, and the manifest annotation
// module.wasm.image/variant=compat.
//
// # Why this variant
//
// Istio's agent (pkg/wasm/imagefetcher.go) takes a Docker manifest as the
// Docker compat variant, and for an OCI manifest first tries exactly this
// layout (last layer, OCI tar+gzip media type, file named plugin.wasm) before
// the custom-media-type "oci" variant. The compat variant is also what
// `docker build` of `FROM scratch` + `COPY plugin.wasm` produces and what
// every registry accepts, so the same artefact works with standard tools.
//
// # Notes
//
// The image is reproducible: tar entries have fixed owner, mode and time,
// the config has no creation time, and gzip output is deterministic for a
// given Go toolchain. The same module therefore always has the same manifest
// digest, which is what Istio compares a WasmPlugin's sha256 against for
// oci:// URLs.
func Image(module []byte) (v1.Image, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	tarBytes, err := moduleTar(module)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.BestCompression))
	if err != nil {
		return nil, fmt.Errorf("deploy: layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, fmt.Errorf("deploy: append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("deploy: config: %w", err)
	}
	cfg = cfg.DeepCopy()
	// A Wasm module has no CPU architecture or OS in the container sense;
	// "wasm"/"wasip1" says what it is without making runtimes try to run it.
	cfg.Architecture = "wasm"
	cfg.OS = "wasip1"
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("deploy: config: %w", err)
	}
	annotated, ok := mutate.Annotations(img, map[string]string{
		VariantAnnotation:      "compat",
		ModuleSHA256Annotation: ModuleSHA256(module),
		TitleAnnotation:        "tokengate",
	}).(v1.Image)
	if !ok {
		return nil, errors.New("deploy: annotating the manifest did not yield an image")
	}
	return annotated, nil
}

// moduleTar is a one-entry tar: plugin.wasm, read-only, owned by root,
// dated at the Unix epoch.
func moduleTar(module []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     ModuleFile,
		Mode:     0o444,
		Size:     int64(len(module)),
		ModTime:  epoch,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(module); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ImageDigest is the hex manifest digest of the image built from module
// (no "sha256:" prefix), as a WasmPlugin's sha256 field wants it.
func ImageDigest(module []byte) (string, error) {
	img, err := Image(module)
	if err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.Hex, nil
}

// WriteLayout writes img as an OCI image layout at dir, replacing whatever
// was there, with refName in the index annotations.
func WriteLayout(dir string, img v1.Image, refName string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{RefNameAnnotation: refName}))
}

// WriteLayoutTar archives the OCI layout at dir as a tar file (an
// "oci-archive" in skopeo's words), with sorted entries and fixed metadata
// so the archive is reproducible.
func WriteLayoutTar(dir, tarPath string) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	out, err := os.CreateTemp(filepath.Dir(tarPath), ".oci-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	tw := tar.NewWriter(out)
	for _, path := range files {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: epoch, Format: tar.FormatPAX}
		if info.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file private; an image archive is not a secret.
	if err := os.Chmod(out.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(out.Name(), tarPath)
}

// ExtractModule reads the module back out of a compat-variant image the way
// Istio's agent does: the last layer must be an OCI tar+gzip layer, and the
// module is the entry whose base name is plugin.wasm. It also checks what
// Istio does not but a release should: exactly one layer, the variant
// annotation, and a single plugin.wasm entry.
func ExtractModule(img v1.Image) ([]byte, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.MediaType != "" && m.MediaType != types.OCIManifestSchema1 {
		return nil, fmt.Errorf("manifest media type %q, want %q", m.MediaType, types.OCIManifestSchema1)
	}
	if got := m.Annotations[VariantAnnotation]; got != "compat" {
		return nil, fmt.Errorf("annotation %s=%q, want compat", VariantAnnotation, got)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	if len(layers) != 1 {
		return nil, fmt.Errorf("%d layers, want exactly 1", len(layers))
	}
	mt, err := layers[0].MediaType()
	if err != nil {
		return nil, err
	}
	if mt != types.OCILayer {
		return nil, fmt.Errorf("layer media type %q, want %q", mt, types.OCILayer)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	gz, err := gzip.NewReader(rc)
	if err != nil {
		return nil, fmt.Errorf("layer is not gzip: %w", err)
	}
	tr := tar.NewReader(gz)
	var module []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("layer tar: %w", err)
		}
		if filepath.Base(h.Name) != ModuleFile {
			continue
		}
		if module != nil {
			return nil, fmt.Errorf("more than one %s in the layer", ModuleFile)
		}
		if module, err = io.ReadAll(tr); err != nil {
			return nil, err
		}
	}
	if module == nil {
		return nil, fmt.Errorf("%s not found in the layer", ModuleFile)
	}
	return module, nil
}
