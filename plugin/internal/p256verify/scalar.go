package p256verify

import "math/big"

// order is n, the order of P-256's base point.
var order, _ = new(big.Int).SetString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16)

// inRange reports whether 1 ≤ x ≤ n−1, the range ECDSA requires of r and s.
func inRange(x *big.Int) bool {
	return x.Sign() > 0 && x.Cmp(order) < 0
}

// hashToInt sets e to the hash as ECDSA reads it for P-256 (FIPS 186-5
// §6.4.2, as Go's hashToNat): the left-most 256 bits, then reduced mod n.
// n has exactly 256 bits, so no bit shift is needed, and e < 2^256 < 2n, so
// one subtraction reduces it.
func hashToInt(e *big.Int, hash []byte) {
	if len(hash) > 32 {
		hash = hash[:32]
	}
	e.SetBytes(hash)
	if e.Cmp(order) >= 0 {
		e.Sub(e, order)
	}
}

// scalars writes u1 = e·s⁻¹ mod n and u2 = r·s⁻¹ mod n as 32-byte
// big-endian values. s must be in [1, n−1]; n is prime, so s⁻¹ exists.
func scalars(hash []byte, r, s *big.Int, u1, u2 *[32]byte) {
	var e, w, t big.Int
	hashToInt(&e, hash)
	w.ModInverse(s, order)
	t.Mul(&e, &w)
	t.Mod(&t, order)
	t.FillBytes(u1[:])
	t.Mul(r, &w)
	t.Mod(&t, order)
	t.FillBytes(u2[:])
}
