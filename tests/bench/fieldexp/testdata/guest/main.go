// Command guest times field operations inside wazero for fieldexp: the
// 10-limb Element of fieldexp against the 51-bit field of
// filippo.io/edwards25519 (the code Go's crypto/ed25519 runs), on the same
// inputs. The host writes 32-byte encodings into a buffer from buf, calls
// load once, then run(impl, op, n) per measurement; run returns the address
// of the canonical encoding of its last result, so the host can check that
// both implementations computed the same thing.
package main

import (
	"unsafe"

	"filippo.io/edwards25519/field"

	"github.com/tokengate/tokengate/tests/bench/fieldexp"
)

func main() {}

// Implementations and operations understood by run (the host mirrors them).
const (
	impl10   = 1 // fieldexp.Element: 10 limbs of 26/25 bits
	impl51   = 2 // filippo.io/edwards25519/field: Go's 5×51-bit field
	impl51in = 3 // fieldexp.Element51: 5×51 bits, products inline

	opMul    = 1 // x ← x·a[i], a dependent chain like a scalar multiplication's
	opSquare = 2 // x ← x², the chain of an inversion
	opAdd    = 3 // s[i] ← a[i] + a[i+1]
	opSub    = 4 // s[i] ← a[i] − a[i+1]
	opCarry  = 5 // s[i] ← carry(a[i] + a[i+1]); the 51-bit Add carries anyway
)

// n is the number of inputs (a power of two).
const n = 64

var (
	bufs [][]byte
	a10  [n]fieldexp.Element
	s10  [n]fieldexp.Element
	a51  [n]field.Element
	s51  [n]field.Element
	a5i  [n]fieldexp.Element51
	out  [32]byte
)

//go:wasmexport buf
func buf(size int32) uint32 {
	b := make([]byte, size)
	bufs = append(bufs, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

// load decodes n elements from the last buffer; it returns 1 on success.
//
//go:wasmexport load
func load() int32 {
	if len(bufs) == 0 || len(bufs[len(bufs)-1]) != 32*n {
		return 0
	}
	b := bufs[len(bufs)-1]
	for i := range n {
		if _, err := a10[i].SetBytes(b[32*i : 32*i+32]); err != nil {
			return 0
		}
		if _, err := a51[i].SetBytes(b[32*i : 32*i+32]); err != nil {
			return 0
		}
		if _, err := a5i[i].SetBytes(b[32*i : 32*i+32]); err != nil {
			return 0
		}
	}
	return 1
}

// run performs iters operations and returns the address of the result's
// encoding, or 0 for an unknown implementation or operation.
//
//go:wasmexport run
func run(impl, op, iters int32) uint32 {
	var ok bool
	switch impl {
	case impl10:
		ok = run10(op, int(iters))
	case impl51:
		ok = run51(op, int(iters))
	case impl51in:
		ok = run51in(op, int(iters))
	}
	if !ok {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&out[0])))
}

func run10(op int32, iters int) bool {
	x := a10[0]
	last := &x
	switch op {
	case opMul:
		for i := range iters {
			x.Mul(&x, &a10[i&(n-1)])
		}
	case opSquare:
		for range iters {
			x.Square(&x)
		}
	case opAdd:
		for i := range iters {
			s10[i&(n-1)].Add(&a10[i&(n-1)], &a10[(i+1)&(n-1)])
		}
		last = &s10[(iters-1)&(n-1)]
	case opSub:
		for i := range iters {
			s10[i&(n-1)].Sub(&a10[i&(n-1)], &a10[(i+1)&(n-1)])
		}
		last = &s10[(iters-1)&(n-1)]
	case opCarry:
		for i := range iters {
			s10[i&(n-1)].Add(&a10[i&(n-1)], &a10[(i+1)&(n-1)]).Carry()
		}
		last = &s10[(iters-1)&(n-1)]
	default:
		return false
	}
	out = last.Bytes()
	return true
}

func run51(op int32, iters int) bool {
	x := a51[0]
	last := &x
	switch op {
	case opMul:
		for i := range iters {
			x.Multiply(&x, &a51[i&(n-1)])
		}
	case opSquare:
		for range iters {
			x.Square(&x)
		}
	case opAdd, opCarry:
		for i := range iters {
			s51[i&(n-1)].Add(&a51[i&(n-1)], &a51[(i+1)&(n-1)])
		}
		last = &s51[(iters-1)&(n-1)]
	case opSub:
		for i := range iters {
			s51[i&(n-1)].Subtract(&a51[i&(n-1)], &a51[(i+1)&(n-1)])
		}
		last = &s51[(iters-1)&(n-1)]
	default:
		return false
	}
	copy(out[:], last.Bytes())
	return true
}

// run51in has only Mul and Square: Add and Sub are those of Go's field.
func run51in(op int32, iters int) bool {
	x := a5i[0]
	switch op {
	case opMul:
		for i := range iters {
			x.Mul(&x, &a5i[i&(n-1)])
		}
	case opSquare:
		for range iters {
			x.Square(&x)
		}
	default:
		return false
	}
	out = x.Bytes()
	return true
}
