// Command guest is the bare-primitive guest of tests/bench: the signature
// checks the plugin runs, alone, in the same runtime. The host writes the
// key, message and signature into buffers it gets from buf, calls setup
// once (key parsing, as the plugin does at configuration time), then run
// once per measured operation.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"unsafe"
)

func main() {}

// Kinds understood by setup.
const (
	kindEd25519 = 1
	kindECDSA   = 2 // P-256, SHA-256 of msg, signature r||s (JWS form)
	kindRSA     = 3 // PKCS #1 v1.5, SHA-256
	kindHMAC    = 4 // HMAC-SHA256(key, msg) compared with sig
)

var (
	bufs          [][]byte // keeps every buffer alive
	kind          int32
	key, msg, sig []byte
	edPub         ed25519.PublicKey
	ecPub         *ecdsa.PublicKey
	rsaPub        *rsa.PublicKey
	r, s          big.Int
)

//go:wasmexport buf
func buf(n int32) uint32 {
	b := make([]byte, n)
	bufs = append(bufs, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func slice(ptr, n uint32) []byte {
	for _, b := range bufs {
		if uint32(uintptr(unsafe.Pointer(&b[0]))) == ptr && int(n) <= len(b) {
			return b[:n]
		}
	}
	return nil
}

// setup returns 1 when the key parsed.
//
//go:wasmexport setup
func setup(k int32, kp, kn, mp, mn, sp, sn uint32) int32 {
	kind, key, msg, sig = k, slice(kp, kn), slice(mp, mn), slice(sp, sn)
	switch k {
	case kindEd25519:
		edPub = ed25519.PublicKey(key)
		return b2i(len(key) == ed25519.PublicKeySize)
	case kindECDSA, kindRSA:
		pub, err := x509.ParsePKIXPublicKey(key)
		if err != nil {
			return 0
		}
		ecPub, _ = pub.(*ecdsa.PublicKey)
		rsaPub, _ = pub.(*rsa.PublicKey)
		return b2i(ecPub != nil || rsaPub != nil)
	case kindHMAC:
		return 1
	}
	return 0
}

// run performs one verification and returns 1 when it succeeded.
//
//go:wasmexport run
func run() int32 {
	switch kind {
	case kindEd25519:
		return b2i(ed25519.Verify(edPub, msg, sig))
	case kindECDSA:
		h := sha256.Sum256(msg)
		r.SetBytes(sig[:32])
		s.SetBytes(sig[32:])
		return b2i(ecdsa.Verify(ecPub, h[:], &r, &s))
	case kindRSA:
		h := sha256.Sum256(msg)
		return b2i(rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, h[:], sig) == nil)
	case kindHMAC:
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return b2i(hmac.Equal(m.Sum(nil), sig))
	}
	return 0
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
