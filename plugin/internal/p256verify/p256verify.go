// Package p256verify verifies ECDSA P-256 signatures for a public key that
// verifies many signatures, faster than crypto/ecdsa in WebAssembly.
//
// crypto/ecdsa rebuilds everything per call and works in constant time: it
// checks the key again, builds a 16-entry table of Q, then computes [u2]Q
// with about 255 doublings and 51 additions behind constant-time selects,
// and [u1]G separately. Verification handles only public values (key,
// hash, signature), so it may run in variable time. Here each key gets a
// fixed-window comb table once, when the key is parsed: row i holds
// 1·2^(5i)·Q … 16·2^(5i)·Q. [u2]Q is then about 50 additions and no
// doublings at all (signed 5-bit digits; a negative digit negates the
// row's point, which costs one field subtraction). [u1]G uses the same
// comb over G, built once per process: nistec's ScalarBaseMult has no
// doublings either, but each of its 43 steps scans a 32-point table in
// constant time.
//
// The decisions are exactly those of Go 1.26's ecdsa.Verify for P-256 (see
// Verify); the tests in this package check that differentially against
// crypto/ecdsa. Point and field arithmetic are filippo.io/nistec's (the
// same code as Go's crypto/internal/fips140/nistec); scalars mod n use
// math/big, which is variable time, as public values allow.
//
// The cost is memory: about 80 KB per key (52 rows × 16 points × 96 bytes)
// plus 80 KB once for G, and the tables' construction, about 830 point
// operations each, at configuration time.
package p256verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"math/big"
	"sync"

	"filippo.io/nistec"
)

// PublicKey is a P-256 public key with its precomputed comb table. It is
// read-only after NewPublicKey, so one key may verify concurrently.
type PublicKey struct {
	table *combTable
}

// errKey is the only error NewPublicKey returns: the reason stays generic
// so no caller logs key material.
var errKey = errors.New("p256verify: not a valid P-256 public key")

// NewPublicKey checks pub as crypto/ecdsa does before it verifies (P-256,
// coordinates in [0, p), the point on the curve; the point at infinity has
// no affine form, so it cannot be passed) and precomputes its table. A key
// refused here is one every ecdsa.Verify call would refuse.
func NewPublicKey(pub *ecdsa.PublicKey) (*PublicKey, error) {
	if pub == nil || pub.Curve == nil || pub.Curve.Params() != elliptic.P256().Params() {
		return nil, errKey
	}
	enc, ok := uncompressed(pub)
	if !ok {
		return nil, errKey
	}
	q, err := nistec.NewP256Point().SetBytes(enc[:]) // checks x, y < p and the curve equation
	if err != nil {
		return nil, errKey
	}
	baseOnce.Do(buildBase)
	t := new(combTable)
	t.build(q)
	return &PublicKey{table: t}, nil
}

// uncompressed is 0x04 ‖ X ‖ Y, or false when a coordinate is missing,
// negative or longer than 32 bytes. ecdsa.PublicKey.Bytes would panic on a
// missing coordinate, so the (deprecated) fields are read here, never
// written.
func uncompressed(pub *ecdsa.PublicKey) (enc [65]byte, ok bool) {
	//lint:ignore SA1019 read only, to refuse a malformed key (see above)
	x, y := pub.X, pub.Y
	if x == nil || y == nil || x.Sign() < 0 || y.Sign() < 0 || x.BitLen() > 256 || y.BitLen() > 256 {
		return enc, false
	}
	enc[0] = 4
	x.FillBytes(enc[1:33])
	y.FillBytes(enc[33:])
	return enc, true
}

// baseTable is the comb table of the generator G, built once per process
// (on the first NewPublicKey, that is at configuration, not on a request).
var (
	baseOnce  sync.Once
	baseTable *combTable
)

func buildBase() {
	baseTable = new(combTable)
	baseTable.build(nistec.NewP256Point().SetGenerator())
}

// Verify reports whether r and s (unsigned big-endian, any length) are a
// valid ECDSA signature of hash by k. It decides exactly as
// ecdsa.Verify(pub, hash, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)):
// r and s must be in [1, n−1]; e is the first 32 bytes of hash (all of it if
// shorter) reduced mod n; R = [e·s⁻¹]G + [r·s⁻¹]Q must not be the point at
// infinity, and R.x mod n must equal r. For a JWS signature (R ‖ S, 32
// bytes each) pass sig[:32] and sig[32:].
//
// A nil or zero PublicKey (not from NewPublicKey) refuses every signature.
func (k *PublicKey) Verify(hash, r, s []byte) bool {
	if k == nil || k.table == nil {
		return false
	}
	var rr, ss big.Int
	rr.SetBytes(r)
	ss.SetBytes(s)
	if !inRange(&rr) || !inRange(&ss) {
		return false
	}
	var u1, u2 [32]byte
	scalars(hash, &rr, &ss, &u1, &u2)

	var sum nistec.P256Point
	sum.Set(nistec.NewP256Point()) // the point at infinity
	baseTable.addMult(&sum, &u1)
	k.table.addMult(&sum, &u2)

	x, err := sum.BytesX() // the only error is the point at infinity
	if err != nil {
		return false
	}
	var xr big.Int
	xr.SetBytes(x)
	if xr.Cmp(order) >= 0 { // x < p < 2n: one subtraction reduces it
		xr.Sub(&xr, order)
	}
	return xr.Cmp(&rr) == 0
}
