//go:build !wasm

package keys

// useRSAPub: natively crypto/rsa's assembly Montgomery multiplication on
// 64-bit limbs (true 64×64→128 products) is faster than rsapub's portable
// code, so native builds keep crypto/rsa. Set by build tag; see
// rsapub_wasm.go.
const useRSAPub = false
