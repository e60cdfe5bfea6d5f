// Package fieldexp is an experiment for issue 7: would a Wasm-friendly
// GF(2^255−19) win for Ed25519 in the plugin's runtime?
//
// Go's field (crypto/internal/fips140/edwards25519/field, published as
// filippo.io/edwards25519/field) keeps an element in 5 limbs of 51 bits and
// multiplies them with bits.Mul64. WebAssembly has no 64×64→128 multiply,
// so each such product becomes a long emulated sequence. Element here keeps
// 10 limbs of alternating 26 and 25 bits, whose products need only
// 64-bit multiplies, which Wasm has natively.
//
// The package is not wired into the plugin. Its tests compare every
// operation with math/big (a million random inputs, edge cases, a fuzz
// target); its benchmarks time Mul, Square, Add, Sub and Carry against the
// 51-bit field natively and, through a tiny wasip1 guest (testdata/guest),
// in wazero configured as tests/bench configures it. README.md gives the
// numbers, the estimate for a whole Ed25519 verification and a
// recommendation.
package fieldexp
