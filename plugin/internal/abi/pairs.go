package abi

import (
	"encoding/binary"
	"unsafe"
)

// Pairs wire format (host doc §5.3), used for header maps in both directions:
//
//	+---------+-----------------------------+--------------------------------------+
//	| u32 N   | N x (u32 keyLen, u32 valLen)| N x (key bytes, 0x00, val bytes, 0x00)|
//	+---------+-----------------------------+--------------------------------------+
//
// All integers little-endian; lengths exclude the NUL.

// MaxPairs and MaxPairsBytes are Envoy's limits for guest-supplied pairs; bigger maps are
// silently treated as empty by Envoy, so the guest refuses to build them instead.
const (
	MaxPairs      = 1024
	MaxPairsBytes = 1 << 20
)

// SerializePairs encodes pairs. An empty map encodes as 4 zero bytes (count 0), which every host
// accepts; the result is never empty, so &b[0] is always valid.
func SerializePairs(pairs [][2]string) []byte {
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

// DeserializePairs decodes a host pairs buffer strictly: every length must fit, every string
// must be NUL-terminated, and no byte may be left over; anything else is ErrMalformedPairs (the
// caller fails closed rather than guessing). An empty buffer is an empty map.
//
// # Notes
//
// Zero-copy: the returned strings point into b. The caller must never modify b afterwards; the
// abi wrappers guarantee this by handing b to nobody else. The strings keep b alive.
func DeserializePairs(b []byte) ([][2]string, error) { return DeserializePairsInto(nil, b) }

// DeserializePairsInto is DeserializePairs into dst's storage when it is
// large enough (a caller reusing one slice for every request allocates
// nothing here); the result aliases dst then.
func DeserializePairsInto(dst [][2]string, b []byte) ([][2]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 4 {
		return nil, ErrMalformedPairs
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 {
		if len(b) == 4 {
			return nil, nil
		}
		return nil, ErrMalformedPairs
	}
	// Each pair takes at least 8 length bytes and 2 NULs: bound n before allocating.
	if uint64(n)*10 > uint64(len(b)-4) {
		return nil, ErrMalformedPairs
	}
	var out [][2]string
	if uint64(cap(dst)) >= uint64(n) {
		out = dst[:n]
	} else {
		out = make([][2]string, n)
	}
	lens := b[4 : 4+8*int(n)]
	off := uint64(4 + 8*int(n))
	end := uint64(len(b))
	for i := range out {
		kl := uint64(binary.LittleEndian.Uint32(lens[8*i:]))
		vl := uint64(binary.LittleEndian.Uint32(lens[8*i+4:]))
		if off+kl+1 > end || b[off+kl] != 0 {
			return nil, ErrMalformedPairs
		}
		out[i][0] = bytesToString(b[off : off+kl])
		off += kl + 1
		if off+vl+1 > end || b[off+vl] != 0 {
			return nil, ErrMalformedPairs
		}
		out[i][1] = bytesToString(b[off : off+vl])
		off += vl + 1
	}
	if off != end {
		return nil, ErrMalformedPairs
	}
	return out, nil
}

// SerializePropertyPath joins path segments with NUL separators (host doc §5.10).
func SerializePropertyPath(path []string) []byte {
	size := len(path) - 1
	for _, p := range path {
		size += len(p)
	}
	if size < 1 {
		size = 1 // a single empty segment still needs an addressable byte
	}
	b := make([]byte, 0, size)
	for i, p := range path {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// bytesToString views b as a string without copying; see DeserializePairs for the lifetime rule.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
