// Command tinygocheck type-checks the TinyGo build path of the plugin from source.
//
// The .wasm we ship is built with standard Go, but every package compiled into it must also
// build with TinyGo (make wasm-tinygo), where the facade re-exports the SDK's real host calls.
// TinyGo is not installed in CI, and `go vet -tags tinygo` cannot help because the SDK's TinyGo
// host calls are declarations without bodies. So this loads ./plugin/... with -tags=tinygo for
// GOOS=wasip1 GOARCH=wasm through golang.org/x/tools/go/packages (LoadAllSyntax: every package
// and dependency type-checked from source) and prints every error.
//
// It also enforces two house rules for wasm packages: no dependency on "net", and no direct
// import of "encoding/json" (reflection-heavy; TinyGo support is partial).
//
// Usage: go run ./plugin/internal/tinygocheck [patterns]   (default ./plugin/...)
// Exit status 1 when anything is wrong.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

const modulePath = "github.com/tokengate/tokengate"

// nativeOnly are packages under plugin/ that never go into the .wasm.
var nativeOnly = []string{
	modulePath + "/plugin/cmd/",   // CLIs and build tools, except the wasm main below
	modulePath + "/plugin/token/", // client library
	modulePath + "/plugin/internal/tinygocheck/",
}

const wasmMain = modulePath + "/plugin/cmd/tokengate-wasm"

func main() {
	patterns := os.Args[1:]
	if len(patterns) == 0 {
		patterns = []string{"./plugin/..."}
	}
	os.Exit(run(".", patterns, inWasm, os.Stdout))
}

// inWasm reports whether a package path is compiled into the module.
func inWasm(path string) bool {
	if path == wasmMain {
		return true
	}
	for _, p := range nativeOnly {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, p) {
			return false
		}
	}
	return true
}

// run loads patterns from dir, checks the packages keep selects, and writes one line per
// problem; it returns the exit status.
func run(dir string, patterns []string, keep func(pkgPath string) bool, w io.Writer) int {
	cfg := &packages.Config{
		Mode:       packages.LoadAllSyntax,
		Dir:        dir,
		BuildFlags: []string{"-tags=tinygo"},
		Env:        append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"),
		Tests:      false,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		fmt.Fprintf(w, "tinygocheck: load: %v\n", err)
		return 1
	}
	var problems []string
	seen := map[string]bool{}
	var roots []*packages.Package
	for _, p := range pkgs {
		if keep(p.PkgPath) {
			roots = append(roots, p)
		}
	}
	// Errors anywhere in the dependency graph of a wasm package break the TinyGo build.
	packages.Visit(roots, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msg := e.Error()
			if !seen[msg] {
				seen[msg] = true
				problems = append(problems, msg)
			}
		}
	})
	for _, p := range roots {
		if _, ok := p.Imports["encoding/json"]; ok {
			problems = append(problems, p.PkgPath+": imports encoding/json (use jsonparser in wasm code)")
		}
		if chain := pathTo(p, "net", map[string]bool{}); chain != nil {
			problems = append(problems, p.PkgPath+": depends on net via "+strings.Join(chain, " -> "))
		}
	}
	sort.Strings(problems)
	for _, m := range problems {
		fmt.Fprintln(w, m)
	}
	if len(roots) == 0 {
		fmt.Fprintln(w, "tinygocheck: no wasm packages matched")
		return 1
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "tinygocheck: %d problem(s) in the TinyGo build path\n", len(problems))
		return 1
	}
	fmt.Fprintf(w, "tinygocheck: %d wasm package(s) type-check with -tags=tinygo (wasip1/wasm)\n", len(roots))
	return 0
}

// pathTo returns an import chain from p to target, or nil.
func pathTo(p *packages.Package, target string, visited map[string]bool) []string {
	if visited[p.PkgPath] {
		return nil
	}
	visited[p.PkgPath] = true
	if _, ok := p.Imports[target]; ok {
		return []string{p.PkgPath, target}
	}
	for _, imp := range p.Imports {
		if c := pathTo(imp, target, visited); c != nil {
			return append([]string{p.PkgPath}, c...)
		}
	}
	return nil
}
