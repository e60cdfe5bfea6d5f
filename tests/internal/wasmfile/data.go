package wasmfile

import "strconv"

// Segment is one active data segment of memory 0.
type Segment struct {
	Offset uint32 // where it is written in linear memory
	Data   []byte // its bytes (aliases the module)
	Header int    // encoded bytes besides Data: flag, offset expression, length
}

// DataSegments returns the data segments of a module in order. Every
// segment must be active, target memory 0 and have an i32.const offset;
// anything else is refused with an error wrapping ErrUnsupported.
func DataSegments(module []byte) ([]Segment, error) {
	secs, err := Sections(module)
	if err != nil {
		return nil, err
	}
	data := find(secs, SecData)
	if data == nil {
		return nil, nil
	}
	return parseData(data.Payload)
}

func parseData(p []byte) ([]Segment, error) {
	n, pos, err := readU32(p, 0)
	if err != nil {
		return nil, wrapAt("data section", err)
	}
	if uint64(n) > uint64(len(p)) { // each segment takes at least one byte
		return nil, malformed("data section", "%d segments in %d bytes", n, len(p))
	}
	segs := make([]Segment, 0, n)
	for i := uint32(0); i < n; i++ {
		s, next, err := parseSegment(p, pos)
		if err != nil {
			return nil, wrapAt("data segment "+strconv.FormatUint(uint64(i), 10), err)
		}
		segs = append(segs, s)
		pos = next
	}
	if pos != len(p) {
		return nil, malformed("data section", "%d bytes after the last segment", len(p)-pos)
	}
	return segs, nil
}

// parseSegment reads one segment at p[pos:].
func parseSegment(p []byte, pos int) (Segment, int, error) {
	start := pos
	flag, pos, err := readU32(p, pos)
	if err != nil {
		return Segment{}, pos, err
	}
	switch flag {
	case 0:
	case 1:
		return Segment{}, pos, unsupported("flag", "passive segment")
	case 2:
		var mem uint32
		if mem, pos, err = readU32(p, pos); err != nil {
			return Segment{}, pos, err
		}
		if mem != 0 {
			return Segment{}, pos, unsupported("memory index", "segment for memory %d (multiple memories)", mem)
		}
	default:
		return Segment{}, pos, malformed("flag", "unknown segment flag %d", flag)
	}
	off, pos, err := readOffset(p, pos)
	if err != nil {
		return Segment{}, pos, err
	}
	size, pos, err := readU32(p, pos)
	if err != nil {
		return Segment{}, pos, err
	}
	if uint64(pos)+uint64(size) > uint64(len(p)) {
		return Segment{}, pos, malformed("contents", "%d bytes run past the end of the section", size)
	}
	end := pos + int(size)
	return Segment{Offset: off, Data: p[pos:end], Header: pos - start}, end, nil
}

// readOffset reads a constant offset expression: i32.const n, end.
func readOffset(p []byte, pos int) (uint32, int, error) {
	if pos >= len(p) {
		return 0, pos, errTruncated
	}
	switch op := p[pos]; op {
	case 0x41: // i32.const
	case 0x42:
		return 0, pos, unsupported("offset", "i64.const offset (memory64)")
	case 0x23:
		return 0, pos, unsupported("offset", "global.get offset (not a constant)")
	default:
		return 0, pos, unsupported("offset", "offset expression starting with opcode 0x%02x", op)
	}
	v, pos, err := readS32(p, pos+1)
	if err != nil {
		return 0, pos, err
	}
	if pos >= len(p) {
		return 0, pos, errTruncated
	}
	if p[pos] != 0x0b {
		return 0, pos, unsupported("offset", "offset expression longer than one i32.const")
	}
	return uint32(v), pos + 1, nil
}
