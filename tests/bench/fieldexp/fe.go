package fieldexp

import (
	"encoding/binary"
	"errors"
)

// Element is an element of GF(2^255−19) in 10 limbs: the value is
// Σ l[i]·2^offset(i) with offset(i) = ceil(25.5·i), i.e. limbs of 26 and
// 25 bits alternating (even limbs 26). Limbs are signed, so Sub needs no
// bias and carries are arithmetic shifts.
//
// # Bounds
//
// Three states are used by the contract of each function:
//
//   - tight: 0 ≤ l[i] < 2^26 (even i) or 2^25 (odd i); value < 2^255.
//   - carried: |l[i]| < 2^26. Mul, Square, Carry and SetBytes return
//     carried elements.
//   - loose: |l[i]| ≤ 2^27: the sum or difference of two carried elements.
//     Mul, Square and Carry accept loose inputs; Add and Sub need carried
//     ones (two loose elements could exceed the bound).
//
// Why Mul cannot overflow int64: output column k sums ten products, each
// times 1 or 2 (odd×odd) and 19 on wrap-around. Column 0 carries the
// largest total factor: 1 + 4·19 + 5·38 = 267 < 2^8.1, so with loose inputs
// |column| ≤ 267·2^54 < 2^62.1. The carry chain then moves at most 2^37
// into any limb, and 19·(h9>>25) < 2^41.5 into limb 0, whose own carry
// into limb 1 is below 2^16: every limb ends below 2^26 in magnitude.
type Element struct {
	l [10]int32
}

// mask25 keeps the 25 bits of limb 9 (bit 255 and up dropped).
const mask25 = 1<<25 - 1

// offset is the bit position of each limb.
var offset = [10]uint{0, 26, 51, 77, 102, 128, 153, 179, 204, 230}

// width returns limb i's width in bits.
func width(i int) uint { return 26 - uint(i&1) }

// Zero sets h = 0 and returns h.
func (h *Element) Zero() *Element { *h = Element{}; return h }

// One sets h = 1 and returns h.
func (h *Element) One() *Element { *h = Element{l: [10]int32{1}}; return h }

// Limbs returns the raw limbs (for tests and bound checks).
func (h *Element) Limbs() [10]int32 { return h.l }

// SetLimbs sets the raw limbs; the caller guarantees the bound the next
// operation needs. It exists for edge-case tests (limbs at their bounds).
func (h *Element) SetLimbs(l [10]int32) *Element { h.l = l; return h }

// errLength is SetBytes's only failure.
var errLength = errors.New("fieldexp: element encoding is not 32 bytes")

// SetBytes sets h to the little-endian 32-byte x, ignoring its top bit as
// RFC 8032 decoding and Go's field.Element.SetBytes do. Values in
// [p, 2^255) are accepted and reduced by arithmetic, as in Go's field; a
// signature verifier must reject non-canonical encodings itself where the
// RFC asks. The result is tight.
func (h *Element) SetBytes(x []byte) (*Element, error) {
	if len(x) != 32 {
		return nil, errLength
	}
	var w [4]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(x[8*i:])
	}
	for i := range h.l {
		h.l[i] = int32(bitsAt(&w, offset[i], width(i)))
	}
	return h, nil
}

// bitsAt returns the n bits of w (little-endian words) at bit position o.
// o and n are public limb positions, never secret.
func bitsAt(w *[4]uint64, o, n uint) uint64 {
	q, r := o/64, o%64
	v := w[q] >> r
	if r+n > 64 {
		v |= w[q+1] << (64 - r)
	}
	return v & (1<<n - 1)
}

// Add sets h = f + g (carried inputs, loose output) and returns h.
// Unrolled: a loop costs Go's Wasm backend half again as much.
func (h *Element) Add(f, g *Element) *Element {
	h.l[0] = f.l[0] + g.l[0]
	h.l[1] = f.l[1] + g.l[1]
	h.l[2] = f.l[2] + g.l[2]
	h.l[3] = f.l[3] + g.l[3]
	h.l[4] = f.l[4] + g.l[4]
	h.l[5] = f.l[5] + g.l[5]
	h.l[6] = f.l[6] + g.l[6]
	h.l[7] = f.l[7] + g.l[7]
	h.l[8] = f.l[8] + g.l[8]
	h.l[9] = f.l[9] + g.l[9]
	return h
}

// Sub sets h = f − g (carried inputs, loose output) and returns h.
func (h *Element) Sub(f, g *Element) *Element {
	h.l[0] = f.l[0] - g.l[0]
	h.l[1] = f.l[1] - g.l[1]
	h.l[2] = f.l[2] - g.l[2]
	h.l[3] = f.l[3] - g.l[3]
	h.l[4] = f.l[4] - g.l[4]
	h.l[5] = f.l[5] - g.l[5]
	h.l[6] = f.l[6] - g.l[6]
	h.l[7] = f.l[7] - g.l[7]
	h.l[8] = f.l[8] - g.l[8]
	h.l[9] = f.l[9] - g.l[9]
	return h
}

// carryPass propagates floor carries from limb 0 to limb 9 and folds
// limb 9's carry into limb 0 (times 19). Afterwards limbs 1..9 are tight
// and limb 0 may exceed its width by 19 times the carry.
func (h *Element) carryPass() {
	for i := 0; i < 9; i++ {
		w := width(i)
		c := h.l[i] >> w
		h.l[i] -= c << w
		h.l[i+1] += c
	}
	c := h.l[9] >> 25
	h.l[9] -= c << 25
	h.l[0] += 19 * c
}

// Bytes returns the canonical little-endian encoding of h (the value
// reduced below p). h must be loose or better.
func (h *Element) Bytes() [32]byte {
	t := *h
	t.tighten()
	t.subtractPIfAbove()
	var w [4]uint64
	for i := range t.l {
		putBits(&w, uint64(t.l[i]), offset[i])
	}
	var out [32]byte
	for i := range w {
		binary.LittleEndian.PutUint64(out[8*i:], w[i])
	}
	return out
}

// tighten brings a loose element to tight form (value in [0, 2^255)).
// After the first pass limb 0 is off by at most 19·2^3; the second pass's
// carry out of limb 0 is then −1, 0 or 1, and reaches limb 9's carry only by
// rippling through limbs that all wrap (to 0 on +1, to their maximum on
// −1), so the final fold of ±19 leaves limb 0 within [0, 2^26).
func (h *Element) tighten() {
	h.carryPass()
	h.carryPass()
}

// subtractPIfAbove maps a tight h ≥ p to h − p, in constant time: q is the
// carry out of bit 255 of h + 19, which is 1 exactly when h ≥ p; adding
// 19·q and dropping bit 255 subtracts p = 2^255 − 19 when q = 1.
func (h *Element) subtractPIfAbove() {
	q := (h.l[0] + 19) >> 26
	for i := 1; i < 10; i++ {
		q = (h.l[i] + q) >> width(i)
	}
	h.l[0] += 19 * q
	for i := 0; i < 9; i++ {
		w := width(i)
		c := h.l[i] >> w
		h.l[i] -= c << w
		h.l[i+1] += c
	}
	h.l[9] &= mask25
}

// putBits ORs the bits of v into w (little-endian words) at bit position o.
func putBits(w *[4]uint64, v uint64, o uint) {
	q, r := o/64, o%64
	w[q] |= v << r
	if r != 0 && q+1 < 4 {
		w[q+1] |= v >> (64 - r)
	}
}

// Equal reports whether f and g encode the same field element (as 1 or 0),
// in constant time.
func (f *Element) Equal(g *Element) int {
	a, b := f.Bytes(), g.Bytes()
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return int((uint32(d) - 1) >> 31)
}
