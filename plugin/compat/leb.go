package compat

// LEB128 readers return an error instead of panicking on truncated or
// over-long input; writers can keep the width an encoder chose, because the
// Go linker pads indices and sizes to five bytes and we want untouched
// numbers to stay byte-identical.

// readU32 decodes an unsigned LEB128 number of at most 32 bits at b[pos:].
// It returns the value and the position after it.
func readU32(b []byte, pos int) (uint32, int, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if pos >= len(b) {
			return 0, pos, errTruncated
		}
		c := b[pos]
		pos++
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == 4 && c > 0x0f {
				return 0, pos, errLEBOverflow
			}
			return uint32(v), pos, nil
		}
	}
	return 0, pos, errLEBOverflow
}

// skipSigned skips a signed LEB128 number of at most maxBits bits.
func skipSigned(b []byte, pos int, maxBits int) (int, error) {
	maxBytes := (maxBits + 6) / 7
	for i := 0; i < maxBytes; i++ {
		if pos >= len(b) {
			return pos, errTruncated
		}
		c := b[pos]
		pos++
		if c < 0x80 {
			if i == maxBytes-1 {
				// The unused high bits of the last byte must be a sign extension.
				used := maxBits - 7*i
				rest := c >> (used - 1) // the sign bit and the unused bits
				if rest != 0 && rest != (0x7f>>(used-1)) {
					return pos, errLEBOverflow
				}
			}
			return pos, nil
		}
	}
	return pos, errLEBOverflow
}

// readS33 decodes a signed LEB128 33-bit number (block types).
func readS33(b []byte, pos int) (int64, int, error) {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		if pos >= len(b) {
			return 0, pos, errTruncated
		}
		c := b[pos]
		pos++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if i == 4 && (v < -(1<<32) || v >= 1<<32) {
				return 0, pos, errLEBOverflow
			}
			return v, pos, nil
		}
	}
	return 0, pos, errLEBOverflow
}

// sizeU32 is the minimal LEB128 width of v.
func sizeU32(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendU32 appends v in minimal LEB128.
func appendU32(dst []byte, v uint32) []byte {
	return appendU32Width(dst, v, 0)
}

// appendU32Width appends v using width bytes when v fits in that many
// (padding with continuation bytes, as the Go linker does), else minimally.
func appendU32Width(dst []byte, v uint32, width int) []byte {
	n := sizeU32(v)
	if width > n && width <= 5 {
		n = width
	}
	for i := 0; i < n-1; i++ {
		dst = append(dst, byte(v&0x7f)|0x80)
		v >>= 7
	}
	return append(dst, byte(v&0x7f))
}
