// Command ocibuild packs the plugin as a Wasm OCI image for Istio (`make oci`).
//
// It reads build/tokengate.wasm (checked against the .sha256 file `make wasm`
// writes), builds the reproducible "compat" image described in package
// envoy/deploy, and writes it twice: as an OCI image layout directory
// (build/oci/) and as a tar of that layout (build/tokengate-oci.tar). It
// prints the module and manifest digests; the manifest digest is the
// sha256 a WasmPlugin with an oci:// URL must name (`make sync-sha` puts it
// there).
//
// Push with any OCI tool that keeps the manifest as is, e.g.
//
//	crane push build/oci ghcr.io/you/tokengate:v0.1.0
//	skopeo copy --preserve-digests oci-archive:build/tokengate-oci.tar docker://ghcr.io/you/tokengate:v0.1.0
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tokengate/tokengate/envoy/deploy"
)

func main() {
	wasm := flag.String("wasm", deploy.DefaultModulePath, "built module (with its .sha256 file beside it)")
	dir := flag.String("layout", "build/oci", "OCI image layout directory to (re)create")
	tarPath := flag.String("tar", "build/tokengate-oci.tar", "tar archive of the layout")
	ref := flag.String("ref", deploy.DefaultRefName, "ref name recorded in the layout's index.json")
	flag.Parse()
	if err := run(*wasm, *dir, *tarPath, *ref); err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
}

func run(wasm, dir, tarPath, ref string) error {
	module, err := deploy.ReadModule(wasm)
	if err != nil {
		return err
	}
	img, err := deploy.Image(module)
	if err != nil {
		return err
	}
	if err := deploy.WriteLayout(dir, img, ref); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(tarPath), 0o755); err != nil {
		return err
	}
	if err := deploy.WriteLayoutTar(dir, tarPath); err != nil {
		return fmt.Errorf("writing %s: %w", tarPath, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("module  sha256:%s  %s\n", deploy.ModuleSHA256(module), wasm)
	fmt.Printf("image   %s  %s, %s\n", digest, dir, tarPath)
	return nil
}
