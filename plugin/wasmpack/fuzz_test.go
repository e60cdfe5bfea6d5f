package wasmpack

import (
	"bytes"
	"maps"
	"testing"
)

// FuzzCoalesce: on any bytes the pass never panics; it refuses without
// output, or its output is a fixed point, differs from the input only in
// the data section, and writes the same memory image.
func FuzzCoalesce(f *testing.F) {
	f.Add(dataModule(1, seg(0, 1, 2), seg(6, 3)))
	f.Add(dataModule(1, seg(100, 1), seg(102, 2), seg(0, 3), seg(2, 4)))
	f.Add(dataModule(1, seg(64, pattern(10, 126)...), seg(195, 9), seg(196, pattern(20, 127)...)))
	f.Add(dataModule(1, seg(0, 1, 2, 3), seg(1, 9)))
	f.Add(dataModule(1, []byte{0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x05}, seg(2, 6)))
	f.Add(modBytes(sec(SecImport, vec(cat(nm("env"), nm("f"), []byte{0x00, 0x00}))), memSec(1), sec(SecData, vec(seg(0, 1)))))
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out, _, err := Coalesce(in)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		if err != nil {
			if out != nil {
				t.Fatal("output despite an error")
			}
			return
		}
		again, _, err := Coalesce(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent (err %v)", err)
		}
		assertOnlyDataChanged(t, in, out)
		if !maps.Equal(simulatedImage(t, in), simulatedImage(t, out)) {
			t.Fatal("memory images differ")
		}
	})
}

// FuzzCoalesceLayout builds valid modules from fuzzed segment layouts
// (gaps, lengths, order) and compares the memory wazero instantiates from
// the input and from the output.
func FuzzCoalesceLayout(f *testing.F) {
	f.Add([]byte{0, 2, 4, 1, 8, 1}, false)
	f.Add([]byte{3, 1, 0, 200, 7, 9, 5, 130}, true)
	f.Add([]byte{64, 126, 5, 1, 0, 127}, false)
	f.Fuzz(func(t *testing.T, layout []byte, shuffle bool) {
		in := layoutModule(layout, shuffle)
		out, st, err := Coalesce(in)
		if err != nil {
			t.Fatalf("valid layout refused: %v", err)
		}
		if st.Saved() < 0 {
			t.Fatalf("module grew by %d bytes", -st.Saved())
		}
		if again, _, err := Coalesce(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent (err %v)", err)
		}
		if !bytes.Equal(memoryImage(t, in), memoryImage(t, out)) {
			t.Fatal("memory images differ")
		}
	})
}

// layoutModule reads (gap, length) byte pairs into non-overlapping
// segments within one page; shuffle swaps neighbouring pairs of segments
// in the list, as a linker writing sections out of address order would.
func layoutModule(layout []byte, shuffle bool) []byte {
	var segs [][]byte
	off := 0
	for i := 0; i+1 < len(layout); i += 2 {
		gap, n := int(layout[i]), int(layout[i+1])
		if off+gap+n > 65536 {
			break
		}
		segs = append(segs, seg(uint32(off+gap), pattern(byte(i), n)...))
		off += gap + n
	}
	if shuffle {
		for i := 0; i+1 < len(segs); i += 2 {
			segs[i], segs[i+1] = segs[i+1], segs[i]
		}
	}
	return dataModule(1, segs...)
}

// simulatedImage applies a module's data segments in order and returns
// the non-zero bytes of the result by address: the memory image without
// instantiating (fuzzed modules need not be valid beyond the data).
func simulatedImage(t *testing.T, module []byte) map[uint64]byte {
	t.Helper()
	segs, err := DataSegments(module)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	img := map[uint64]byte{}
	for _, s := range segs {
		for i, b := range s.Data {
			img[uint64(s.Offset)+uint64(i)] = b
		}
	}
	maps.DeleteFunc(img, func(_ uint64, b byte) bool { return b == 0 })
	return img
}
