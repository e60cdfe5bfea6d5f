package main

import (
	"testing"

	"github.com/tokengate/tokengate/tests/bench"
)

// TestMeasureOrder: every case is measured once per round, and each bare
// primitive of a ratio right after its wasm case.
func TestMeasureOrder(t *testing.T) {
	var cases []bench.Case
	for _, n := range [][2]string{{bench.GroupWasm, "floor"}, {bench.GroupWasm, "jwt-eddsa"}, {bench.GroupWasm, "jwt-rs256"},
		{bench.GroupBare, "ed25519"}, {bench.GroupBare, "rsa-2048"}, {bench.GroupBare, "hmac-sha256"}} {
		cases = append(cases, bench.Case{Group: n[0], Scheme: n[1]})
	}
	var got []string
	for _, i := range measureOrder(cases) {
		got = append(got, cases[i].Name())
	}
	want := []string{"wasm/floor", "wasm/jwt-eddsa", "bare/ed25519", "wasm/jwt-rs256", "bare/rsa-2048", "bare/hmac-sha256"}
	if len(got) != len(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
