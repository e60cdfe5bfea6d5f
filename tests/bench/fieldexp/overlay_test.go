package fieldexp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The overlay swaps the representation inside Go's own field package
// (go build -overlay), so the standard library's ed25519.Verify, its
// point arithmetic and its tests run unchanged on fieldexp's Element. That
// measures a whole verification instead of estimating it, and lets Go's own
// test suites (RFC 8032 vectors, non-canonical and small-order encodings)
// check the 10-limb field. Nothing is copied: Go's fe.go is filtered at
// build time and our files are added beside it.

// stdField is the import path of Go's field package.
const stdField = "crypto/internal/fips140/edwards25519/field"

// replacedDecls are the declarations of Go's fe.go that depend on the
// 51-bit representation; fieldexp's files and adapter.go provide them.
var replacedDecls = map[string]bool{
	"Element": true, "maskLow51Bits": true, "feZero": true, "feOne": true,
	"Zero": true, "One": true, "reduce": true, "Add": true, "Subtract": true,
	"Set": true, "SetBytes": true, "bytes": true, "Select": true, "Swap": true,
	"Mult32": true, "mul51": true, "sqrtM1": true,
}

// renames turn fieldexp's sources into members of package field: the
// names Go's kept code already uses get a suffix, Add and Sub become the
// loose helpers of adapter.go's carrying Add and Subtract, and
// encoding/binary becomes the byte-order package Go's FIPS code may import.
var renames = []struct{ old, new string }{
	{"package fieldexp", "package field"},
	{"func (h *Element) Mul(", "func (h *Element) mul10("},
	{"func (h *Element) Square(", "func (h *Element) square10("},
	{"func (h *Element) Add(", "func (h *Element) addLoose("},
	{"func (h *Element) Sub(", "func (h *Element) subLoose("},
	{"func (h *Element) Bytes()", "func (h *Element) bytes10()"},
	{"func (f *Element) Equal(", "func (f *Element) equal10("},
	{"a, b := f.Bytes(), g.Bytes()", "a, b := f.bytes10(), g.bytes10()"},
	{`"encoding/binary"`, `"crypto/internal/fips140deps/byteorder"`},
	{"binary.LittleEndian.Uint64(", "byteorder.LEUint64("},
	{"binary.LittleEndian.PutUint64(", "byteorder.LEPutUint64("},
}

// goEnv returns one `go env` value.
func goEnv(t testing.TB, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// writeOverlay writes the overlay's files and its JSON into dir and
// returns the JSON's path.
func writeOverlay(t testing.TB, dir string) string {
	t.Helper()
	fieldDir := filepath.Join(goEnv(t, "GOROOT"), "src", filepath.FromSlash(stdField))
	replace := map[string]string{}
	// Go's 51-bit multiply (generic and assembly) goes away.
	for _, f := range []string{"fe_generic.go", "fe_amd64.go", "fe_amd64.s", "fe_amd64_noasm.go"} {
		replace[filepath.Join(fieldDir, f)] = ""
	}
	kept, err := filterStdFe(filepath.Join(fieldDir, "fe.go"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"fe.go": kept}
	for _, f := range []string{"fe.go", "mul.go"} {
		src, err := os.ReadFile(filepath.Join(here(), f))
		if err != nil {
			t.Fatal(err)
		}
		files["fieldexp_"+f] = renamed(t, string(src))
	}
	adapter, err := os.ReadFile(filepath.Join(here(), "testdata", "overlay", "adapter.go"))
	if err != nil {
		t.Fatal(err)
	}
	files["fieldexp_adapter.go"] = adapter
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[filepath.Join(fieldDir, name)] = p
	}
	j, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(path, j, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// renamed applies renames; a rename that no longer matches fails the test
// (the sources moved on and the overlay would silently differ).
func renamed(t testing.TB, src string) []byte {
	for _, r := range renames {
		if strings.Contains(src, r.old) {
			src = strings.ReplaceAll(src, r.old, r.new)
		}
	}
	for _, r := range renames[1:7] {
		if strings.Contains(src, r.old) {
			t.Fatalf("overlay: %q survived renaming", r.old)
		}
	}
	return []byte(src)
}

// filterStdFe returns Go's fe.go without replacedDecls and without the
// imports only they used.
func filterStdFe(path string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	cmap := ast.NewCommentMap(fset, f, f.Comments)
	removed := 0
	var decls []ast.Decl
	for _, d := range f.Decls {
		if name, ok := declName(d); ok && replacedDecls[name] {
			removed++
			continue
		}
		decls = append(decls, d)
	}
	if removed != len(replacedDecls) {
		return nil, fmt.Errorf("overlay: removed %d of Go's %d replaced declarations; fe.go changed", removed, len(replacedDecls))
	}
	f.Decls = decls
	dropUnusedImports(f)
	f.Comments = cmap.Filter(f).Comments()
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// declName names a function, method, or single-spec type, const or var
// declaration.
func declName(d ast.Decl) (string, bool) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Name.Name, true
	case *ast.GenDecl:
		if len(d.Specs) != 1 {
			return "", false
		}
		switch s := d.Specs[0].(type) {
		case *ast.TypeSpec:
			return s.Name.Name, true
		case *ast.ValueSpec:
			if len(s.Names) == 1 {
				return s.Names[0].Name, true
			}
		}
	}
	return "", false
}

// dropUnusedImports removes named-by-path imports no selector uses.
func dropUnusedImports(f *ast.File) {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		var specs []ast.Spec
		for _, s := range g.Specs {
			is := s.(*ast.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if is.Name != nil {
				name = is.Name.Name
			}
			if name == "_" || used[name] {
				specs = append(specs, s)
			}
		}
		g.Specs = specs
	}
	var imports []*ast.ImportSpec
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if is.Name != nil {
			name = is.Name.Name
		}
		if name == "_" || used[name] {
			imports = append(imports, is)
		}
	}
	f.Imports = imports
}

// TestOverlayBuilds checks the overlay compiles into Go's packages, for
// Wasm and natively.
func TestOverlayBuilds(t *testing.T) {
	overlay := writeOverlay(t, t.TempDir())
	for _, env := range [][]string{{"GOOS=wasip1", "GOARCH=wasm"}, {}} {
		cmd := exec.Command("go", "build", "-overlay", overlay, "crypto/ed25519", "crypto/ecdh")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v with the overlay: %v\n%s", env, err, out)
		}
	}
}

// overlaidPackages are Go's packages whose own tests run on the 10-limb
// field: the point arithmetic (with its non-canonical and small-order
// cases), Ed25519 (RFC 8032 and the 1024 golden vectors, the CCTV edge
// vectors when the module proxy can be reached) and X25519 (Mult32, Swap).
var overlaidPackages = []string{
	"crypto/internal/fips140/edwards25519", "crypto/ed25519", "crypto/ecdh",
}

// TestGoTestsOnOverlay runs those packages' own tests with the overlay,
// natively (the field package's own tests read the 51-bit limbs, so they
// are not run), verbosely so the log shows which ran. It compiles parts of the standard library: not in -short.
func TestGoTestsOnOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and tests parts of the standard library")
	}
	overlay := writeOverlay(t, t.TempDir())
	args := append([]string{"test", "-count=1", "-v", "-overlay", overlay}, overlaidPackages...)
	out, err := exec.Command("go", args...).CombinedOutput()
	t.Logf("go %s\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "--- PASS: TestEd25519Vectors") {
		t.Log("TestEd25519Vectors (the CCTV edge-case vectors) did not run: it needs the module proxy")
	}
}

// buildBareWithOverlay builds tests/bench's bare-primitive guest (the
// same source and flags as bench.BuildGuest) with the given overlay, so
// its ed25519.Verify runs on the replaced field.
func buildBareWithOverlay(t testing.TB, overlay string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bare.wasm")
	cmd := exec.Command("go", "build", "-overlay", overlay, "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join(here(), "..", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the bare guest with the overlay: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
