//go:build !wasip1

package abi_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostCallsDoNotAllocate builds the package for wasip1 with the
// compiler's escape report: a wrapper that hands the address of a local
// to a //go:wasmimport function moves it to the heap, an allocation per
// host call (the wrappers use the package's ret slots instead).
func TestHostCallsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package for wasip1")
	}
	// A -trimpath prefix nothing matches makes the flags unique, so the
	// build cache cannot replay a compile without its report.
	unique := "-trimpath=/nonexistent/" + strconv.FormatInt(time.Now().UnixNano(), 10)
	cmd := exec.Command("go", "build", "-o", os.DevNull, "-gcflags=-m "+unique, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "does not escape") {
		t.Fatalf("no escape report (cached build?):\n%s", out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "moved to heap") && strings.HasPrefix(line, "./api.go") {
			t.Errorf("host call wrapper allocates: %s", line)
		}
	}
}
