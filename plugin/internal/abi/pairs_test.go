package abi

import (
	"errors"
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

func TestSerializePairsLayout(t *testing.T) {
	got := SerializePairs([][2]string{{"a", "bc"}, {"", "x"}})
	want := []byte{
		2, 0, 0, 0, // count
		1, 0, 0, 0, 2, 0, 0, 0, // "a" / "bc"
		0, 0, 0, 0, 1, 0, 0, 0, // "" / "x"
		'a', 0, 'b', 'c', 0,
		0, 'x', 0,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if empty := SerializePairs(nil); !slices.Equal(empty, []byte{0, 0, 0, 0}) {
		t.Errorf("empty map = %v, want count 0", empty)
	}
}

func TestDeserializePairs(t *testing.T) {
	good := SerializePairs([][2]string{{":path", "/a"}, {"x", ""}, {"x", "2"}})
	for _, tc := range []struct {
		name string
		in   []byte
		want [][2]string
		err  error
	}{
		{name: "round trip keeps order and duplicates", in: good, want: [][2]string{{":path", "/a"}, {"x", ""}, {"x", "2"}}},
		{name: "empty buffer", in: nil},
		{name: "count zero", in: []byte{0, 0, 0, 0}},
		{name: "count zero with trailing bytes", in: []byte{0, 0, 0, 0, 1}, err: ErrMalformedPairs},
		{name: "short header", in: []byte{1, 0}, err: ErrMalformedPairs},
		{name: "trailing byte", in: append(slices.Clone(good), 0), err: ErrMalformedPairs},
		{name: "truncated", in: good[:len(good)-1], err: ErrMalformedPairs},
		{name: "missing NUL", in: func() []byte { b := slices.Clone(good); b[len(b)-1] = 'z'; return b }(), err: ErrMalformedPairs},
		{name: "huge count", in: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, err: ErrMalformedPairs},
		{name: "length overflows buffer", in: []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}, err: ErrMalformedPairs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DeserializePairs(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && got != nil {
				t.Errorf("result %v alongside an error", got)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzPairs(f *testing.F) {
	f.Add(SerializePairs([][2]string{{"a", "b"}}))
	f.Add(SerializePairs(nil))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, err := DeserializePairs(b)
		if err != nil {
			if pairs != nil {
				t.Fatal("result alongside an error")
			}
			return
		}
		// Accepted input is canonical: re-encoding gives the same bytes (empty forms aside).
		if len(pairs) == 0 {
			return
		}
		if again := SerializePairs(pairs); !slices.Equal(again, b) {
			t.Fatalf("not canonical: %v re-encodes to %v", b, again)
		}
		// Into reused storage: the same pairs, in dst when it fits.
		for _, size := range []int{0, len(pairs) - 1, len(pairs), len(pairs) + 3} {
			dst := make([][2]string, 1, max(size, 1))
			dst[0] = [2]string{"stale", "stale"}
			into, err := DeserializePairsInto(dst[:0], b)
			if err != nil || !slices.Equal(into, pairs) {
				t.Fatalf("into cap %d: %q %v, want %q", cap(dst), into, err, pairs)
			}
			if fits := cap(dst) >= len(pairs); fits != (&into[0] == &dst[0]) {
				t.Fatalf("into cap %d for %d pairs: reused %v", cap(dst), len(pairs), !fits)
			}
		}
	})
}

func TestSerializePropertyPath(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"request", "headers", "x"}, "request\x00headers\x00x"},
		{[]string{"plugin_name"}, "plugin_name"},
		{[]string{""}, ""},
	} {
		if got := string(SerializePropertyPath(tc.in)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		if cap(SerializePropertyPath(tc.in)) == 0 {
			t.Errorf("%q: zero-capacity buffer cannot be addressed", tc.in)
		}
	}
}

func TestStatusToError(t *testing.T) {
	for _, tc := range []struct {
		s    Status
		want error
	}{
		{StatusOK, nil},
		{StatusNotFound, types.ErrorStatusNotFound},
		{StatusBadArgument, types.ErrorStatusBadArgument},
		{StatusSerializationFailure, ErrSerializationFailure},
		{StatusParseFailure, ErrParseFailure},
		{StatusBadExpression, ErrBadExpression},
		{StatusInvalidMemoryAccess, ErrInvalidMemoryAccess},
		{StatusEmpty, types.ErrorStatusEmpty},
		{StatusCasMismatch, types.ErrorStatusCasMismatch},
		{StatusResultMismatch, ErrResultMismatch},
		{StatusInternalFailure, types.ErrorInternalFailure},
		{StatusBrokenConnection, ErrBrokenConnection},
		{StatusUnimplemented, types.ErrorUnimplemented},
		{13, ErrUnknownStatus},
		{0xffffffff, ErrUnknownStatus},
	} {
		if got := StatusToError(tc.s); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("StatusToError(%d) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
