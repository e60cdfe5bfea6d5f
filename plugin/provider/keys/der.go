package keys

import "errors"

// A minimal DER codec for the two structures public keys come in. It accepts
// only definite, minimal lengths and refuses trailing bytes, so one key has
// one encoding.

var errDER = errors.New("malformed DER")

// Tags used here.
const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagNull      = 0x05
	tagOID       = 0x06
	tagSequence  = 0x30
)

// Object identifiers, as their DER content bytes.
var (
	oidRSA      = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	oidEd25519  = []byte{0x2b, 0x65, 0x70}
	oidECPublic = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}
	oidP256     = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384     = []byte{0x2b, 0x81, 0x04, 0x00, 0x22}
)

// readTLV splits the first element of b off: its tag, content and the rest.
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errDER
	}
	tag = b[0]
	n := int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		nb := n & 0x7f
		if nb == 0 || nb > 3 || len(b) < nb || b[0] == 0 {
			return 0, nil, nil, errDER
		}
		n = 0
		for i := 0; i < nb; i++ {
			n = n<<8 | int(b[i])
		}
		if n < 0x80 {
			return 0, nil, nil, errDER // not minimal
		}
		b = b[nb:]
	}
	if n > len(b) {
		return 0, nil, nil, errDER
	}
	return tag, b[:n], b[n:], nil
}

// expect reads one element with the given tag.
func expect(b []byte, tag byte) (content, rest []byte, err error) {
	t, c, r, err := readTLV(b)
	if err != nil || t != tag {
		return nil, nil, errDER
	}
	return c, r, nil
}

// positiveInt returns the magnitude of a positive DER INTEGER.
func positiveInt(c []byte) ([]byte, error) {
	if len(c) == 0 || c[0]&0x80 != 0 {
		return nil, errDER
	}
	if c[0] == 0 {
		if len(c) == 1 || c[1]&0x80 == 0 {
			return nil, errDER // zero or not minimal
		}
		c = c[1:]
	}
	return c, nil
}

// appendTLV appends one DER element.
func appendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n < 0x100:
		dst = append(dst, 0x81, byte(n))
	case n < 0x10000:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

// appendInt appends a positive INTEGER from its big-endian magnitude.
func appendInt(dst []byte, mag []byte) []byte {
	for len(mag) > 1 && mag[0] == 0 {
		mag = mag[1:]
	}
	if len(mag) > 0 && mag[0]&0x80 != 0 {
		c := make([]byte, 0, len(mag)+1)
		c = append(c, 0)
		c = append(c, mag...)
		return appendTLV(dst, tagInteger, c)
	}
	return appendTLV(dst, tagInteger, mag)
}

// spki encodes a SubjectPublicKeyInfo.
func spki(algID []byte, key []byte) []byte {
	bits := append([]byte{0}, key...)
	var body []byte
	body = appendTLV(body, tagSequence, algID)
	body = appendTLV(body, tagBitString, bits)
	return appendTLV(nil, tagSequence, body)
}
