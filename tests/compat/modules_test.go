package compat

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	pass "github.com/tokengate/tokengate/plugin/compat"
)

// repoRoot is two levels up from this package.
func repoRoot() string { return filepath.Join("..", "..") }

type built struct {
	once     sync.Once
	raw, out []byte
	err      error
}

var guestBuild, pluginBuild built

// goBuild compiles a wasip1 reactor the way the Makefile does.
func goBuild(pkg, out string) error {
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return &buildError{pkg: pkg, err: err, out: string(msg)}
	}
	return nil
}

type buildError struct {
	pkg string
	err error
	out string
}

func (e *buildError) Error() string { return "go build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

func (b *built) load(t *testing.T, build func() ([]byte, error)) (raw, rewritten []byte) {
	t.Helper()
	b.once.Do(func() {
		if b.raw, b.err = build(); b.err == nil {
			b.out, _, b.err = pass.Rewrite(b.raw, pass.Config{})
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.raw, b.out
}

// guestModules returns the test guest before and after the pass.
func guestModules(t *testing.T) (raw, rewritten []byte) {
	return guestBuild.load(t, func() ([]byte, error) {
		dir, err := os.MkdirTemp("", "compat-guest")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "guest.wasm")
		if err := goBuild("./tests/compat/testdata/guest", out); err != nil {
			return nil, err
		}
		return os.ReadFile(out)
	})
}

// pluginModules returns the plugin before and after the pass: the build
// output when present, else a fresh build.
func pluginModules(t *testing.T) (raw, rewritten []byte) {
	return pluginBuild.load(t, func() ([]byte, error) {
		if b, err := os.ReadFile(filepath.Join(repoRoot(), "build", "tokengate.raw.wasm")); err == nil {
			return b, nil
		}
		dir, err := os.MkdirTemp("", "compat-plugin")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "tokengate.raw.wasm")
		if err := goBuild("./plugin/cmd/tokengate-wasm", out); err != nil {
			return nil, err
		}
		return os.ReadFile(out)
	})
}
