package hostsim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
)

// compileCache is shared by every Host the tests create: compiling a Go
// guest is most of a Host's start-up cost.
var compileCache = wazero.NewCompilationCache()

// cfg is the base configuration of the tests.
func cfg() hostsim.Config { return hostsim.Config{}.WithCompilationCache(compileCache) }

// guest returns the test guest testdata/guests/<name>, compiled once.
func guest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := guesttest.Build(filepath.Join("testdata", "guests", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pluginWasm is the conformance guest, built once in TestMain so that the
// package's examples can use it like a plugin's .wasm file.
var pluginWasm []byte

func TestMain(m *testing.M) {
	b, err := guesttest.Build(filepath.Join("testdata", "guests", "conformance"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginWasm = b
	os.Exit(m.Run())
}
