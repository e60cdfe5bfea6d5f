package rsapub

import "math/bits"

// Montgomery arithmetic with R = 2^(64·l), l = len(p.n).
//
// Why 64-bit limbs multiplied as 32-bit halves: Wasm has a native
// 32×32→64-bit multiply (i64.mul on zero-extended operands) but no
// 64×64→128, so every limb product is built from 32×32→64 products. The
// limbs themselves stay 64 bits in memory because, in wazero, the cost per
// inner-loop iteration (loads, stores, each with its bounds check, and
// loop control) outweighs the arithmetic: with uint32 limbs (commit
// 15e0346) a 2048-bit verify took about 1.45× as long as crypto/rsa's;
// with 64-bit limbs each iteration does four products for two loads and
// one store, as crypto/rsa's own Wasm loop (bigmod.addMulVVWWasm) does.
// mul also interleaves the product and the reduction in one loop, which
// crypto/rsa runs as two.
//
// Squares use mul too. A dedicated squaring (each cross product aᵢ·aⱼ
// once, doubled, then a separate Montgomery reduction: 25% fewer limb
// products; commit 56c6e2c) was about 8% slower per verification in
// wazero (fastest of 200 interleaved calls, three runs: 209.5–210.0 µs
// against 192.6–192.7 µs): it does three memory accesses per limb product
// where the fused loop of mul does two, and in wazero memory accesses cost
// more than multiplications. Unrolling mul's inner loop by two gained
// nothing measurable (192.0–192.2 µs).
//
// Inner loops reslice their operands to the modulus length first, so the
// compiler drops the bounds checks inside them.

const mask32 = 1<<32 - 1

// mulAdd returns hi, lo with hi·2⁶⁴ + lo = x·y + z + c, where y = y1·2³² + y0.
// It never overflows: (2⁶⁴−1)² + 2·(2⁶⁴−1) = 2¹²⁸−1.
func mulAdd(x, y0, y1, z, c uint64) (hi, lo uint64) {
	x0, x1 := x&mask32, x>>32
	w0 := x0*y0 + z&mask32 + c&mask32 // bits 0..63
	w1 := x0*y1 + z>>32 + w0>>32      // bits 32..95
	w2 := x1*y0 + c>>32 + w1&mask32   // bits 32..95
	return x1*y1 + w1>>32 + w2>>32, w2<<32 | w0&mask32
}

// exp sets out = s^e mod N for s < N (variable time: every input is
// public).
//
// It never converts s into the Montgomery domain: s is taken as the
// Montgomery form of s·R⁻¹, raised to e there (left-to-right
// square-and-multiply), which yields s^e·R^(1−e). One multiplication by the
// per-key constant R^e mod N (p.re) then gives s^e·R^(1−e)·R^e·R⁻¹ = s^e,
// replacing both the conversion in (a product with R² mod N) and the
// conversion out (a reduction).
func (p *PublicKey) exp(out, s []limb) {
	var accBuf, tBuf [maxLimbs]limb
	l := len(p.n)
	acc, t := accBuf[:l], tBuf[:l]
	copy(acc, s)
	for i := bits.Len32(p.e) - 2; i >= 0; i-- {
		p.mul(t, acc, acc)
		if p.e>>uint(i)&1 == 1 {
			p.mul(acc, t, s)
		} else {
			acc, t = t, acc
		}
	}
	p.mul(out, acc, p.re)
}

// mul sets z = a·b·R⁻¹ mod N for a, b < N: CIOS Montgomery multiplication
// with the product and the reduction interleaved in one inner loop (two
// carries). z must not alias a or b.
func (p *PublicKey) mul(z, a, b []limb) {
	n := p.n
	l := len(n)
	if l == 0 {
		return
	}
	a, b, z = a[:l], b[:l], z[:l]
	var tBuf [maxLimbs + 1]limb
	t := tBuf[: l+1 : l+1]
	tl := t[:l] // t[l] is the top limb, 0 or 1 (t < 2N throughout)
	n0inv := p.n0inv
	for _, bi := range b {
		b0, b1 := bi&mask32, bi>>32
		// t = (t + a·bᵢ + m·N) / 2⁶⁴, m chosen so the low limb vanishes.
		cx, x := mulAdd(a[0], b0, b1, tl[0], 0)
		m := x * n0inv
		m0, m1 := m&mask32, m>>32
		cy, _ := mulAdd(n[0], m0, m1, x, 0) // low limb is 0
		for j := 1; j < l; j++ {
			cx, x = mulAdd(a[j], b0, b1, tl[j], cx)
			cy, tl[j-1] = mulAdd(n[j], m0, m1, x, cy)
		}
		lo, c1 := bits.Add64(cx, cy, 0)
		lo, c2 := bits.Add64(lo, t[l], 0)
		tl[l-1] = lo
		t[l] = c1 + c2
	}
	p.reduceOnce(z, tl, t[l])
}

// reduceOnce sets z = t − N if top·R + t ≥ N, else z = t. Callers
// guarantee top·R + t < 2N.
func (p *PublicKey) reduceOnce(z, t []limb, top limb) {
	n := p.n
	t, z = t[:len(n)], z[:len(n)]
	if top == 0 && less(t, n) {
		copy(z, t)
		return
	}
	var borrow limb
	for j, nj := range n {
		z[j], borrow = bits.Sub64(t[j], nj, borrow)
	}
}
