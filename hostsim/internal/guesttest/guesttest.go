// Package guesttest compiles the Go test guests of hostsim and its
// sub-packages (hostsim/testdata/guests/*, and the scenario runner's guest
// hostsim/scenario/testdata/guests/scen that the scenario, serve and
// hostsim command tests share). It is test support: it needs the Go
// toolchain and the module's sources, so only tests import it (being
// internal to hostsim, nothing outside hostsim/ can).
//
// Guests are built as the plugin is (GOOS=wasip1 GOARCH=wasm,
// -buildmode=c-shared) and cached under the user cache directory, keyed by
// the guest directory's name and the hash of its sources and the Go
// version, so reruns do not rebuild. A build goes to a private file that is
// then renamed, so concurrent test binaries never read a half-written
// module.
package guesttest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	built = map[string]string{} // guest directory → built module path
)

// Path compiles the guest in dir (a directory of Go files, package main)
// if its cached module is missing, and returns the module's path.
func Path(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[abs]; ok {
		return p, nil
	}
	files, err := filepath.Glob(filepath.Join(abs, "*.go"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("guesttest: no Go sources in %s", dir)
	}
	sort.Strings(files)
	h := sha256.New()
	h.Write([]byte(runtime.Version()))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = os.TempDir()
	}
	cacheDir = filepath.Join(cacheDir, "tokengate-hostsim-guests")
	out := filepath.Join(cacheDir, filepath.Base(abs)+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm")
	if _, err := os.Stat(out); err == nil {
		built[abs] = out
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	// The go on PATH runs the tests; $GOROOT/bin/go is the fallback.
	goBin, err := exec.LookPath("go")
	if err != nil && os.Getenv("GOROOT") != "" {
		goBin, err = filepath.Join(os.Getenv("GOROOT"), "bin", "go"), nil
	}
	if err != nil {
		return "", fmt.Errorf("guesttest: no go command to build %s: %v", dir, err)
	}
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("guesttest: building %s: %v\n%s", dir, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	built[abs] = out
	return out, nil
}

// Build compiles the guest in dir like Path and returns the module bytes.
func Build(dir string) ([]byte, error) {
	p, err := Path(dir)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// ScenarioPath returns the path of the built scenario runner's guest,
// hostsim/scenario/testdata/guests/scen, from any test's directory.
func ScenarioPath() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("guesttest: cannot locate hostsim's sources")
	}
	return Path(filepath.Join(filepath.Dir(self), "..", "..", "scenario", "testdata", "guests", "scen"))
}

// ScenarioWasm returns the built scenario guest's bytes.
func ScenarioWasm() ([]byte, error) {
	p, err := ScenarioPath()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
