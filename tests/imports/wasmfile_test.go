package imports

import (
	"errors"
	"fmt"
)

// importEntry is one entry of a module's import section.
type importEntry struct {
	module, name string
	kind         byte // 0 func, 1 table, 2 memory, 3 global
}

var errTruncated = errors.New("truncated wasm")

// readImports lists the import section of a binary module. It is a small independent parser
// (wazero hides non-function imports), enough to see every kind of import.
func readImports(b []byte) ([]importEntry, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || r.off+size > len(b) {
			return nil, errTruncated
		}
		end := r.off + size
		if id != 2 {
			r.off = end
			continue
		}
		n := int(r.u32())
		var out []importEntry
		for i := 0; i < n && r.err == nil; i++ {
			e := importEntry{module: r.name(), name: r.name(), kind: r.byte()}
			switch e.kind {
			case 0:
				r.u32()
			case 1:
				r.byte()
				r.limits()
			case 2:
				r.limits()
			case 3:
				r.byte()
				r.byte()
			default:
				return nil, fmt.Errorf("unknown import kind %d", e.kind)
			}
			out = append(out, e)
		}
		return out, r.err
	}
	return nil, nil
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

func (r *reader) name() string {
	n := int(r.u32())
	if r.err != nil || r.off+n > len(r.b) {
		r.err = errTruncated
		return ""
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s
}

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}
