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

// Overlay variants: what replaces Go's 51-bit field code.
const (
	// overlayFe10 replaces the representation with fieldexp.Element.
	overlayFe10 = "fe10"
	// overlayFe51Inline keeps Go's representation and everything else and
	// replaces only feMulGeneric and feSquareGeneric with Element51's
	// call-free Mul and Square.
	overlayFe51Inline = "fe51inline"
)

// writeOverlay writes the files of an overlay variant and its JSON into
// dir and returns the JSON's path.
func writeOverlay(t testing.TB, dir, variant string) string {
	t.Helper()
	fieldDir := filepath.Join(goEnv(t, "GOROOT"), "src", filepath.FromSlash(stdField))
	replace := map[string]string{}
	var files map[string][]byte
	switch variant {
	case overlayFe10:
		files = fe10Files(t, fieldDir)
		// Go's 51-bit multiply (generic and assembly) goes away.
		for _, f := range []string{"fe_generic.go", "fe_amd64.go", "fe_amd64.s", "fe_amd64_noasm.go"} {
			replace[filepath.Join(fieldDir, f)] = ""
		}
	case overlayFe51Inline:
		files = fe51InlineFiles(t, fieldDir)
	default:
		t.Fatalf("overlay: unknown variant %q", variant)
	}
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

// fe10Files are the overlay's files for overlayFe10 by name in the field
// package's directory.
func fe10Files(t testing.TB, fieldDir string) map[string][]byte {
	kept, err := filterGoFile(filepath.Join(fieldDir, "fe.go"), replacedDecls)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"fe.go": kept}
	// Each file must contain its share of the renamed declarations.
	for f, must := range map[string][]struct{ old, new string }{"mul.go": renames[1:3], "fe.go": renames[3:7]} {
		files["fieldexp_"+f] = renamed(t, readHere(t, f), renames, must)
	}
	files["fieldexp_adapter.go"] = []byte(readHere(t, "testdata/overlay/adapter.go"))
	return files
}

// inlineRenames turn Element51's Mul and Square into Go's feMulGeneric and
// feSquareGeneric over Go's Element (fields l0..l4).
var inlineRenames = func() []struct{ old, new string } {
	r := []struct{ old, new string }{
		{"package fieldexp", "package field"},
		{"func (v *Element51) Mul(x, y *Element51) *Element51 {", "func feMulGeneric(v, x, y *Element) {"},
		{"func (v *Element51) Square(x *Element51) *Element51 {", "func feSquareGeneric(v, x *Element) {"},
		{"return v\n", "return\n"},
		{"mask51", "maskLow51Bits"},
	}
	for _, x := range []string{"v", "x", "y"} {
		for i := range 5 {
			r = append(r, struct{ old, new string }{fmt.Sprintf("%s.l[%d]", x, i), fmt.Sprintf("%s.l%d", x, i)})
		}
	}
	return r
}()

// fe51InlineFiles are the overlay's files for overlayFe51Inline.
func fe51InlineFiles(t testing.TB, fieldDir string) map[string][]byte {
	kept, err := filterGoFile(filepath.Join(fieldDir, "fe_generic.go"),
		map[string]bool{"feMulGeneric": true, "feSquareGeneric": true})
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"fe_generic.go":     kept,
		"fieldexp_mul51.go": renamed(t, readHere(t, "mul51.go"), inlineRenames, inlineRenames[1:3]),
	}
}

// readHere reads one of this package's files.
func readHere(t testing.TB, name string) string {
	b, err := os.ReadFile(filepath.Join(here(), filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// renamed applies renames to src. The must renames have to match (if
// the sources moved on, the overlay would silently differ).
func renamed(t testing.TB, src string, renames, must []struct{ old, new string }) []byte {
	for _, r := range must {
		if !strings.Contains(src, r.old) {
			t.Fatalf("overlay: %q not found", r.old)
		}
	}
	for _, r := range renames {
		src = strings.ReplaceAll(src, r.old, r.new)
	}
	return []byte(src)
}

// filterGoFile returns the Go file at path without the declarations in
// drop (all of which must be there) and without the imports only they
// used.
func filterGoFile(path string, drop map[string]bool) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	cmap := ast.NewCommentMap(fset, f, f.Comments)
	removed := 0
	var decls []ast.Decl
	for _, d := range f.Decls {
		if name, ok := declName(d); ok && drop[name] {
			removed++
			continue
		}
		decls = append(decls, d)
	}
	if removed != len(drop) {
		return nil, fmt.Errorf("overlay: removed %d of %d declarations from %s; Go's source changed", removed, len(drop), path)
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

// overlayVariants are every overlay variant.
var overlayVariants = []string{overlayFe10, overlayFe51Inline}

// TestOverlayBuilds checks each overlay compiles into Go's packages, for
// Wasm and natively (purego: without Go's assembly multiply).
func TestOverlayBuilds(t *testing.T) {
	for _, v := range overlayVariants {
		overlay := writeOverlay(t, t.TempDir(), v)
		for _, env := range [][]string{{"GOOS=wasip1", "GOARCH=wasm"}, {}} {
			cmd := exec.Command("go", "build", "-tags", "purego", "-overlay", overlay, "crypto/ed25519", "crypto/ecdh")
			cmd.Env = append(os.Environ(), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build %v with the %s overlay: %v\n%s", env, v, err, out)
			}
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
// natively with -tags purego (Go's portable code, as in Wasm; the field
// package's own tests read the 51-bit limbs, so they are not run),
// verbosely so the log shows which ran. It compiles parts of the standard library: not in -short.
func TestGoTestsOnOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and tests parts of the standard library")
	}
	for _, v := range overlayVariants {
		t.Run(v, func(t *testing.T) {
			overlay := writeOverlay(t, t.TempDir(), v)
			args := append([]string{"test", "-count=1", "-v", "-tags", "purego", "-overlay", overlay}, overlaidPackages...)
			out, err := exec.Command("go", args...).CombinedOutput()
			t.Logf("go %s\n%s", strings.Join(args, " "), out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "--- PASS: TestEd25519Vectors") {
				t.Log("TestEd25519Vectors (the CCTV edge-case vectors) did not run: it needs the module proxy")
			}
		})
	}
}

// buildBare builds tests/bench's bare-primitive guest (the same source
// and flags as bench.BuildGuest) with extra go build flags (an -overlay, a
// -pgo profile), so its ed25519.Verify runs on the replaced field.
func buildBare(t testing.TB, flags ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bare.wasm")
	args := append(append([]string{"build"}, flags...), "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join(here(), "..", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the bare guest with %v: %v\n%s", flags, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyProfile returns a CPU profile of ed25519.Verify run natively with
// -tags purego: Go's portable field code, the code the Wasm build runs
// (natively it is assembly). Given to the Wasm build with -pgo, its hot
// call edges lift the inlining budget of addMul19 and addMul38, which on
// wasm exceed the default budget of 80 (cost 91 and 93: bits.Mul64 is not
// an intrinsic there) and stay calls otherwise.
func verifyProfile(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	prof := filepath.Join(dir, "verify.pprof")
	cmd := exec.Command("go", "test", "-tags", "purego", "-run", "^$", "-bench", "^BenchmarkVerify$/^native$",
		"-benchtime", "1s", "-o", filepath.Join(dir, "fieldexp.test"), "-cpuprofile", prof, ".")
	cmd.Dir = here()
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("profiling the native verify: %v\n%s", err, msg)
	}
	return prof
}

// TestWriteOverlays writes every overlay variant into
// $FIELDEXP_OVERLAY_OUT/<variant>/overlay.json (skipped when unset), for
// trying them on other builds, e.g. the plugin:
//
//	FIELDEXP_OVERLAY_OUT=/tmp/ov go test -run TestWriteOverlays ./tests/bench/fieldexp/
//	GOOS=wasip1 GOARCH=wasm go build -overlay /tmp/ov/fe10/overlay.json -buildmode=c-shared ./plugin/cmd/tokengate-wasm
func TestWriteOverlays(t *testing.T) {
	out := os.Getenv("FIELDEXP_OVERLAY_OUT")
	if out == "" {
		t.Skip("FIELDEXP_OVERLAY_OUT not set")
	}
	for _, v := range overlayVariants {
		dir := filepath.Join(out, v)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", v, writeOverlay(t, dir, v))
	}
}

// TestSignatureDifferential runs testdata/sigdiff with each overlay:
// crypto/ed25519.Verify on the replaced field against a reference on the
// untouched field (filippo.io/edwards25519), over random valid and damaged
// signatures, small-order and non-canonical encodings (SIGDIFF_N sets how
// many; 50,000 by default). Not in -short.
func TestSignatureDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("verifies hundreds of thousands of signatures")
	}
	for _, v := range overlayVariants {
		t.Run(v, func(t *testing.T) {
			overlay := writeOverlay(t, t.TempDir(), v)
			cmd := exec.Command("go", "test", "-count=1", "-v", "-tags", "purego", "-overlay", overlay, "./testdata/sigdiff")
			cmd.Dir = here()
			out, err := cmd.CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
