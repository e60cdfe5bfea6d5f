package wasmfile

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
