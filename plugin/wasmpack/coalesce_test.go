package wasmpack

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tokengate/tokengate/plugin/compat"
)

// pattern is n non-zero bytes starting at b.
func pattern(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b + byte(i%200) | 1
	}
	return out
}

func TestCoalesce(t *testing.T) {
	big126, one, big127 := pattern(10, 126), []byte{9}, pattern(20, 127)
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: unchanged
		segs int    // segments after
	}{
		{
			name: "gap shorter than a header is filled",
			in:   dataModule(1, seg(0, 1, 2), seg(6, 3)),
			want: dataModule(1, seg(0, 1, 2, 0, 0, 0, 0, 3)),
			segs: 1,
		},
		{
			name: "gap as long as a header is kept",
			in:   dataModule(1, seg(0, 1, 2), seg(7, 3)),
			segs: 2,
		},
		{
			name: "touching segments become one",
			in:   dataModule(1, seg(10, 1), seg(11, 2)),
			want: dataModule(1, seg(10, 1, 2)),
			segs: 1,
		},
		{
			name: "a chain merges into one segment",
			in:   dataModule(1, seg(0, 1), seg(2, 2), seg(4, 3)),
			want: dataModule(1, seg(0, 1, 0, 2, 0, 3)),
			segs: 1,
		},
		{
			name: "neighbours in the list but not in memory stay apart",
			in:   dataModule(1, seg(0, 1), seg(8, 3), seg(4, 2)),
			segs: 3,
		},
		{
			name: "sections written out of address order merge within each",
			in:   dataModule(1, seg(100, 1), seg(102, 2), seg(0, 3), seg(2, 4)),
			want: dataModule(1, seg(100, 1, 0, 2), seg(0, 3, 0, 4)),
			segs: 2,
		},
		{
			// Pass 1 keeps the first gap (5 bytes, as long as the header it
			// would save) and merges the next two; their merged length needs a
			// two-byte LEB128, so the second pass finds the first gap worth
			// filling.
			name: "merging runs to a fixed point",
			in:   dataModule(1, seg(64, big126...), seg(195, one...), seg(196, big127...)),
			want: dataModule(1, seg(64, cat(big126, make([]byte, 5), one, big127)...)),
			segs: 1,
		},
		{
			// An empty segment writes nothing but still bound-checks its
			// offset at instantiation: it is kept, and no merge spans it.
			name: "empty segments are kept and block merges across them",
			in:   dataModule(1, seg(0, 1), seg(3, 2), seg(2)),
			segs: 3,
		},
		{
			name: "an empty segment between merged neighbours in the list stays",
			in:   dataModule(1, seg(0, 1), seg(1), seg(2, 2), seg(4, 3)),
			want: dataModule(1, seg(0, 1), seg(1), seg(2, 2, 0, 3)),
			segs: 3,
		},
		{
			name: "no data section",
			in:   modBytes(memSec(1)),
			segs: 0,
		},
		{
			name: "empty data section",
			in:   dataModule(1),
			segs: 0,
		},
		{
			name: "segment for memory 0 with an explicit index",
			in:   dataModule(1, []byte{0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x05}, seg(2, 6)),
			want: dataModule(1, seg(0, 5, 0, 6)),
			segs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := bytes.Clone(tt.in)
			out, st, err := Coalesce(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tt.in, orig) {
				t.Fatal("input modified")
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("output\n got %x\nwant %x", out, want)
			}
			if st.SegmentsOut != tt.segs {
				t.Errorf("SegmentsOut = %d, want %d", st.SegmentsOut, tt.segs)
			}
			if st.Saved() != len(tt.in)-len(out) {
				t.Errorf("Saved() = %d, module shrank by %d", st.Saved(), len(tt.in)-len(out))
			}
			again, _, err := Coalesce(out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("not idempotent (err %v)", err)
			}
			if !bytes.Equal(memoryImage(t, tt.in), memoryImage(t, out)) {
				t.Fatal("memory images differ")
			}
		})
	}
}

func TestCoalesceRefuses(t *testing.T) {
	okSeg := seg(0, 1)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not a module", []byte("\x00asm"), ErrMalformed},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), ErrUnsupported},
		{"truncated data section", modBytes(memSec(1), []byte{SecData, 0x05, 0x01, 0x00}), ErrMalformed},
		{"segment longer than the section", dataModule(1, []byte{0x00, 0x41, 0x00, 0x0b, 0x09, 0x01}), ErrMalformed},
		{"bytes after the last segment", modBytes(memSec(1), sec(SecData, vec(okSeg), []byte{0})), ErrMalformed},
		{"unknown segment flag", dataModule(1, []byte{0x03, 0x00}), ErrMalformed},
		{"passive segment", dataModule(1, okSeg, []byte{0x01, 0x01, 0x07}), ErrUnsupported},
		{"segment for memory 1", dataModule(1, []byte{0x02, 0x01, 0x41, 0x00, 0x0b, 0x01, 0x05}), ErrUnsupported},
		{"global.get offset", dataModule(1, []byte{0x00, 0x23, 0x00, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"i64.const offset", dataModule(1, []byte{0x00, 0x42, 0x00, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"extended constant offset", dataModule(1, []byte{0x00, 0x41, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"overlapping segments", dataModule(1, seg(0, 1, 2, 3), seg(1, 9)), ErrUnsupported},
		{"data count section", modBytes(memSec(1), sec(SecDataCount, u32(1)), sec(SecData, vec(okSeg))), ErrUnsupported},
		{"imported memory", modBytes(sec(SecImport, vec(cat(nm("env"), nm("memory"), []byte{0x02, 0x00, 0x01}))), sec(SecData, vec(okSeg))), ErrUnsupported},
		{"shared memory", modBytes(sec(SecMemory, vec([]byte{0x03, 0x01, 0x01})), sec(SecData, vec(okSeg))), ErrUnsupported},
		{"memory64", modBytes(sec(SecMemory, vec([]byte{0x04, 0x01})), sec(SecData, vec(okSeg))), ErrUnsupported},
		{"two memories", modBytes(sec(SecMemory, vec([]byte{0x00, 0x01}, []byte{0x00, 0x01})), sec(SecData, vec(okSeg))), ErrUnsupported},
		{"data without a memory", modBytes(sec(SecData, vec(okSeg))), ErrUnsupported},
		{"sections out of order", modBytes(sec(SecData, vec(okSeg)), memSec(1)), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := Coalesce(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if out != nil {
				t.Fatal("output despite an error")
			}
		})
	}
}

// TestCoalescePlugin runs the pass over the real plugin: the memory image
// after instantiation is identical, every other section is byte for byte
// the same, and the result still passes the compatibility pass's checks.
func TestCoalescePlugin(t *testing.T) {
	in := realPlugin(t)
	out, st, err := Coalesce(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("segments %d → %d, data section %d → %d bytes (saved %d), zeros written %d",
		st.SegmentsIn, st.SegmentsOut, st.DataIn, st.DataOut, st.Saved(), st.ZerosWritten)
	if again, _, err := Coalesce(out); err != nil || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent on the plugin (err %v)", err)
	}
	assertOnlyDataChanged(t, in, out)
	if !bytes.Equal(memoryImage(t, in), memoryImage(t, out)) {
		t.Fatal("memory images differ")
	}
	imports, err := compat.Imports(out)
	if err != nil {
		t.Fatal(err)
	}
	if extra := compat.BeyondEnvoyBaseline(imports); len(extra) != 0 {
		t.Errorf("imports beyond Envoy 1.21+: %v", extra)
	}
	// The compatibility pass walks every section; over its own output it
	// must find nothing to do.
	if again, reps, err := compat.Rewrite(out, compat.Config{}); err != nil || len(reps) != 0 || !bytes.Equal(again, out) {
		t.Errorf("compat pass over the packed module: err %v, replacements %v", err, reps)
	}
}

// assertOnlyDataChanged compares every section but data byte for byte.
func assertOnlyDataChanged(t testing.TB, in, out []byte) {
	t.Helper()
	a, err := Sections(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sections(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d sections became %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name {
			t.Fatalf("section %d: %s became %s", i, a[i].Name, b[i].Name)
		}
		if a[i].ID != SecData && !bytes.Equal(a[i].Payload, b[i].Payload) {
			t.Errorf("section %s changed", a[i].Name)
		}
	}
}
