// Package guestbuild compiles the small wasip1 guests of the benchmarks and
// experiments (tests/bench's bare primitives, fieldexp, p256exp) the way
// the plugin is built: GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared,
// -trimpath, no cgo. Each build is cached in the user cache under a hash
// of its sources and the Go version, so a benchmark run does not pay a
// compile.
package guestbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Spec says what to build.
type Spec struct {
	// Name prefixes the cached file ("bare", "fieldexp", ...).
	Name string
	// Dir is where go build runs; Package is what it builds there
	// ("." when empty).
	Dir, Package string
	// Sources are file globs whose non-test files key the cache (the
	// guest's own sources and whatever it imports from the module).
	Sources []string
	// Overlay, when not empty, is go build -overlay's Replace map: the
	// file at each key is read from the value (for a guest that must
	// appear inside another package's tree, e.g. to import an internal
	// package).
	Overlay map[string]string
}

// Build returns the guest's module, compiling it when the cache has none
// for these sources.
func Build(s Spec) ([]byte, error) {
	key, err := sourceHash(s.Sources)
	if err != nil {
		return nil, err
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	out := filepath.Join(dir, "tokengate-bench", s.Name+"-"+key+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	args := []string{"build", "-buildmode=c-shared", "-trimpath"}
	if len(s.Overlay) > 0 {
		overlay, err := writeOverlay(s.Overlay)
		if err != nil {
			return nil, err
		}
		defer os.Remove(overlay)
		args = append(args, "-overlay", overlay)
	}
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	pkg := s.Package
	if pkg == "" {
		pkg = "."
	}
	cmd := exec.Command("go", append(args, "-o", tmp, pkg)...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the %s guest: %v\n%s", s.Name, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// sourceHash hashes the non-test files the globs match (names and
// contents, in a fixed order) and the Go version.
func sourceHash(globs []string) (string, error) {
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return "", err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	h.Write([]byte(runtime.Version()))
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

func writeOverlay(replace map[string]string) (string, error) {
	b, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "guestbuild-overlay-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return "", err
	}
	return f.Name(), nil
}
