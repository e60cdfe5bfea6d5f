package jwt

// A strict base64url decoder (RFC 4648 §5, no padding) that reads a string
// and writes into a caller's buffer, so a token is decoded without the
// []byte copies and allocations encoding/base64 would need. It accepts
// exactly what base64.RawURLEncoding.Strict() accepts (see
// FuzzDecodeB64URL): no padding, no other characters, no length of 1
// modulo 4, and zero trailing bits, so one byte string has one encoding.

// b64Invalid marks a byte outside the alphabet in b64Values.
const b64Invalid = 0xff

var b64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = b64Invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodedLen is the decoded size of n base64url characters (valid n).
func decodedLen(n int) int { return n * 6 / 8 }

// decodeB64URL decodes src into dst, which must hold decodedLen(len(src))
// bytes, and returns the number of bytes written.
func decodeB64URL(dst []byte, src string) (int, bool) {
	if len(src)%4 == 1 || len(dst) < decodedLen(len(src)) {
		return 0, false
	}
	n := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := b64Values[src[i]], b64Values[src[i+1]], b64Values[src[i+2]], b64Values[src[i+3]]
		if (a|b|c|d)&0xc0 != 0 { // a value is b64Invalid: valid ones are < 64
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		dst[n+1] = b<<4 | c>>2
		dst[n+2] = c<<6 | d
		n += 3
	}
	switch len(src) - i {
	case 2:
		a, b := b64Values[src[i]], b64Values[src[i+1]]
		if a == b64Invalid || b == b64Invalid || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := b64Values[src[i]], b64Values[src[i+1]], b64Values[src[i+2]]
		if a == b64Invalid || b == b64Invalid || c == b64Invalid || c&0x03 != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		dst[n+1] = b<<4 | c>>2
		n += 2
	}
	return n, true
}
