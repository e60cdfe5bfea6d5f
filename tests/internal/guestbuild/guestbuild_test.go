package guestbuild

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSourceHash: the cache key follows the sources' names and contents,
// not their test files.
func TestSourceHash(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	glob := []string{filepath.Join(dir, "*.go")}
	hash := func() string {
		h, err := sourceHash(glob)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	write("main.go", "package main\n")
	a := hash()
	write("main_test.go", "package main\n// a test\n")
	if hash() != a {
		t.Error("a test file changed the key")
	}
	write("main.go", "package main\n\nfunc f() {}\n")
	if hash() == a {
		t.Error("a changed source kept the key")
	}
}
