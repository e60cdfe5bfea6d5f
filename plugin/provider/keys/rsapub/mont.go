package rsapub

import "math/bits"

// Montgomery arithmetic on 32-bit limbs (uint32, little-endian) with
// R = 2^(32·l), l = len(p.n). Every limb product is uint64(a)·uint64(b), a
// 32×32→64-bit product that Wasm does in one i64.mul, and every sum of the
// form t + a·b + c (each factor and term below 2³²) stays below 2⁶⁴.
//
// Inner loops reslice their operands to the modulus length first, so the
// compiler drops the bounds checks inside them.

// exp sets out = s^e mod N for s < N (variable time: every input is
// public).
//
// It never converts s into the Montgomery domain: s is taken as the
// Montgomery form of s·R⁻¹, raised to e there (left-to-right
// square-and-multiply), which yields s^e·R^(1−e). One multiplication by the
// per-key constant R^e mod N (p.re) then gives s^e·R^(1−e)·R^e·R⁻¹ = s^e,
// replacing both the conversion in (a product with R² mod N) and the
// conversion out (a reduction).
func (p *PublicKey) exp(out, s []uint32) {
	var accBuf, tBuf [maxLimbs]uint32
	l := len(p.n)
	acc, t := accBuf[:l], tBuf[:l]
	copy(acc, s)
	for i := bits.Len32(p.e) - 2; i >= 0; i-- {
		p.sqr(t, acc)
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
func (p *PublicKey) mul(z, a, b []uint32) {
	n := p.n
	l := len(n)
	if l == 0 {
		return
	}
	a, b, z = a[:l], b[:l], z[:l]
	var tBuf [maxLimbs + 1]uint32
	t := tBuf[: l+1 : l+1]
	tl := t[:l] // t[l] is the top limb, 0 or 1
	n0inv := p.n0inv
	for _, bi := range b {
		w := uint64(bi)
		// t = (t + a·bᵢ + m·N) / 2³², m chosen so the low limb vanishes.
		x := uint64(tl[0]) + uint64(a[0])*w
		m := uint32(x) * n0inv
		y := uint64(uint32(x)) + uint64(m)*uint64(n[0]) // low 32 bits are 0
		cx, cy := x>>32, y>>32
		for j := 1; j < l; j++ {
			x = uint64(tl[j]) + uint64(a[j])*w + cx
			y = uint64(uint32(x)) + uint64(m)*uint64(n[j]) + cy
			cx, cy = x>>32, y>>32
			tl[j-1] = uint32(y)
		}
		top := uint64(t[l]) + cx + cy
		tl[l-1] = uint32(top)
		t[l] = uint32(top >> 32)
	}
	p.reduceOnce(z, tl, t[l])
}

// sqr sets z = a·a·R⁻¹ mod N for a < N: the square by operand scanning
// with each cross product aᵢ·aⱼ (i < j) computed once and doubled, about
// half the limb products of mul's product part, then a separate
// Montgomery reduction. z must not alias a.
func (p *PublicKey) sqr(z, a []uint32) {
	n := p.n
	l := len(n)
	if l == 0 {
		return
	}
	a, z = a[:l], z[:l]
	var tBuf [2 * maxLimbs]uint32
	t := tBuf[: 2*l : 2*l]
	// Cross products: t = Σ_{i<j} aᵢ·aⱼ·2^(32(i+j)).
	for i := 0; i < l-1; i++ {
		w := uint64(a[i])
		ai := a[i+1:]
		ti := t[2*i+1:]
		ti = ti[:len(ai)]
		var c uint64
		for j, aj := range ai {
			x := uint64(ti[j]) + w*uint64(aj) + c
			ti[j] = uint32(x)
			c = x >> 32
		}
		t[i+l] = uint32(c)
	}
	// t = 2·t + Σ aᵢ²·2^(64i); no carry out since a² < 2^(64l).
	var c uint64
	for i, ai := range a {
		d := uint64(ai) * uint64(ai)
		pair := t[2*i : 2*i+2 : 2*i+2]
		lo := uint64(pair[0])<<1 + d&0xffffffff + c
		hi := uint64(pair[1])<<1 + d>>32 + lo>>32
		pair[0], pair[1] = uint32(lo), uint32(hi)
		c = hi >> 32
	}
	p.redc(z, t)
}

// redc sets z = t·R⁻¹ mod N for a 2l-limb t < N·R (Montgomery reduction,
// one limb at a time). t is overwritten.
func (p *PublicKey) redc(z, t []uint32) {
	n := p.n
	l := len(n)
	t = t[:2*l]
	n0inv := p.n0inv
	var extra uint32 // carry into t[i+l+1], added by the next round
	for i := 0; i < l; i++ {
		ti := t[i : i+l]
		ti = ti[:len(n)]
		m := ti[0] * n0inv
		w := uint64(m)
		var c uint64
		for j, nj := range n {
			x := uint64(ti[j]) + w*uint64(nj) + c
			ti[j] = uint32(x)
			c = x >> 32
		}
		x := uint64(t[i+l]) + c + uint64(extra)
		t[i+l] = uint32(x)
		extra = uint32(x >> 32)
	}
	p.reduceOnce(z, t[l:], extra)
}

// reduceOnce sets z = t − N if top·2^(32l) + t ≥ N, else z = t. Callers
// guarantee top·2^(32l) + t < 2N.
func (p *PublicKey) reduceOnce(z, t []uint32, top uint32) {
	n := p.n
	t, z = t[:len(n)], z[:len(n)]
	if top == 0 && less(t, n) {
		copy(z, t)
		return
	}
	var borrow uint32
	for j, nj := range n {
		z[j], borrow = bits.Sub32(t[j], nj, borrow)
	}
}
