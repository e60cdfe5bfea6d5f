// Package p256exp measures, in the plugin's runtime (wazero, as tests/bench
// configures it), whether plugin/internal/p256verify verifies ES256
// signatures faster than crypto/ecdsa.VerifyASN1, which the plugin calls
// today (issue 7).
//
// testdata/guest is a tiny wasip1 reactor that runs either verifier on the
// same key, hash and signature. It is built with the plugin's flags
// through go build -overlay (see the guest's doc for why). The tests check
// that both verifiers decide the same in Wasm over valid, damaged and edge
// signatures; BenchmarkWasm interleaves the two, call by call, and reports
// the fastest and median of each and their ratio. README.md has the
// numbers and the verdict.
//
// Equivalence with crypto/ecdsa at scale (a million signatures, a fuzz
// target) is proven natively in plugin/internal/p256verify's own tests.
package p256exp
