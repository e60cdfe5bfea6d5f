package fieldexp

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// value51 is the integer the limbs of e stand for.
func value51(e *Element51) *big.Int {
	v := new(big.Int)
	for i, l := range e.l {
		v.Add(v, new(big.Int).Lsh(new(big.Int).SetUint64(l), uint(51*i)))
	}
	return v
}

// check51 compares Mul, Square and Bytes of the baseline with math/big,
// and checks their output limbs stay below 2^52.
func check51(t testing.TB, x, y *Element51) {
	t.Helper()
	X, Y := value51(x), value51(y)
	var v Element51
	for _, c := range []struct {
		name string
		got  *Element51
		want *big.Int
	}{
		{"Mul", v.Mul(x, y), new(big.Int).Mul(X, Y)},
		{"Square", new(Element51).Square(x), new(big.Int).Mul(X, X)},
		{"identity", new(Element51).Mul(x, &Element51{l: [5]uint64{1}}), X},
	} {
		w := mod(c.want)
		if mod(value51(c.got)).Cmp(w) != 0 {
			t.Fatalf("%s(%v, %v): wrong value", c.name, x.l, y.l)
		}
		for _, l := range c.got.l {
			if l >= 1<<52 {
				t.Fatalf("%s(%v, %v) = %v: limb above 2^52", c.name, x.l, y.l, c.got.l)
			}
		}
		if enc := c.got.Bytes(); string(enc[:]) != string(littleEndian(w)) {
			t.Fatalf("%s: Bytes() = %x, want %x", c.name, enc, littleEndian(w))
		}
	}
}

// TestElement51Differential checks the inline 5×51 baseline against
// math/big: random limbs up to 2^52 and every decoded edge value.
func TestElement51Differential(t *testing.T) {
	n := 300_000
	if testing.Short() {
		n = 10_000
	}
	r := rand.New(rand.NewPCG(51, 25519))
	rnd := func() *Element51 {
		var e Element51
		for i := range e.l {
			e.l[i] = r.Uint64N(1 << 52)
		}
		return &e
	}
	for range n {
		check51(t, rnd(), rnd())
	}
	max := &Element51{l: [5]uint64{1<<52 - 1, 1<<52 - 1, 1<<52 - 1, 1<<52 - 1, 1<<52 - 1}}
	for name, v := range edgeValues() {
		t.Run(name, func(t *testing.T) {
			e, err := new(Element51).SetBytes(littleEndian(v))
			if err != nil {
				t.Fatal(err)
			}
			if want := new(big.Int).SetBit(new(big.Int).Set(v), 255, 0); value51(e).Cmp(want) != 0 {
				t.Fatalf("SetBytes: limbs stand for %v, want %v", value51(e), want)
			}
			check51(t, e, e)
			check51(t, e, max)
			check51(t, max, e)
		})
	}
}
