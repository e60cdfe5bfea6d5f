// This file is not part of fieldexp: overlay_test.go adds it to Go's own
// crypto/internal/fips140/edwards25519/field package, together with
// fieldexp's fe.go and mul.go, in place of the 5×51-bit representation.
// It gives fieldexp's Element the API the rest of Go's package (Invert,
// Pow22523, SqrtRatio, …) and its users (edwards25519, ed25519, X25519)
// call. Every function here returns a carried element, so every operation
// gets carried inputs, as Add and Sub require.

package field

var (
	feZero = new(Element)
	feOne  = new(Element).One()
	// sqrtM1 is 2^((p−1)/4), a square root of −1 (Go writes it as 51-bit
	// limbs).
	sqrtM1 = mustDecode([32]byte{
		0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
		0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b,
	})
)

func mustDecode(b [32]byte) *Element {
	e, err := new(Element).SetBytes(b[:])
	if err != nil {
		panic(err)
	}
	return e
}

// Add sets v = a + b and returns v (carried).
func (v *Element) Add(a, b *Element) *Element { return v.addLoose(a, b).Carry() }

// Subtract sets v = a − b and returns v (carried).
func (v *Element) Subtract(a, b *Element) *Element { return v.subLoose(a, b).Carry() }

// Set sets v = a and returns v.
func (v *Element) Set(a *Element) *Element {
	*v = *a
	return v
}

// bytes writes the canonical encoding of v into out and returns it.
func (v *Element) bytes(out *[32]byte) []byte {
	*out = v.bytes10()
	return out[:]
}

// Select sets v to a if cond == 1 and to b if cond == 0, in constant time.
func (v *Element) Select(a, b *Element, cond int) *Element {
	m := -int32(cond)
	for i := range v.l {
		v.l[i] = m&a.l[i] | ^m&b.l[i]
	}
	return v
}

// Swap swaps v and u if cond == 1, in constant time.
func (v *Element) Swap(u *Element, cond int) {
	m := -int32(cond)
	for i := range v.l {
		t := m & (v.l[i] ^ u.l[i])
		v.l[i] ^= t
		u.l[i] ^= t
	}
}

// Mult32 sets v = x·y and returns v (carried). |limb| < 2^26 times
// y < 2^32 stays below 2^58, and the carries below add at most 2^38.
func (v *Element) Mult32(x *Element, y uint32) *Element {
	var h [10]int64
	for i := range h {
		h[i] = int64(x.l[i]) * int64(y)
	}
	for i := 0; i < 9; i++ {
		w := width(i)
		c := h[i] >> w
		h[i] -= c << w
		h[i+1] += c
	}
	c := h[9] >> 25
	h[9] -= c << 25
	h[0] += 19 * c
	c = h[0] >> 26
	h[0] -= c << 26
	h[1] += c
	for i := range h {
		v.l[i] = int32(h[i])
	}
	return v
}

func feMul(v, x, y *Element) { v.mul10(x, y) }

func feSquare(v, x *Element) { v.square10(x) }
