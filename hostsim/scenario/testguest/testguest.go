// Package testguest builds the scenario runner's test guest
// (hostsim/scenario/testdata/guests/scen) for the tests of the scenario,
// serve and hostsim command packages. It is test support: it needs the Go
// toolchain and the module's sources, so production code must not use it.
//
// The module is compiled as the plugin is (GOOS=wasip1 GOARCH=wasm,
// -buildmode=c-shared) and cached under the user cache directory, keyed by
// the hash of the guest's sources and the Go version, so that repeated
// test runs do not rebuild it.
package testguest

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
	built string // path of the built module, once known
)

// Path builds the guest if needed and returns the path of its .wasm file.
func Path() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if built != "" {
		return built, nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testguest: cannot locate the guest sources")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "testdata", "guests", "scen")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("testguest: no guest sources in %s", dir)
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
	out := filepath.Join(cacheDir, "scen-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm")
	if _, err := os.Stat(out); err == nil {
		built = out
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	// Build to a private name and rename, so that concurrent test binaries
	// never read a half-written module.
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testguest: building the guest: %v\n%s", err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	built = out
	return out, nil
}

// Wasm returns the built guest's bytes.
func Wasm() ([]byte, error) {
	p, err := Path()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
