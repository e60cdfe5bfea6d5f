//go:build wasm

package keys

// useRSAPub: in Wasm, rsapub verifies RS256 about 1.5× faster than
// crypto/rsa (which rebuilds the modulus per call and has no dedicated
// squaring); see rsapub's package doc. rsapub_other.go covers native
// builds.
const useRSAPub = true
