package wasmpack

// LEB128 helpers. Readers return an error instead of panicking on
// truncated or over-long input.

// readU32 decodes an unsigned LEB128 number of at most 32 bits at b[pos:]
// and returns it with the position after it.
func readU32(b []byte, pos int) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if pos >= len(b) {
			return 0, pos, errTruncated
		}
		c := b[pos]
		pos++
		if i == 4 && c > 0x0f {
			return 0, pos, errLEBOverflow
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, pos, nil
		}
	}
	return 0, pos, errLEBOverflow
}

// readS32 decodes a signed LEB128 number of at most 32 bits.
func readS32(b []byte, pos int) (int32, int, error) {
	var v int64
	for i := 0; i < 5; i++ {
		if pos >= len(b) {
			return 0, pos, errTruncated
		}
		c := b[pos]
		pos++
		v |= int64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c&0x40 != 0 {
				v |= -1 << (7 * (i + 1))
			}
			if v < -1<<31 || v >= 1<<31 {
				return 0, pos, errLEBOverflow
			}
			return int32(v), pos, nil
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

// sizeS32 is the minimal signed LEB128 width of v.
func sizeS32(v int32) int {
	n := 1
	for v < -64 || v >= 64 {
		v >>= 7
		n++
	}
	return n
}

// appendU32Width appends v in LEB128 using width bytes when v fits in that
// many (padding with continuation bytes, as the Go linker does for section
// sizes), else minimally.
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

func appendU32(dst []byte, v uint32) []byte { return appendU32Width(dst, v, 0) }

// appendS32 appends v in minimal signed LEB128.
func appendS32(dst []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}
