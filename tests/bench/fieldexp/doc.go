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
// Element51 keeps Go's 5×51-bit representation but writes Mul and Square
// without helper calls, which separates the two causes of the Wasm cost:
// the emulated 128-bit multiply and the 23,000 helper calls per
// verification that Go's compiler does not inline on wasm.
//
// The package is not wired into the plugin. Its tests compare every
// operation with math/big (a million random inputs, edge cases, a fuzz
// target), and, through go build -overlay (overlay_test.go), run Go's own
// Ed25519 code and tests on both replacements, plus a signature
// differential (testdata/sigdiff). Its benchmarks time the operations
// natively and, through a tiny wasip1 guest (testdata/guest), in wazero
// configured as tests/bench configures it, and time whole verifications and
// the plugin itself built each way. README.md gives the numbers, the
// estimate against the measurement, and a recommendation.
package fieldexp
