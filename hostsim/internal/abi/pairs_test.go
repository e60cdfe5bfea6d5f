package abi

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestEncodePairsLayout(t *testing.T) {
	got := EncodePairs([][2]string{{"ab", "c"}, {"", "xyz"}})
	want := []byte{
		2, 0, 0, 0, // count
		2, 0, 0, 0, 1, 0, 0, 0, // "ab" / "c"
		0, 0, 0, 0, 3, 0, 0, 0, // "" / "xyz"
		'a', 'b', 0, 'c', 0,
		0, 'x', 'y', 'z', 0,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if EncodePairs(nil) != nil {
		t.Fatal("empty list must encode as nil (pointer 0, size 0)")
	}
}

func TestDecodePairs(t *testing.T) {
	valid := EncodePairs([][2]string{{"k", "v"}, {"k2", ""}})
	tooMany := make([]byte, 4)
	binary.LittleEndian.PutUint32(tooMany, MaxPairs+1)
	hugeLen := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint32(hugeLen[4:], 0xFFFFFFFF)
	noNUL := append([]byte(nil), valid...)
	noNUL[len(noNUL)-1] = 'x'
	for _, tc := range []struct {
		name  string
		in    []byte
		ok    bool
		pairs int
	}{
		{"valid", valid, true, 2},
		{"empty", nil, true, 0},
		{"one byte is empty", []byte{0}, true, 0},
		{"trailing byte", append(append([]byte(nil), valid...), 0), false, 0},
		{"truncated", valid[:len(valid)-1], false, 0},
		{"missing NUL", noNUL, false, 0},
		{"count above 1024", tooMany, false, 0},
		{"huge length", hugeLen, false, 0},
		{"over 1 MiB", make([]byte, MaxPairsBytes+1), false, 0},
		{"short header", []byte{1, 0, 0}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := DecodePairs(tc.in)
			if ok != tc.ok || len(p) != tc.pairs {
				t.Fatalf("ok=%v pairs=%d, want ok=%v pairs=%d", ok, len(p), tc.ok, tc.pairs)
			}
			if !ok && p != nil {
				t.Fatal("pairs must be nil on failure")
			}
		})
	}
}

func FuzzDecodePairs(f *testing.F) {
	f.Add(EncodePairs([][2]string{{"k", "v"}}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 'b', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := DecodePairs(b)
		if !ok {
			if p != nil {
				t.Fatal("non-nil pairs on failure")
			}
			return
		}
		// Anything accepted re-encodes to the same bytes (non-malleable),
		// except the two spellings of an empty list.
		if len(p) > 0 && !bytes.Equal(EncodePairs(p), b) {
			t.Fatalf("round trip changed %x", b)
		}
	})
}

func TestStatusString(t *testing.T) {
	if CasMismatch.String() != "CasMismatch" || Status(99).String() != "Status(99)" {
		t.Fatal(CasMismatch.String(), Status(99).String())
	}
}
