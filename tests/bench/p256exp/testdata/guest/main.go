// Command guest runs one ECDSA P-256 verification inside wazero for
// p256exp, either with crypto/ecdsa.VerifyASN1 (what the plugin calls
// today) or with p256verify, on the same key, hash and signature.
//
// The host writes the key (PKIX DER), the hash and the signature (r ‖ s, 32
// bytes each, the JWS form) into buffers it gets from buf and calls setup;
// setup parses the key both ways and writes the DER signature once, as the
// plugin's configuration and its asn1RS do. run(impl) then verifies once.
//
// The guest imports plugin/internal/p256verify, which Go only allows from
// under plugin/. p256exp therefore builds this file through go build
// -overlay, as if it lived at plugin/internal/p256verify/p256expguest; no
// file is written under plugin/.
package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"unsafe"

	"github.com/tokengate/tokengate/plugin/internal/p256verify"
)

func main() {}

// Implementations understood by run (the host mirrors them).
const (
	implECDSA      = 1 // ecdsa.VerifyASN1 on the DER form of r ‖ s
	implP256Verify = 2 // (*p256verify.PublicKey).Verify on r and s
)

var (
	bufs  [][]byte // keeps every buffer alive until free
	ecPub *ecdsa.PublicKey
	fast  *p256verify.PublicKey
	hash  []byte
	r, s  []byte
	der   []byte
)

//go:wasmexport buf
func buf(n int32) uint32 {
	b := make([]byte, max(n, 1))
	bufs = append(bufs, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

// free drops every buffer (between the cases of an agreement test).
//
//go:wasmexport free
func free() { bufs = nil }

func slice(ptr, n uint32) []byte {
	for _, b := range bufs {
		if uint32(uintptr(unsafe.Pointer(&b[0]))) == ptr && int(n) <= len(b) {
			return b[:n:n]
		}
	}
	return nil
}

// setup returns 1 when the key parsed both ways, 2 when both refused it
// (an invalid key), and 0 when they disagree or the input is malformed.
//
//go:wasmexport setup
func setup(kp, kn, hp, hn, sp, sn uint32) int32 {
	key, sig := slice(kp, kn), slice(sp, sn)
	hash = slice(hp, hn)
	if key == nil || len(sig)%2 != 0 {
		return 0
	}
	r, s = sig[:len(sig)/2], sig[len(sig)/2:]
	var err error
	der, err = asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
	if err != nil {
		return 0
	}
	pub, err := x509.ParsePKIXPublicKey(key)
	if err != nil {
		return 0
	}
	ecPub, _ = pub.(*ecdsa.PublicKey)
	if ecPub == nil {
		return 0
	}
	fast, err = p256verify.NewPublicKey(ecPub)
	if err != nil {
		return 2
	}
	return 1
}

// run verifies once with impl and returns 1 when the signature is valid, 0
// when it is not, and −1 for an unknown impl.
//
//go:wasmexport run
func run(impl int32) int32 {
	switch impl {
	case implECDSA:
		return b2i(ecdsa.VerifyASN1(ecPub, hash, der))
	case implP256Verify:
		return b2i(fast.Verify(hash, r, s))
	}
	return -1
}

// newKey parses the loaded key into a p256verify.PublicKey again (its
// table's construction, timed by BenchmarkWasmNewKey) and returns 1.
//
//go:wasmexport newkey
func newKey() int32 {
	k, err := p256verify.NewPublicKey(ecPub)
	if err != nil {
		return 0
	}
	fast = k
	return 1
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
