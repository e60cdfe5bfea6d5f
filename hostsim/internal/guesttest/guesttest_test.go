package guesttest

import (
	"bytes"
	"os"
	"testing"
)

// TestScenarioGuest builds (or finds) the scenario guest once: the path is
// stable across calls, the file is a wasm module, and Build returns the
// same bytes.
func TestScenarioGuest(t *testing.T) {
	p, err := ScenarioPath()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ScenarioPath()
	if err != nil || again != p {
		t.Fatalf("second call: %q, %v; want %q", again, err, p)
	}
	b, err := ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("%s is not a wasm module", p)
	}
	onDisk, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(onDisk, b) {
		t.Fatalf("ScenarioWasm differs from %s (%v)", p, err)
	}
}

// TestNoSources refuses a directory without Go files instead of building
// an empty module.
func TestNoSources(t *testing.T) {
	if _, err := Path(t.TempDir()); err == nil {
		t.Fatal("built a guest from an empty directory")
	}
}
