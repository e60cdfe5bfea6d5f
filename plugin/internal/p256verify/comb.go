package p256verify

import (
	"encoding/binary"

	"filippo.io/nistec"
)

// The comb's shape: 5-bit signed digits, so each row needs the multiples
// 1…16 of its base point, and 52 rows cover 260 ≥ 256 bits.
//
// Why 5 bits: a w-bit comb needs about 256/w additions per scalar but
// 2^(w−1)·256/w table points, so each extra bit saves fewer additions and
// nearly doubles the table. Per scalar and table: 4 bits, 65 additions and
// 50 KB; 5 bits, 52 and 80 KB; 6 bits, 43 and 132 KB (measured in wazero:
// 13% faster verification than 5 bits, but 3.2 ms instead of 2 ms to build
// each key's table). 5 bits keeps a configured key at 80 KB per VM.
const (
	combWidth = 5
	combHalf  = 1 << (combWidth - 1) // largest digit magnitude, and row length
	combRows  = 256/combWidth + 1    // 52: room for the recoding's last carry at any width
)

// Digits are int8, so the width must stay at most 7 (largest digit 64);
// this fails to compile otherwise. The tests pass for widths 4 to 7.
const _ = uint(7 - combWidth)

// combTable row i holds j·2^(5i)·Q for j = 1…16, at index j−1.
type combTable [combRows][combHalf]nistec.P256Point

// build fills t for q: 15 additions per row, then one doubling of 16·B
// gives the next row's base 32·B.
func (t *combTable) build(q *nistec.P256Point) {
	base := new(nistec.P256Point).Set(q)
	for i := range t {
		row := &t[i]
		row[0].Set(base)
		for j := 1; j < combHalf; j++ {
			row[j].Add(&row[j-1], base) // complete formula: row[1] = 2·base is fine
		}
		base.Double(&row[combHalf-1])
	}
}

// addMult sets acc = acc + [k]Q for the 32-byte big-endian k. It runs in
// time that depends on k, which is public during verification.
func (t *combTable) addMult(acc *nistec.P256Point, k *[32]byte) {
	var digits [combRows]int8
	recode(k, &digits)
	var neg nistec.P256Point
	for i, d := range digits {
		switch {
		case d > 0:
			acc.Add(acc, &t[i][d-1])
		case d < 0:
			neg.Negate(&t[i][-d-1])
			acc.Add(acc, &neg)
		}
	}
}

// recode writes k = Σ digits[i]·2^(5i) with every digit in [−15, 16]
// (for width w: [1−2^(w−1), 2^(w−1)]). A window worth more than 16
// becomes v − 32 and carries 1 into the next. The top row starts at bit
// w·(combRows−1) ≥ 256 − w + 1, so it holds fewer than w bits of k plus a
// carry, at most 2^(w−1): nothing is carried out of it, and the recoding
// is exact for every k < 2^256.
func recode(k *[32]byte, digits *[combRows]int8) {
	var limbs [5]uint64 // little-endian, with a zero limb so windows may run past bit 255
	for i := range 4 {
		limbs[i] = binary.BigEndian.Uint64(k[24-8*i:])
	}
	const mask = 1<<combWidth - 1
	carry := uint64(0)
	for i := range digits {
		pos := i * combWidth
		v := limbs[pos/64] >> (pos % 64)
		if pos%64+combWidth > 64 {
			v |= limbs[pos/64+1] << (64 - pos%64)
		}
		v = v&mask + carry
		carry = 0
		if v > combHalf {
			carry = 1
			digits[i] = int8(int(v) - 1<<combWidth)
		} else {
			digits[i] = int8(v)
		}
	}
}
