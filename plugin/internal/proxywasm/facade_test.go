package proxywasm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exported returns "Name(params) results" for every exported function and method in files,
// so the two builds of the facade can be compared without compiling the wasip1 one here.
func exported(t *testing.T, files ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				name = types.ExprString(fd.Recv.List[0].Type) + "." + name
			}
			out[name] = types.ExprString(fd.Type)
		}
	}
	return out
}

// TestBuildsExportTheSameAPI: the filter must compile unchanged against either build.
func TestBuildsExportTheSameAPI(t *testing.T) {
	sdkSide := exported(t, "sdk.go")
	abiSide := exported(t, "abi.go")
	for name, sig := range sdkSide {
		if got, ok := abiSide[name]; !ok {
			t.Errorf("%s exists natively but not in the wasip1 build", name)
		} else if normalize(got) != normalize(sig) {
			t.Errorf("%s: native %s, wasip1 %s", name, sig, got)
		}
	}
	for name := range abiSide {
		if _, ok := sdkSide[name]; !ok && !strings.Contains(name, ".") {
			t.Errorf("%s exists in the wasip1 build only", name)
		}
	}
	// Metric methods: natively they come from the SDK types (aliases), in wasip1 from abi.go.
	for _, m := range []string{"MetricCounter.Value", "MetricCounter.Increment", "MetricGauge.Value",
		"MetricGauge.Add", "MetricHistogram.Value", "MetricHistogram.Record"} {
		if _, ok := abiSide[m]; !ok {
			t.Errorf("wasip1 build lacks method %s", m)
		}
	}
}

// normalize drops parameter names, which may differ between the two files.
func normalize(sig string) string {
	fset := token.NewFileSet()
	e, err := parser.ParseExprFrom(fset, "", sig, 0)
	if err != nil {
		return sig
	}
	ft, ok := e.(*ast.FuncType)
	if !ok {
		return sig
	}
	var parts []string
	for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
		if fl == nil {
			parts = append(parts, "|")
			continue
		}
		for _, f := range fl.List {
			n := max(len(f.Names), 1)
			for range n {
				parts = append(parts, types.ExprString(f.Type))
			}
		}
		parts = append(parts, "|")
	}
	return strings.Join(parts, ",")
}

// TestCoversSDK lists the SDK v0.24 proxywasm functions the facade offers; none may be missing.
func TestCoversSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
		"github.com/tetratelabs/proxy-wasm-go-sdk").Output()
	if err != nil {
		t.Fatalf("locating the SDK: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "proxywasm")
	sdk := exported(t, filepath.Join(dir, "hostcall.go"), filepath.Join(dir, "entrypoint.go"))
	ours := exported(t, "abi.go")
	var missing []string
	for name := range sdk {
		if _, ok := ours[name]; !ok {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("facade lacks SDK functions: %v", missing)
	}
}

func TestNormalize(t *testing.T) {
	if got, want := normalize("func(a, b int, c []byte) (x uint32, err error)"), "int,int,[]byte,|,uint32,error,|"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if normalize("func(a int)") == normalize("func(a uint32)") {
		t.Error("different parameter types compare equal")
	}
}
