// Package keys is tokengate's public-key registry for asymmetric
// credentials (client-signed JWTs, HTTP message signatures).
//
// It parses keys once, at configuration time, from every form clients and
// identity providers publish them in — SubjectPublicKeyInfo PEM, PKCS#1 RSA
// PEM, OpenSSH public keys (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384),
// JWK and JWKS — and hands the request path a [*Key] that knows which JWS
// algorithms it may verify. The key decides the algorithm: an RSA key never
// verifies EdDSA, an Ed25519 key never an RSA or HMAC signature, a JWK with
// "alg" only that algorithm, and no key ever verifies "none" or HS*.
//
// [Remote] keeps a JWKS fetched by HTTP callout (directly or through OIDC
// discovery) fresh across all VMs of a proxy; see remote.go.
//
// # Ed25519 keys are decoded once
//
// crypto/ed25519.Verify decompresses the public key on every call (a field
// square root, about 9% of a verification). The key is public and
// immutable, so ed25519.go decodes it when it is parsed and verifies with
// the decoded point, making the standard library's decisions exactly
// (TestEd25519Differential, FuzzEd25519Verify). A key that is not a curve
// point is refused at parse time (ErrBadEd25519), like an EC point off its
// curve, instead of silently refusing every signature.
//
// # Why no crypto/x509
//
// crypto/x509 imports net, which the wasm build must not link, so the few
// DER structures needed (SubjectPublicKeyInfo and PKCS#1 RSAPublicKey) are
// read and written by the small codec in der.go.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
)

// Alg is a JWS signature algorithm (RFC 7518 names).
type Alg uint8

// Algorithms tokengate verifies. There is deliberately no value for "none"
// or for HMAC algorithms: a public key can never be used as a MAC secret.
const (
	AlgUnknown Alg = iota
	EdDSA
	ES256
	ES384
	RS256
	RS384
	RS512
	PS256
	PS384
	PS512
	algCount
)

// AlgSet is a set of algorithms.
type AlgSet uint16

// Has reports whether a is in the set.
func (s AlgSet) Has(a Alg) bool { return a != AlgUnknown && s&(1<<a) != 0 }

// With returns the set plus a.
func (s AlgSet) With(a Alg) AlgSet { return s | 1<<a }

// Sets of algorithms by key type.
const (
	RSAPKCS1 AlgSet = 1<<RS256 | 1<<RS384 | 1<<RS512
	RSAPSS   AlgSet = 1<<PS256 | 1<<PS384 | 1<<PS512
	AllAlgs  AlgSet = 1<<EdDSA | 1<<ES256 | 1<<ES384 | RSAPKCS1 | RSAPSS
)

var algNames = [algCount]string{"", "EdDSA", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// String is the JWS name.
func (a Alg) String() string {
	if a < algCount {
		return algNames[a]
	}
	return ""
}

// ParseAlg maps a JWS "alg" value to an Alg; exact, case-sensitive match.
func ParseAlg(s string) Alg {
	for i := Alg(1); i < algCount; i++ {
		if algNames[i] == s {
			return i
		}
	}
	return AlgUnknown
}

// ParseAlgBytes is ParseAlg for a byte slice, without allocating.
func ParseAlgBytes(b []byte) Alg {
	for i := Alg(1); i < algCount; i++ {
		if algNames[i] == string(b) {
			return i
		}
	}
	return AlgUnknown
}

// Type is a key type.
type Type uint8

// Key types.
const (
	TypeEd25519 Type = iota + 1
	TypeRSA
	TypeP256
	TypeP384
)

func (t Type) String() string {
	switch t {
	case TypeEd25519:
		return "Ed25519"
	case TypeRSA:
		return "RSA"
	case TypeP256:
		return "EC P-256"
	case TypeP384:
		return "EC P-384"
	}
	return "unknown"
}

// natural is the set of algorithms a key type can verify at all.
func (t Type) natural() AlgSet {
	switch t {
	case TypeEd25519:
		return 1 << EdDSA
	case TypeRSA:
		return RSAPKCS1 | RSAPSS
	case TypeP256:
		return 1 << ES256
	case TypeP384:
		return 1 << ES384
	}
	return 0
}

// Key is a parsed public key. Keys are immutable after parsing and safe to
// share between providers.
type Key struct {
	// ID is the key's "kid": the JWK kid when given, otherwise Fingerprint.
	ID string
	// Fingerprint is the lower-case hex SHA-256 of the key's
	// SubjectPublicKeyInfo PEM text, the kid asymmetric-jwt-auth clients send.
	Fingerprint string
	// Type is the key type.
	Type Type
	// Algs are the algorithms this key may verify.
	Algs AlgSet

	ed  *edKey
	rsa *rsa.PublicKey
	// rsaFast verifies RS256/384/512 with Montgomery constants built on
	// the key's first use (rsafast.go), in the Wasm build (useRSAPub).
	// Shared by Restrict copies; nil for non-RSA keys.
	rsaFast *rsaFast
	ec      *ecdsa.PublicKey
	// p256 is a P-256 key's point (X ‖ Y), the key of its table in the
	// ES256 table cache (p256.go); nil for other keys.
	p256 *[64]byte
}

// Restrict narrows the key's algorithms to those in allowed (a copy).
func (k *Key) Restrict(allowed AlgSet) *Key {
	c := *k
	c.Algs &= allowed
	return &c
}

// Allows reports whether the key may verify a.
func (k *Key) Allows(a Alg) bool { return k.Algs.Has(a) }

// Verify checks sig over msg with algorithm a. It returns false when the key
// does not allow a, so callers cannot forget the algorithm check.
func (k *Key) Verify(a Alg, msg []byte, sig []byte) bool {
	if !k.Allows(a) {
		return false
	}
	switch a {
	case EdDSA:
		return k.ed != nil && k.ed.verify(msg, sig)
	case ES256:
		h := sha256.Sum256(msg)
		return k.verifyES256(h[:], sig)
	case ES384:
		h := sha512.Sum384(msg)
		return verifyEC(k.ec, h[:], sig, 48)
	case RS256, PS256:
		h := sha256.Sum256(msg)
		return k.verifyRSA(a, crypto.SHA256, h[:], sig)
	case RS384, PS384:
		h := sha512.Sum384(msg)
		return k.verifyRSA(a, crypto.SHA384, h[:], sig)
	case RS512, PS512:
		h := sha512.Sum512(msg)
		return k.verifyRSA(a, crypto.SHA512, h[:], sig)
	}
	return false
}

// verifyRSA checks an RS* or PS* signature. In the Wasm build PKCS#1 v1.5
// goes to rsapub, which answers exactly as crypto/rsa does (rsapub's
// differential tests) without rebuilding the modulus on each call; PSS
// stays with crypto/rsa.
func (k *Key) verifyRSA(a Alg, h crypto.Hash, digest, sig []byte) bool {
	pub := k.rsa
	if pub == nil || len(sig) != pub.Size() {
		return false
	}
	if a == PS256 || a == PS384 || a == PS512 {
		// RFC 7518 §3.5: the salt is as long as the hash.
		return rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}) == nil
	}
	if useRSAPub && k.rsaFast != nil {
		if fast := k.rsaFast.get(pub); fast != nil {
			return fast.VerifyPKCS1v15(h, digest, sig)
		}
	}
	return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
}

// verifyEC checks a JWS ECDSA signature: exactly R ‖ S, each size bytes
// (RFC 7518 §3.4), never DER. ecdsa.Verify would turn R and S into
// big.Ints and back into DER; the DER is written here directly instead
// (asn1RS), which is what ecdsa.VerifyASN1 then reads.
func verifyEC(pub *ecdsa.PublicKey, digest, sig []byte, size int) bool {
	if pub == nil || len(sig) != 2*size {
		return false
	}
	var buf [maxECDER]byte
	der, ok := asn1RS(buf[:0], sig[:size], sig[size:])
	return ok && ecdsa.VerifyASN1(pub, digest, der)
}

// maxECDER bounds the DER of a P-384 signature: a SEQUENCE of two
// INTEGERs of at most 48 bytes plus a sign byte.
const maxECDER = 2 + 2*(2+48+1)

// asn1RS appends SEQUENCE { INTEGER r, INTEGER s } (DER: minimal length,
// a 0x00 before a high bit) for unsigned big-endian r and s of at most 48
// bytes. It refuses r or s equal to zero, as ecdsa.Verify does.
func asn1RS(dst, r, s []byte) ([]byte, bool) {
	r, s = trimZeros(r), trimZeros(s)
	if len(r) == 0 || len(s) == 0 || len(r) > 48 || len(s) > 48 {
		return nil, false
	}
	n := intLen(r) + intLen(s)
	dst = append(dst, 0x30, byte(n)) // n ≤ 2×51 < 128: short form
	dst = appendECInt(dst, r)
	return appendECInt(dst, s), true
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// intLen is the DER length of INTEGER b (b trimmed, not empty).
func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return 2 + 1 + len(b)
	}
	return 2 + len(b)
}

// appendECInt appends INTEGER b (b trimmed, not empty) without allocating.
func appendECInt(dst, b []byte) []byte {
	if b[0]&0x80 != 0 {
		dst = append(dst, 0x02, byte(len(b)+1), 0)
	} else {
		dst = append(dst, 0x02, byte(len(b)))
	}
	return append(dst, b...)
}
