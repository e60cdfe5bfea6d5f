package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
)

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// maxRSABits bounds verification cost (a 16k-bit key is a DoS lever).
const maxRSABits = 8192

// Parse errors. Messages name the problem, never the key material.
var (
	ErrUnsupported = errors.New("unsupported key type")
	ErrWeakKey     = errors.New("RSA key shorter than 2048 bits or longer than 8192")
	ErrBadExponent = errors.New("RSA public exponent must be odd and between 3 and 2^31-1")
	ErrBadPoint    = errors.New("EC point is not on the curve") // see also ErrBadEd25519
	ErrPrivate     = errors.New("private key material where a public key was expected")
	ErrMalformed   = errors.New("malformed public key")
	ErrPEMTrailing = errors.New("unexpected data around the PEM block")
)

// ParsePublicKey reads one public key in PEM (SubjectPublicKeyInfo or
// PKCS#1 "RSA PUBLIC KEY"), OpenSSH authorized_keys form or JWK JSON.
func ParsePublicKey(text []byte) (*Key, error) {
	t := bytes.TrimSpace(text)
	switch {
	case bytes.HasPrefix(t, []byte("-----BEGIN ")):
		return parsePEM(t)
	case bytes.HasPrefix(t, []byte("{")):
		return ParseJWK(t)
	case bytes.HasPrefix(t, []byte("ssh-")) || bytes.HasPrefix(t, []byte("ecdsa-sha2-")):
		return parseOpenSSH(t)
	}
	return nil, ErrUnsupported
}

func parsePEM(t []byte) (*Key, error) {
	block, rest := pem.Decode(t)
	if block == nil {
		return nil, ErrMalformed
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, ErrPEMTrailing
	}
	if len(block.Headers) != 0 {
		return nil, ErrMalformed
	}
	switch block.Type {
	case "PUBLIC KEY":
		return ParseSPKI(block.Bytes)
	case "RSA PUBLIC KEY":
		n, e, err := parsePKCS1(block.Bytes)
		if err != nil {
			return nil, err
		}
		return newRSA(n, e)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, ErrPrivate
	}
	return nil, ErrUnsupported
}

// ParseSPKI reads a DER SubjectPublicKeyInfo.
func ParseSPKI(der []byte) (*Key, error) {
	seq, rest, err := expect(der, tagSequence)
	if err != nil || len(rest) != 0 {
		return nil, ErrMalformed
	}
	algID, rest, err := expect(seq, tagSequence)
	if err != nil {
		return nil, ErrMalformed
	}
	bits, rest, err := expect(rest, tagBitString)
	if err != nil || len(rest) != 0 || len(bits) < 1 || bits[0] != 0 {
		return nil, ErrMalformed
	}
	keyBytes := bits[1:]
	oid, params, err := expect(algID, tagOID)
	if err != nil {
		return nil, ErrMalformed
	}
	switch {
	case bytes.Equal(oid, oidEd25519):
		if len(params) != 0 || len(keyBytes) != edPublicKeySize {
			return nil, ErrMalformed
		}
		return newEd25519(keyBytes)
	case bytes.Equal(oid, oidRSA):
		if !bytes.Equal(params, []byte{tagNull, 0}) {
			return nil, ErrMalformed
		}
		n, e, err := parsePKCS1(keyBytes)
		if err != nil {
			return nil, err
		}
		return newRSA(n, e)
	case bytes.Equal(oid, oidECPublic):
		curve, rest, err := expect(params, tagOID)
		if err != nil || len(rest) != 0 {
			return nil, ErrMalformed
		}
		switch {
		case bytes.Equal(curve, oidP256):
			return newEC(TypeP256, keyBytes)
		case bytes.Equal(curve, oidP384):
			return newEC(TypeP384, keyBytes)
		}
	}
	return nil, ErrUnsupported
}

func parsePKCS1(der []byte) (n, e []byte, err error) {
	seq, rest, err := expect(der, tagSequence)
	if err != nil || len(rest) != 0 {
		return nil, nil, ErrMalformed
	}
	nc, rest, err := expect(seq, tagInteger)
	if err != nil {
		return nil, nil, ErrMalformed
	}
	ec, rest, err := expect(rest, tagInteger)
	if err != nil || len(rest) != 0 {
		return nil, nil, ErrMalformed
	}
	if n, err = positiveInt(nc); err != nil {
		return nil, nil, ErrMalformed
	}
	if e, err = positiveInt(ec); err != nil {
		return nil, nil, ErrMalformed
	}
	return n, e, nil
}

func newEd25519(pub []byte) (*Key, error) {
	ed, err := newEdKey(pub)
	if err != nil {
		return nil, err
	}
	k := &Key{Type: TypeEd25519, ed: ed}
	return finish(k, spki(appendTLV(nil, tagOID, oidEd25519), pub)), nil
}

// newRSA builds an RSA key from big-endian n and e (leading zeros allowed).
func newRSA(n, e []byte) (*Key, error) {
	for len(n) > 0 && n[0] == 0 {
		n = n[1:]
	}
	for len(e) > 0 && e[0] == 0 {
		e = e[1:]
	}
	nn := new(big.Int).SetBytes(n)
	if bits := nn.BitLen(); bits < MinRSABits || bits > maxRSABits {
		return nil, ErrWeakKey
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, ErrBadExponent
	}
	var ev uint64
	for _, b := range e {
		ev = ev<<8 | uint64(b)
	}
	if ev < 3 || ev > 1<<31-1 || ev%2 == 0 {
		return nil, ErrBadExponent
	}
	k := &Key{Type: TypeRSA, rsa: &rsa.PublicKey{N: nn, E: int(ev)}}
	k.rsaFast = new(rsaFast) // built on first use (rsafast.go)
	var body []byte
	body = appendInt(body, n)
	body = appendInt(body, e)
	pkcs1 := appendTLV(nil, tagSequence, body)
	alg := appendTLV(appendTLV(nil, tagOID, oidRSA), tagNull, nil)
	return finish(k, spki(alg, pkcs1)), nil
}

func newEC(t Type, point []byte) (*Key, error) {
	var curve elliptic.Curve
	curveOID := oidP256
	if t == TypeP256 {
		curve = elliptic.P256()
	} else {
		curve = elliptic.P384()
		curveOID = oidP384
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, ErrBadPoint
	}
	k := &Key{Type: t, ec: pub}
	if t == TypeP256 {
		k.p256 = new([64]byte)
		copy(k.p256[:], point[1:]) // ParseUncompressedPublicKey took 0x04 ‖ X ‖ Y
	}
	alg := appendTLV(appendTLV(nil, tagOID, oidECPublic), tagOID, curveOID)
	return finish(k, spki(alg, point)), nil
}

// finish sets the algorithms and the asymmetric-jwt-auth fingerprint: the
// SHA-256 of the PEM text "cryptography" writes for the key.
func finish(k *Key, der []byte) *Key {
	k.Algs = k.Type.natural()
	text := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	sum := sha256.Sum256(text)
	k.Fingerprint = hex.EncodeToString(sum[:])
	k.ID = k.Fingerprint
	return k
}

// parseOpenSSH reads "<type> <base64 wire key> [comment]".
func parseOpenSSH(t []byte) (*Key, error) {
	fields := bytes.Fields(t)
	if len(fields) < 2 {
		return nil, ErrMalformed
	}
	wire, err := base64.StdEncoding.Strict().DecodeString(string(fields[1]))
	if err != nil {
		return nil, ErrMalformed
	}
	name, rest, ok := sshString(wire)
	if !ok || string(name) != string(fields[0]) {
		return nil, ErrMalformed
	}
	switch string(name) {
	case "ssh-ed25519":
		pub, rest, ok := sshString(rest)
		if !ok || len(rest) != 0 {
			return nil, ErrMalformed
		}
		return newEd25519(pub)
	case "ssh-rsa":
		e, rest, ok := sshString(rest)
		if !ok {
			return nil, ErrMalformed
		}
		n, rest, ok := sshString(rest)
		if !ok || len(rest) != 0 || len(n) == 0 || n[0]&0x80 != 0 || len(e) == 0 || e[0]&0x80 != 0 {
			return nil, ErrMalformed
		}
		return newRSA(n, e)
	case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384":
		curve, rest, ok := sshString(rest)
		if !ok || "ecdsa-sha2-"+string(curve) != string(name) {
			return nil, ErrMalformed
		}
		point, rest, ok := sshString(rest)
		if !ok || len(rest) != 0 {
			return nil, ErrMalformed
		}
		if string(curve) == "nistp256" {
			return newEC(TypeP256, point)
		}
		return newEC(TypeP384, point)
	}
	return nil, ErrUnsupported
}

func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
