package wasmpack

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
)

// Stats describes what Coalesce did.
type Stats struct {
	SegmentsIn, SegmentsOut int
	DataIn, DataOut         int // data section size, whole section
	HeadersIn, HeadersOut   int // bytes of segment headers
	ZerosWritten            int // gap bytes now written explicitly
}

// Saved is how many bytes the module lost.
func (s Stats) Saved() int { return s.DataIn - s.DataOut }

// Coalesce merges neighbouring active data segments of memory 0 where the
// zero gap between them is cheaper to write than a segment header (see the
// package documentation for why this is sound and what is refused). Every
// section other than data is copied byte for byte. A module with nothing to
// merge comes back unchanged, and Coalesce(Coalesce(m)) == Coalesce(m).
// The input is not modified and the output does not alias it.
func Coalesce(module []byte) ([]byte, Stats, error) {
	secs, err := Sections(module)
	if err != nil {
		return nil, Stats{}, err
	}
	if err := checkMemory(secs); err != nil {
		return nil, Stats{}, err
	}
	data := find(secs, SecData)
	if data == nil {
		return bytes.Clone(module), Stats{}, nil
	}
	segs, err := parseData(data.Payload)
	if err != nil {
		return nil, Stats{}, err
	}
	lay, err := newLayout(segs)
	if err != nil {
		return nil, Stats{}, err
	}
	st := Stats{SegmentsIn: len(segs), DataIn: data.Size, HeadersIn: headerBytes(segs)}
	merged, zeros := mergeToFixedPoint(segs, lay)
	if len(merged) == len(segs) {
		st.SegmentsOut, st.DataOut, st.HeadersOut = st.SegmentsIn, st.DataIn, st.HeadersIn
		return bytes.Clone(module), st, nil
	}
	payload := encodeData(merged)
	out := make([]byte, 0, len(module)-data.Size+len(payload)+6)
	out = append(out, module[:data.Offset]...)
	out = append(out, SecData)
	out = appendU32Width(out, uint32(len(payload)), data.sizeWidth)
	out = append(out, payload...)
	out = append(out, module[data.Offset+data.Size:]...)
	st.SegmentsOut = len(merged)
	st.DataOut = len(out) - (len(module) - data.Size)
	st.ZerosWritten = zeros
	for _, m := range merged {
		st.HeadersOut += m.encLen - m.size()
	}
	return out, st, nil
}

// checkMemory refuses modules where writing zeros could change memory or
// where segments may be referred to by index.
func checkMemory(secs []Section) error {
	if s := find(secs, SecImport); s != nil {
		if err := checkImports(s.Payload); err != nil {
			return wrapAt("import section", err)
		}
	}
	if find(secs, SecDataCount) != nil {
		return unsupported("data count section", "code may refer to data segments by index (memory.init, data.drop)")
	}
	mem := find(secs, SecMemory)
	if mem == nil {
		if find(secs, SecData) != nil {
			return unsupported("memory section", "data segments without a defined memory")
		}
		return nil
	}
	if err := checkMemorySection(mem.Payload); err != nil {
		return wrapAt("memory section", err)
	}
	return nil
}

func checkMemorySection(p []byte) error {
	n, pos, err := readU32(p, 0)
	if err != nil {
		return err
	}
	if n != 1 {
		return unsupported("memories", "%d memories (want exactly 1)", n)
	}
	if pos >= len(p) {
		return errTruncated
	}
	switch p[pos] {
	case 0x00, 0x01:
	case 0x02, 0x03:
		return unsupported("limits", "shared memory")
	default:
		return unsupported("limits", "memory limits flag 0x%02x (memory64 or unknown)", p[pos])
	}
	pos, err = skipLimits(p, pos)
	if err != nil {
		return err
	}
	if pos != len(p) {
		return malformed("memory section", "%d trailing bytes", len(p)-pos)
	}
	return nil
}

// checkImports walks the import section and refuses an imported memory,
// whose bytes before instantiation are the host's, not zeros.
func checkImports(p []byte) error {
	n, pos, err := readU32(p, 0)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		where := "import " + strconv.FormatUint(uint64(i), 10)
		for j := 0; j < 2; j++ {
			if _, pos, err = readName(p, pos); err != nil {
				return wrapAt(where, err)
			}
		}
		if pos >= len(p) {
			return wrapAt(where, errTruncated)
		}
		kind := p[pos]
		pos++
		switch kind {
		case 0x00: // function: type index
			_, pos, err = readU32(p, pos)
		case 0x01: // table: reference type, limits
			pos, err = skipLimits(p, pos+1)
		case 0x02:
			return unsupported(where, "imported memory (its initial bytes are not known to be zero)")
		case 0x03: // global: value type, mutability
			pos += 2
			if pos > len(p) {
				err = errTruncated
			}
		default:
			return unsupported(where, "import kind 0x%02x", kind)
		}
		if err != nil {
			return wrapAt(where, err)
		}
	}
	if pos != len(p) {
		return malformed("import section", "%d trailing bytes", len(p)-pos)
	}
	return nil
}

// skipLimits skips 32-bit limits (flags 0–3) at p[pos:].
func skipLimits(p []byte, pos int) (int, error) {
	if pos >= len(p) {
		return pos, errTruncated
	}
	flag := p[pos]
	if flag > 3 {
		return pos, unsupported("limits", "flag 0x%02x (64-bit or unknown)", flag)
	}
	_, pos, err := readU32(p, pos+1)
	if err == nil && flag&1 != 0 {
		_, pos, err = readU32(p, pos)
	}
	return pos, err
}

// layout is where a module's segments write: the non-empty segments
// sorted by address (refused if any two overlap) and the offsets of the
// empty ones.
type layout struct {
	occ     []Segment
	empties []uint32
}

// newLayout builds the layout. The Go linker writes segments section by
// section, not in address order, so two neighbours in the list may have
// other segments between them in memory; see free.
func newLayout(segs []Segment) (layout, error) {
	var l layout
	for _, s := range segs {
		if len(s.Data) > 0 {
			l.occ = append(l.occ, s)
		} else {
			l.empties = append(l.empties, s.Offset)
		}
	}
	sort.SliceStable(l.occ, func(a, b int) bool { return l.occ[a].Offset < l.occ[b].Offset })
	slices.Sort(l.empties)
	for i := 1; i < len(l.occ); i++ {
		if uint64(l.occ[i].Offset) < l.occ[i-1].End() {
			return layout{}, unsupported("data segments", "bytes %d–%d are written twice: overlapping segments are not merged",
				l.occ[i].Offset, min(l.occ[i-1].End(), l.occ[i].End()))
		}
	}
	return l, nil
}

// free reports whether no segment writes a byte of [from, to) nor starts
// there (an empty one). The zeros a merged segment writes into such a gap
// are the zeros memory starts with, and merged segments never overlap.
func (l layout) free(from, to uint64) bool {
	if from >= to {
		return true
	}
	// The segments are disjoint, so their ends are sorted too: the first
	// one ending after from is the only candidate.
	k := sort.Search(len(l.occ), func(i int) bool { return l.occ[i].End() > from })
	if k < len(l.occ) && uint64(l.occ[k].Offset) < to {
		return false
	}
	e := sort.Search(len(l.empties), func(i int) bool { return uint64(l.empties[i]) >= from })
	return e == len(l.empties) || uint64(l.empties[e]) >= to
}

func headerBytes(segs []Segment) int {
	n := 0
	for _, s := range segs {
		n += s.Header
	}
	return n
}

// run is a merged segment in the making: consecutive segments of the
// input, in ascending order with free gaps, written as one from the
// first's offset.
type run struct {
	off    uint32
	end    uint64
	parts  []Segment
	encLen int // encoded size: the original bytes if a single segment, else minimal encoding
}

func (r run) size() int { return int(r.end - uint64(r.off)) }

// mergeToFixedPoint merges neighbours greedily, left to right, while any
// merge makes the encoding strictly smaller. A merge widens the length's
// LEB128, which can make a later pass find a merge an earlier one did
// not, so it repeats until a pass changes nothing: that makes Coalesce
// idempotent.
func mergeToFixedPoint(segs []Segment, lay layout) ([]run, int) {
	runs := make([]run, len(segs))
	for i, s := range segs {
		runs[i] = run{off: s.Offset, end: s.End(), parts: []Segment{s}, encLen: len(s.raw)}
	}
	for {
		next := mergePass(runs, lay)
		if len(next) == len(runs) {
			break
		}
		runs = next
	}
	zeros := 0
	for _, r := range runs {
		for i := 1; i < len(r.parts); i++ {
			zeros += int(uint64(r.parts[i].Offset) - r.parts[i-1].End())
		}
	}
	return runs, zeros
}

func mergePass(runs []run, lay layout) []run {
	out := make([]run, 0, len(runs))
	for _, r := range runs {
		if len(out) > 0 && mergeable(&out[len(out)-1], r, lay) {
			acc := &out[len(out)-1]
			acc.end = r.end
			acc.parts = append(acc.parts, r.parts...)
			acc.encLen = encodedLen(acc.off, acc.size())
			continue
		}
		r.parts = append([]Segment(nil), r.parts...)
		out = append(out, r)
	}
	return out
}

// mergeable: both are non-empty (empty segments stay as they are: they
// write nothing but still bound-check their offset), next starts at or
// after the end of acc, the gap between them is free, and one segment
// costs strictly fewer bytes than two.
func mergeable(acc *run, next run, lay layout) bool {
	if acc.size() == 0 || next.size() == 0 || uint64(next.off) < acc.end || !lay.free(acc.end, uint64(next.off)) {
		return false
	}
	size := next.end - uint64(acc.off)
	if size > 1<<32-1 {
		return false
	}
	return encodedLen(acc.off, int(size)) < acc.encLen+next.encLen
}

// encodeData writes the data section payload: single segments as read,
// merged ones in minimal encoding with the gaps zero-filled.
func encodeData(runs []run) []byte {
	n := 5
	for _, r := range runs {
		n += r.encLen
	}
	out := appendU32(make([]byte, 0, n), uint32(len(runs)))
	for _, r := range runs {
		if len(r.parts) == 1 {
			out = append(out, r.parts[0].raw...)
			continue
		}
		buf := make([]byte, r.size())
		for _, p := range r.parts {
			copy(buf[p.Offset-r.off:], p.Data)
		}
		out = appendSegment(out, r.off, buf)
	}
	return out
}
