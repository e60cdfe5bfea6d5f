package compat

import (
	"bytes"
	"testing"
)

// FuzzRewrite: the pass never panics; it either refuses (no output) or
// produces a module that is a fixed point of the pass, and a valid input
// (one wazero compiles) always gives a valid output.
func FuzzRewrite(f *testing.F) {
	f.Add(indexModule(false))
	f.Add(indexModule(true))
	f.Add(modBytes(
		sec(secType, vec(tPoll, tI32)),
		sec(secImport, vec(importFunc(wasiPreview1, "poll_oneoff", 0), importFunc(wasiUnstable, "sched_yield", 1))),
		sec(secFunction, vec(u32(1))),
		sec(secMemory, vec([]byte{0x00, 0x01})),
		sec(secExport, vec(exportFunc("f", 2))),
		sec(secCode, vec(body([]byte{0xfc, 0x00}, []byte{0x1a}, call(1), call(0), end()))),
	))
	f.Add(wasmHeader)
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out, reps, err := Rewrite(in, Config{})
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		if err != nil {
			if out != nil || reps != nil {
				t.Fatalf("error with output: %v", err)
			}
			return
		}
		again, reps2, err := Rewrite(out, Config{})
		if err != nil || reps2 != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: err=%v replacements=%v", err, reps2)
		}
		// With nothing replaced the output is the input; otherwise compile
		// both (wazero's own decoder is the judge of validity).
		if reps != nil && compile(t, in) == nil {
			if err := compile(t, out); err != nil {
				t.Fatalf("valid input, invalid output: %v", err)
			}
		}
	})
}
