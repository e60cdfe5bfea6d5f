package fieldexp

import (
	"encoding/binary"
	"errors"
)

// Element51 is the baseline the experiment separates out: the 5×51-bit
// representation of Go's field (uint64 limbs, value Σ l[i]·2^(51·i), limbs
// below 2^52 between operations) with Mul and Square written without any
// helper call. In Go's own code the products go through small helpers
// (addMul19, addMul38) that the Wasm build does not inline: 23,000 calls
// per Ed25519 verification. Timing this type tells how much of the Wasm
// cost is those calls and how much is the emulated 64×64→128 multiply.
type Element51 struct {
	l [5]uint64
}

const mask51 = 1<<51 - 1

var errLength51 = errors.New("fieldexp: element encoding is not 32 bytes")

// SetBytes sets v to the little-endian x, ignoring the top bit; values in
// [p, 2^255) are accepted, as in Go's field.
func (v *Element51) SetBytes(x []byte) (*Element51, error) {
	if len(x) != 32 {
		return nil, errLength51
	}
	var w [4]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(x[8*i:])
	}
	for i := range v.l {
		v.l[i] = bitsAt(&w, uint(51*i), 51)
	}
	return v, nil
}

// Bytes returns the canonical encoding of v.
func (v *Element51) Bytes() [32]byte {
	t := *v
	t.carry()
	t.carry() // limbs now below 2^51 except l[0] < 2^51 + 19·2
	t.carry() // all below 2^51: value < 2^255
	// q = 1 exactly when t ≥ p: the carry out of bit 255 of t + 19.
	q := (t.l[0] + 19) >> 51
	for i := 1; i < 5; i++ {
		q = (t.l[i] + q) >> 51
	}
	t.l[0] += 19 * q
	for i := 0; i < 4; i++ {
		t.l[i+1] += t.l[i] >> 51
		t.l[i] &= mask51
	}
	t.l[4] &= mask51
	var w [4]uint64
	for i := range t.l {
		putBits(&w, t.l[i], uint(51*i))
	}
	var out [32]byte
	for i := range w {
		binary.LittleEndian.PutUint64(out[8*i:], w[i])
	}
	return out
}

// carry moves every limb's bits from 51 up to the next limb, the top
// one's times 19 into limb 0.
func (v *Element51) carry() {
	c := v.l[4] >> 51
	v.l[4] &= mask51
	for i := 0; i < 4; i++ {
		v.l[i+1] += v.l[i] >> 51
		v.l[i] &= mask51
	}
	v.l[0] += 19 * c
}
