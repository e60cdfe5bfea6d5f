package hostsim_test

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
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

// compileCache is shared by every Host the tests create: compiling a Go
// guest is most of a Host's start-up cost.
var compileCache = wazero.NewCompilationCache()

// cfg is the base configuration of the tests.
func cfg() hostsim.Config { return hostsim.Config{}.WithCompilationCache(compileCache) }

// Test guests live in testdata/guests/<name> as Go sources. They are
// compiled here (wasip1, c-shared, as the plugin is) and cached under the
// user cache directory, keyed by the hash of their sources and the Go
// version, so repeated runs do not rebuild.

var (
	guestMu    sync.Mutex
	guestCache = map[string][]byte{}
)

func guest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := buildGuest(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildGuest compiles testdata/guests/<name>, or returns the cached module.
func buildGuest(name string) ([]byte, error) {
	guestMu.Lock()
	defer guestMu.Unlock()
	if b, ok := guestCache[name]; ok {
		return b, nil
	}
	dir := filepath.Join("testdata", "guests", name)
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("guest %s: no sources in %s", name, dir)
	}
	sort.Strings(files)
	h := sha256.New()
	h.Write([]byte(runtime.Version()))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:24]
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = os.TempDir()
	}
	cacheDir = filepath.Join(cacheDir, "tokengate-hostsim-guests")
	out := filepath.Join(cacheDir, name+"-"+sum+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		guestCache[name] = b
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, "./"+dir)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building guest %s: %v\n%s", name, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	guestCache[name] = b
	return b, nil
}

// pluginWasm is the conformance guest, built once in TestMain so that the
// package's examples can use it like a plugin's .wasm file.
var pluginWasm []byte

func TestMain(m *testing.M) {
	b, err := buildGuest("conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginWasm = b
	os.Exit(m.Run())
}
