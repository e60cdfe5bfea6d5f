package abi

import "encoding/binary"

// EncodePairs serialises header pairs in the proxy-wasm layout:
//
//	u32 LE count N
//	N × (u32 LE key length, u32 LE value length)
//	N × (key bytes, 0x00, value bytes, 0x00)
//
// Lengths exclude the NULs. An empty list encodes as nil: Envoy hands the
// guest pointer 0, size 0 for it without calling the allocator.
func EncodePairs(pairs [][2]string) []byte {
	if len(pairs) == 0 {
		return nil
	}
	size := 4 + 8*len(pairs)
	for _, p := range pairs {
		size += len(p[0]) + len(p[1]) + 2
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, uint32(len(pairs)))
	off := 4
	for _, p := range pairs {
		binary.LittleEndian.PutUint32(b[off:], uint32(len(p[0])))
		binary.LittleEndian.PutUint32(b[off+4:], uint32(len(p[1])))
		off += 8
	}
	for _, p := range pairs {
		off += copy(b[off:], p[0])
		b[off] = 0
		off++
		off += copy(b[off:], p[1])
		b[off] = 0
		off++
	}
	return b
}

// DecodePairs parses guest-supplied pairs. Parsing is all-or-nothing, as in
// Envoy: a buffer over MaxPairsBytes, a count over MaxPairs, truncated data,
// a missing NUL or trailing bytes give ok=false, and callers then treat the
// list as empty (the hostcall still proceeds). A size of 0 or 1 is a valid
// empty list.
func DecodePairs(b []byte) (pairs [][2]string, ok bool) {
	if len(b) <= 1 {
		return nil, true
	}
	if len(b) > MaxPairsBytes || len(b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxPairs {
		return nil, false
	}
	hdr := 4 + 8*int(n)
	if hdr > len(b) {
		return nil, false
	}
	pairs = make([][2]string, 0, n)
	data := hdr
	for i := 0; i < int(n); i++ {
		kl := int(binary.LittleEndian.Uint32(b[4+8*i:]))
		vl := int(binary.LittleEndian.Uint32(b[8+8*i:]))
		// Each bound is checked separately so huge lengths cannot overflow.
		if kl > len(b) || vl > len(b) || data+kl+1 > len(b) {
			return nil, false
		}
		k := string(b[data : data+kl])
		data += kl
		if b[data] != 0 {
			return nil, false
		}
		data++
		if data+vl+1 > len(b) {
			return nil, false
		}
		v := string(b[data : data+vl])
		data += vl
		if b[data] != 0 {
			return nil, false
		}
		data++
		pairs = append(pairs, [2]string{k, v})
	}
	if data != len(b) {
		return nil, false
	}
	return pairs, true
}
