package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module imports wasi_snapshot_preview1.sched_yield and exports f, which
// calls it.
var module = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type ()→i32
	0x02, 0x26, 0x01, // import section, one entry
	0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	0x0b, 's', 'c', 'h', 'e', 'd', '_', 'y', 'i', 'e', 'l', 'd', 0x00, 0x00,
	0x03, 0x02, 0x01, 0x00, // one function of type 0
	0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x01, // export f = function 1
	0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b, // f: call 0
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wasm")
	if err := os.WriteFile(in, module, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.wasm")
	if err := os.WriteFile(garbage, []byte("not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		wantOut  bool
		sameAsIn bool
	}{
		{name: "usage", args: nil, code: 2, stderr: "usage"},
		{name: "extra argument", args: []string{"-in", in, "-out", "x", "y"}, code: 2, stderr: "usage"},
		{name: "rewrite", args: []string{"-in", in, "-out", "OUT"}, code: 0,
			stderr: "wasi_snapshot_preview1.sched_yield now defined in the module (function 0 → 1)", wantOut: true},
		{name: "nothing selected", args: []string{"-in", in, "-out", "OUT", "-replace", ""}, code: 0,
			stderr: "nothing to replace", wantOut: true, sameAsIn: true},
		{name: "unknown replacement", args: []string{"-in", in, "-out", "OUT", "-replace", "proc_exit"}, code: 1,
			stderr: `no replacement known for "proc_exit"`},
		{name: "refused input", args: []string{"-in", garbage, "-out", "OUT"}, code: 1,
			stderr: "not a WebAssembly binary"},
		{name: "missing input", args: []string{"-in", filepath.Join(dir, "nope"), "-out", "OUT"}, code: 1,
			stderr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.wasm")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "OUT", out)
			}
			var stderr bytes.Buffer
			if code := run(args, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.stderr)
			}
			got, err := os.ReadFile(out)
			if tc.wantOut != (err == nil) {
				t.Fatalf("output written = %v, want %v", err == nil, tc.wantOut)
			}
			if tc.wantOut && bytes.Equal(got, module) != tc.sameAsIn {
				t.Errorf("output equal to input = %v, want %v", !tc.sameAsIn, tc.sameAsIn)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".wasmcompat-") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
		})
	}
}
