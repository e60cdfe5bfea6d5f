// Package guesttest compiles the Go test guests under hostsim's
// testdata/guests for the tests of hostsim and its sub-packages. Only tests
// import it.
//
// Guests are built as the plugin is (GOOS=wasip1 GOARCH=wasm,
// -buildmode=c-shared) and cached under the user cache directory, keyed by
// the hash of their sources and the Go version, so reruns do not rebuild.
package guesttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// Build compiles the guest in dir (a directory of Go files, package main)
// and returns the module bytes.
func Build(dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[abs]; ok {
		return b, nil
	}
	files, err := filepath.Glob(filepath.Join(abs, "*.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("guesttest: no Go sources in %s", dir)
	}
	sort.Strings(files)
	h := sha256.New()
	h.Write([]byte(runtime.Version()))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:24]
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = os.TempDir()
	}
	cacheDir = filepath.Join(cacheDir, "tokengate-hostsim-guests")
	out := filepath.Join(cacheDir, filepath.Base(abs)+"-"+sum+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		built[abs] = b
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("guesttest: building %s: %v\n%s", dir, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	built[abs] = b
	return b, nil
}
