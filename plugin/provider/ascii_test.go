package provider

import "testing"

func TestLowerASCII(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"already lower", "x-api-key", "x-api-key"},
		{"mixed case", "X-Api-KEY", "x-api-key"},
		{"digits and punctuation kept", "Token_1-@Z", "token_1-@z"},
		{"non-ASCII letters kept", "Ä\u212Aey", "Ä\u212Aey"}, // strings.ToLower would give "äkey"
		{"invalid UTF-8 kept", "A\xffB", "a\xffb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LowerASCII(tc.in); got != tc.want {
				t.Fatalf("LowerASCII(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEqualLowerASCII(t *testing.T) {
	for _, tc := range []struct {
		name, s, lower string
		want           bool
	}{
		{"same", "bearer", "bearer", true},
		{"any case", "BeArEr", "bearer", true},
		{"longer", "bearers", "bearer", false},
		{"shorter", "beare", "bearer", false},
		{"other word", "basic!", "bearer", false},
		{"empty both", "", "", true},
		{"non-ASCII not folded", "\u212Aey", "key", false},
		{"want must be lower-case", "Bearer", "Bearer", false},
		{"near miss after folding", "@", "`", false}, // '@'+32 is '`', but '@' is no letter
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EqualLowerASCII(tc.s, tc.lower); got != tc.want {
				t.Fatalf("EqualLowerASCII(%q, %q) = %v, want %v", tc.s, tc.lower, got, tc.want)
			}
		})
	}
}

var sink bool

// TestEqualLowerASCIIAllocs holds the per-request helper to zero
// allocations.
func TestEqualLowerASCIIAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { sink = EqualLowerASCII("BEARER", "bearer") }); n != 0 {
		t.Fatalf("%v allocations, want 0", n)
	}
}
