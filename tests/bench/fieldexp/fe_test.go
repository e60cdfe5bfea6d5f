package fieldexp

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"testing"
)

// p is 2^255 − 19, the oracle's modulus.
var p = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// value returns the integer the limbs of e stand for (not reduced): the
// oracle's view, independent of Bytes.
func value(e *Element) *big.Int {
	v := new(big.Int)
	for i, l := range e.l {
		v.Add(v, new(big.Int).Lsh(big.NewInt(int64(l)), offset[i]))
	}
	return v
}

// mod returns v mod p in [0, p).
func mod(v *big.Int) *big.Int { return new(big.Int).Mod(v, p) }

// littleEndian encodes v (0 ≤ v < 2^256) in 32 bytes.
func littleEndian(v *big.Int) []byte {
	be := v.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

// fromInt decodes v (0 ≤ v < 2^256) as SetBytes would.
func fromInt(t testing.TB, v *big.Int) *Element {
	e, err := new(Element).SetBytes(littleEndian(v))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// within reports whether every limb of e has magnitude at most bound.
func within(e *Element, bound int64) bool {
	for _, l := range e.l {
		if int64(l) > bound || int64(l) < -bound {
			return false
		}
	}
	return true
}

const (
	carriedBound = 1<<26 - 1
	looseBound   = 1 << 27
)

// check compares got with the oracle's want mod p, both through the
// limbs' value and through the canonical encoding.
func check(t testing.TB, what string, got *Element, want *big.Int) {
	t.Helper()
	w := mod(want)
	if mod(value(got)).Cmp(w) != 0 {
		t.Fatalf("%s: limbs %v stand for %v mod p, want %v", what, got.l, mod(value(got)), w)
	}
	enc := got.Bytes()
	if string(enc[:]) != string(littleEndian(w)) {
		t.Fatalf("%s: Bytes() = %x, want the canonical %x", what, enc, littleEndian(w))
	}
}

// checkAll runs every operation on f and g (which must be carried for Add
// and Sub, loose for the rest) against the oracle.
func checkAll(t testing.TB, f, g *Element, carried bool) {
	t.Helper()
	F, G := value(f), value(g)
	var h Element
	h.Mul(f, g)
	check(t, "Mul", &h, new(big.Int).Mul(F, G))
	if !within(&h, carriedBound) {
		t.Fatalf("Mul(%v, %v) = %v: not carried", f.l, g.l, h.l)
	}
	h.Square(f)
	check(t, "Square", &h, new(big.Int).Mul(F, F))
	if !within(&h, carriedBound) {
		t.Fatalf("Square(%v) = %v: not carried", f.l, h.l)
	}
	h = *f
	h.Carry()
	check(t, "Carry", &h, F)
	if !within(&h, carriedBound) {
		t.Fatalf("Carry(%v) = %v: not carried", f.l, h.l)
	}
	if !carried {
		return
	}
	h.Add(f, g)
	check(t, "Add", &h, new(big.Int).Add(F, G))
	if !within(&h, looseBound) {
		t.Fatalf("Add: %v not loose", h.l)
	}
	h.Sub(f, g)
	check(t, "Sub", &h, new(big.Int).Sub(F, G))
	if !within(&h, looseBound) {
		t.Fatalf("Sub: %v not loose", h.l)
	}
}

// Random element shapes the differential test draws from.
func randomEncoded(r *rand.Rand) *Element {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	e, _ := new(Element).SetBytes(b[:])
	return e
}

// randomLimbs draws every limb uniformly from [−bound, bound].
func randomLimbs(r *rand.Rand, bound int64) *Element {
	var e Element
	for i := range e.l {
		e.l[i] = int32(r.Int64N(2*bound+1) - bound)
	}
	return &e
}

// TestDifferentialRandom checks Mul, Square, Add, Sub, Carry and Bytes
// against math/big on a million random pairs (fewer with -short): decoded
// 32-byte strings, random carried limbs and random loose limbs (negative
// ones included).
func TestDifferentialRandom(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 20_000
	}
	r := rand.New(rand.NewPCG(7, 25519))
	for i := range n {
		switch i % 3 {
		case 0:
			checkAll(t, randomEncoded(r), randomEncoded(r), true)
		case 1:
			checkAll(t, randomLimbs(r, carriedBound), randomLimbs(r, carriedBound), true)
		case 2:
			checkAll(t, randomLimbs(r, looseBound), randomLimbs(r, looseBound), false)
		}
	}
}

// edgeValues are decoded edge cases: 0, 1, p−1, p, p+1, every value in
// [p, 2^255) (the non-canonical encodings), 2^255−1, and 2^256−1 (top bit
// set, which SetBytes ignores).
func edgeValues() map[string]*big.Int {
	one := big.NewInt(1)
	two255 := new(big.Int).Lsh(one, 255)
	m := map[string]*big.Int{
		"0":       big.NewInt(0),
		"1":       big.NewInt(1),
		"2":       big.NewInt(2),
		"19":      big.NewInt(19),
		"p-2":     new(big.Int).Sub(p, big.NewInt(2)),
		"p-1":     new(big.Int).Sub(p, one),
		"2^254":   new(big.Int).Lsh(one, 254),
		"2^255-1": new(big.Int).Sub(two255, one),
		"2^256-1": new(big.Int).Sub(new(big.Int).Lsh(one, 256), one),
		"2^255+5": new(big.Int).Add(two255, big.NewInt(5)),
	}
	for k := int64(0); k < 19; k++ {
		m["p+"+big.NewInt(k).String()] = new(big.Int).Add(p, big.NewInt(k))
	}
	return m
}

// edgeLimbs are limb vectors at the bounds of each state.
func edgeLimbs() map[string]struct {
	l       [10]int32
	carried bool
} {
	var tightMax, carriedMax, carriedMin, looseMax, looseMin, alt, zeroHigh [10]int32
	for i := range tightMax {
		tightMax[i] = int32(1)<<width(i) - 1
		carriedMax[i] = carriedBound
		carriedMin[i] = -carriedBound
		looseMax[i] = looseBound
		looseMin[i] = -looseBound
		alt[i] = looseBound * int32(1-2*(i&1))
	}
	zeroHigh[9] = carriedBound
	return map[string]struct {
		l       [10]int32
		carried bool
	}{
		"tight max (2^255-1)": {tightMax, true},
		"carried max":         {carriedMax, true},
		"carried min":         {carriedMin, true},
		"carried top limb":    {zeroHigh, true},
		"loose max":           {looseMax, false},
		"loose min":           {looseMin, false},
		"loose alternating":   {alt, false},
	}
}

// TestEdgeCases runs every operation on every pair of edge cases.
func TestEdgeCases(t *testing.T) {
	type edge struct {
		e       *Element
		carried bool
	}
	edges := map[string]edge{}
	for name, v := range edgeValues() {
		edges[name] = edge{fromInt(t, v), true}
	}
	for name, c := range edgeLimbs() {
		edges[name] = edge{new(Element).SetLimbs(c.l), c.carried}
	}
	for nf, f := range edges {
		for ng, g := range edges {
			t.Run(nf+"·"+ng, func(t *testing.T) {
				checkAll(t, f.e, g.e, f.carried && g.carried)
			})
		}
	}
}

// TestSetBytes pins decoding: the top bit is ignored, values ≥ p decode to
// their residue, and a wrong length is refused.
func TestSetBytes(t *testing.T) {
	for name, v := range edgeValues() {
		t.Run(name, func(t *testing.T) {
			e := fromInt(t, v)
			want := new(big.Int).SetBit(new(big.Int).Set(v), 255, 0)
			if value(e).Cmp(want) != 0 {
				t.Fatalf("limbs stand for %v, want %v", value(e), want)
			}
		})
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := new(Element).SetBytes(make([]byte, n)); err == nil {
			t.Errorf("SetBytes accepted %d bytes", n)
		}
	}
}

// TestEqual compares canonical forms, so p and 0 are equal.
func TestEqual(t *testing.T) {
	zero, pe, one := fromInt(t, big.NewInt(0)), fromInt(t, p), fromInt(t, big.NewInt(1))
	if zero.Equal(pe) != 1 {
		t.Error("0 and p differ")
	}
	if zero.Equal(one) != 0 {
		t.Error("0 and 1 are equal")
	}
}

// FuzzOps decodes two elements from the fuzzer's bytes (40 bytes each:
// ten limbs brought into the loose or carried range; or 32 bytes through
// SetBytes) and checks every operation against math/big.
func FuzzOps(f *testing.F) {
	f.Add(make([]byte, 80), uint8(0))
	f.Add(littleEndian(new(big.Int).Sub(p, big.NewInt(1))), uint8(2))
	seed := make([]byte, 80)
	for i := range seed {
		seed[i] = 0xff
	}
	f.Add(seed, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		fe, ge, carried := fuzzElements(data, mode)
		checkAll(t, fe, ge, carried)
	})
}

// fuzzElements turns fuzz bytes into two elements; mode picks the shape.
func fuzzElements(data []byte, mode uint8) (*Element, *Element, bool) {
	buf := make([]byte, 80)
	copy(buf, data)
	switch mode % 3 {
	case 0: // decoded
		f, _ := new(Element).SetBytes(buf[:32])
		g, _ := new(Element).SetBytes(buf[32:64])
		return f, g, true
	case 1: // carried limbs
		return limbsFrom(buf[:40], carriedBound), limbsFrom(buf[40:], carriedBound), true
	default: // loose limbs
		return limbsFrom(buf[:40], looseBound), limbsFrom(buf[40:], looseBound), false
	}
}

// limbsFrom maps 4 bytes per limb onto [−bound, bound].
func limbsFrom(b []byte, bound int64) *Element {
	var e Element
	for i := range e.l {
		u := int64(binary.LittleEndian.Uint32(b[4*i:]))
		e.l[i] = int32(u%(2*bound+1) - bound)
	}
	return &e
}
