package hostsim

import (
	"reflect"
	"testing"
)

// replaceKey and removeKey edit a stream's own map in place; these pin
// Envoy's semantics (one entry at the first position, every duplicate
// gone) and that nothing past the new length keeps a reference.
func TestMapEditsInPlace(t *testing.T) {
	pairs := func(kv ...string) [][2]string {
		var out [][2]string
		for i := 0; i < len(kv); i += 2 {
			out = append(out, [2]string{kv[i], kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		in       [][2]string
		key, val string
		replaced [][2]string
		removed  [][2]string
	}{
		{"absent", pairs("a", "1"), "x", "9", pairs("a", "1", "x", "9"), pairs("a", "1")},
		{"once", pairs("a", "1", "x", "2", "b", "3"), "x", "9", pairs("a", "1", "x", "9", "b", "3"), pairs("a", "1", "b", "3")},
		{"duplicates", pairs("x", "1", "a", "2", "x", "3", "x", "4"), "x", "9", pairs("x", "9", "a", "2"), pairs("a", "2")},
		{"empty", nil, "x", "9", pairs("x", "9"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([][2]string(nil), tc.in...)
			got := replaceKey(in, tc.key, tc.val)
			if !reflect.DeepEqual(got, tc.replaced) {
				t.Fatalf("replace: %q, want %q", got, tc.replaced)
			}
			for _, kv := range in[min(len(got), len(in)):] {
				if kv != ([2]string{}) {
					t.Fatalf("replace left %q past the new length", kv)
				}
			}
			in = append([][2]string(nil), tc.in...)
			got = removeKey(in, tc.key)
			if len(got) != len(tc.removed) || len(got) > 0 && !reflect.DeepEqual(got, tc.removed) {
				t.Fatalf("remove: %q, want %q", got, tc.removed)
			}
			for _, kv := range in[len(got):] {
				if kv != ([2]string{}) {
					t.Fatalf("remove left %q past the new length", kv)
				}
			}
		})
	}
}
