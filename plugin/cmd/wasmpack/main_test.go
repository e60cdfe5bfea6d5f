package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module has one memory page and two data segments, "ab" at 0 and "c" at
// 4: the 2-byte gap is cheaper than the second header, so they merge.
var module = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
	0x0b, 0x0e, 0x02, // data section, two segments
	0x00, 0x41, 0x00, 0x0b, 0x02, 'a', 'b',
	0x00, 0x41, 0x04, 0x0b, 0x01, 'c',
}

var packed = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x01,
	0x0b, 0x0b, 0x01,
	0x00, 0x41, 0x00, 0x0b, 0x05, 'a', 'b', 0, 0, 'c',
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := write("in.wasm", module)
	done := write("packed.wasm", packed)
	garbage := write("garbage.wasm", []byte("not wasm"))
	passive := write("passive.wasm", []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x04, 0x01, 0x01, 0x01, 'x'})
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		want   []byte // output file contents, nil: none written
	}{
		{name: "usage", args: nil, code: 2, stderr: "usage"},
		{name: "extra argument", args: []string{"-in", in, "-out", "x", "y"}, code: 2, stderr: "usage"},
		{name: "pack", args: []string{"-in", in, "-out", "OUT"}, code: 0,
			stderr: "2 data segments → 1, data section 16 → 13 bytes (3 saved)", want: packed},
		{name: "already packed", args: []string{"-in", done, "-out", "OUT", "-q"}, code: 0, want: packed},
		{name: "refused input", args: []string{"-in", garbage, "-out", "OUT"}, code: 1, stderr: "not a WebAssembly binary"},
		{name: "passive segment", args: []string{"-in", passive, "-out", "OUT"}, code: 1, stderr: "passive segment"},
		{name: "missing input", args: []string{"-in", filepath.Join(dir, "nope"), "-out", "OUT"}, code: 1, stderr: "no such file"},
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
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.stderr)
			}
			got, err := os.ReadFile(out)
			if tc.want == nil {
				if err == nil {
					t.Fatal("output written despite the failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("output %x, want %x", got, tc.want)
			}
		})
	}
}
