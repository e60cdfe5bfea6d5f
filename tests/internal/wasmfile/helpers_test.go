package wasmfile

// A tiny assembler for hand-made test modules (minimal LEB128 throughout).

func u32(v uint32) []byte {
	var out []byte
	for v >= 0x80 {
		out = append(out, byte(v&0x7f)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

func s32(v int32) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func vec(items ...[]byte) []byte { return cat(u32(uint32(len(items))), cat(items...)) }

func nm(s string) []byte { return cat(u32(uint32(len(s))), []byte(s)) }

func sec(id byte, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat([]byte{id}, u32(uint32(len(p))), p)
}

func modBytes(sections ...[]byte) []byte { return cat(wasmHeader, cat(sections...)) }

// seg is an active segment of memory 0 (flag 0) at off.
func seg(off uint32, data ...byte) []byte {
	return cat([]byte{0x00, 0x41}, s32(int32(off)), []byte{0x0b}, u32(uint32(len(data))), data)
}

// memSec is a memory section with one memory of min pages, no maximum.
func memSec(pages uint32) []byte { return sec(SecMemory, vec(cat([]byte{0x00}, u32(pages)))) }

// dataModule is a module with one memory of pages pages and the given
// data segments, plus a custom section after them.
func dataModule(pages uint32, segs ...[]byte) []byte {
	return modBytes(memSec(pages), sec(SecData, vec(segs...)), sec(SecCustom, nm("after"), []byte{1, 2, 3}))
}
