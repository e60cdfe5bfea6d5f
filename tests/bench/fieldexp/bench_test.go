package fieldexp

import (
	"context"
	"crypto/ed25519"
	"testing"

	"filippo.io/edwards25519/field"

	"github.com/tokengate/tokengate/tests/bench"
)

// BenchmarkWasm times one field operation inside wazero (configured as
// tests/bench configures its bare guests): one guest call performs b.N
// operations, so ns/op is the cost of one operation and the call overhead
// (about a microsecond) vanishes for large b.N.
func BenchmarkWasm(b *testing.B) {
	ctx := context.Background()
	g := newGuest(ctx, b)
	for _, o := range ops {
		for _, im := range impls {
			if !supported(im.impl, o.op) {
				continue
			}
			b.Run(o.name+"/"+im.name, func(b *testing.B) {
				b.ResetTimer()
				if _, err := g.call(ctx, im.impl, o.op, b.N); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// nativeCases are the guest's operations natively, on the same inputs, by
// "op/impl"; each runs n operations. On amd64 Go's field (fe51) multiplies
// in assembly.
func nativeCases() map[string]func(n int) {
	in := inputs()
	const m = guestInputs - 1
	var a10, s10 [guestInputs]Element
	var a51, s51 [guestInputs]field.Element
	var a5i, s5i [guestInputs]Element51
	for i, e := range in {
		a10[i].SetBytes(e[:])
		a51[i].SetBytes(e[:])
		a5i[i].SetBytes(e[:])
	}
	return map[string]func(n int){
		"mul/fe10": func(n int) {
			x := a10[0]
			for i := range n {
				x.Mul(&x, &a10[i&m])
			}
			s10[0] = x
		},
		"mul/fe51": func(n int) {
			x := a51[0]
			for i := range n {
				x.Multiply(&x, &a51[i&m])
			}
			s51[0] = x
		},
		"mul/fe51-inline": func(n int) {
			x := a5i[0]
			for i := range n {
				x.Mul(&x, &a5i[i&m])
			}
			s5i[0] = x
		},
		"square/fe51-inline": func(n int) {
			x := a5i[0]
			for range n {
				x.Square(&x)
			}
			s5i[0] = x
		},
		"square/fe10": func(n int) {
			x := a10[0]
			for range n {
				x.Square(&x)
			}
			s10[0] = x
		},
		"square/fe51": func(n int) {
			x := a51[0]
			for range n {
				x.Square(&x)
			}
			s51[0] = x
		},
		"add/fe10": func(n int) {
			for i := range n {
				s10[i&m].Add(&a10[i&m], &a10[(i+1)&m])
			}
		},
		"add/fe51": func(n int) {
			for i := range n {
				s51[i&m].Add(&a51[i&m], &a51[(i+1)&m])
			}
		},
		"sub/fe10": func(n int) {
			for i := range n {
				s10[i&m].Sub(&a10[i&m], &a10[(i+1)&m])
			}
		},
		"sub/fe51": func(n int) {
			for i := range n {
				s51[i&m].Subtract(&a51[i&m], &a51[(i+1)&m])
			}
		},
		"add+carry/fe10": func(n int) {
			for i := range n {
				s10[i&m].Add(&a10[i&m], &a10[(i+1)&m]).Carry()
			}
		},
	}
}

// BenchmarkNative times the same operations on the same inputs natively.
func BenchmarkNative(b *testing.B) {
	cases := nativeCases()
	for _, o := range ops {
		for _, im := range impls {
			f, ok := cases[o.name+"/"+im.name]
			if !ok {
				continue // the 51-bit Add carries already; the inline baseline has only Mul and Square
			}
			b.Run(o.name+"/"+im.name, func(b *testing.B) {
				b.ResetTimer()
				f(b.N)
			})
		}
	}
}

// BenchmarkVerify is the whole ed25519.Verify the field operations serve:
// tests/bench's bare guest in the same runtime configuration, and natively.
// Run together with BenchmarkWasm, it gives the ratios of the estimate.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	pub, msg, sig := ed25519Input()
	b.Run("wasm-bare", func(b *testing.B) {
		wasm, err := bench.BuildGuest()
		if err != nil {
			b.Fatal(err)
		}
		bare, err := bench.NewBare(ctx, wasm, bench.BareEd25519, false, pub, msg, sig)
		if err != nil {
			b.Fatal(err)
		}
		defer bare.Close(ctx)
		for b.Loop() {
			if err := bare.Run(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify failed")
			}
		}
	})
}
