// Command syncsha rewrites the digests in the shipped Envoy and Istio files
// (`make sync-sha`) so they name the module `make wasm` just built.
//
// Only values on lines marked `# tokengate:module-sha256` or
// `# tokengate:image-digest` change (see package envoy/deploy); the rest of
// each file is left byte for byte. With -check it changes nothing and exits
// non-zero when a file is stale.
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
	root := flag.String("root", ".", "repository root")
	check := flag.Bool("check", false, "report stale files and exit 1 instead of rewriting")
	flag.Parse()
	if err := run(*wasm, *root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "syncsha:", err)
		os.Exit(1)
	}
}

func run(wasm, root string, check bool) error {
	module, err := deploy.ReadModule(wasm)
	if err != nil {
		return err
	}
	d, err := deploy.DigestsFor(module)
	if err != nil {
		return err
	}
	fmt.Printf("module sha256 %s\nimage  sha256 %s\n", d.Module, d.Image)
	if check {
		stale := false
		for _, rel := range deploy.ShippedFiles {
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				return err
			}
			problems, err := deploy.Stale(src, d)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			for _, p := range problems {
				stale = true
				fmt.Printf("%s: %s\n", rel, p)
			}
		}
		if stale {
			return fmt.Errorf("shipped files are stale: run make sync-sha")
		}
		return nil
	}
	changed, err := deploy.SyncFiles(root, d)
	for _, rel := range changed {
		fmt.Println("updated", rel)
	}
	if err == nil && len(changed) == 0 {
		fmt.Println("all shipped files already name these digests")
	}
	return err
}
