// Package repo locates the repository from a test, for suites that run
// commands or read files relative to the module root.
package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the directory holding go.mod above the test's working
// directory, failing the test when there is none.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}
