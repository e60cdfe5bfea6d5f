package httpsig

// RFC 8941 byte sequences carry standard, padded base64 (RFC 4648 §4).
// decodeBase64 decodes it strictly, as base64.StdEncoding.Strict() does
// for input without line breaks: length a multiple of 4, padding only at
// the end, and the unused bits of the last quantum zero, so every byte
// string has exactly one accepted encoding. It is a small table-driven
// loop rather than encoding/base64, whose general decoder is several
// times larger code on the per-request path of the Wasm module;
// FuzzDecodeBase64 holds it to the standard library's answers.

// b64Invalid marks bytes outside the alphabet in b64Values.
const b64Invalid = 0xff

var b64Values = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = b64Invalid
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeBase64 decodes s into dst, which holds at least len(s)/4*3 bytes,
// and returns the number of bytes written; ok is false when s is not
// canonical padded base64.
func decodeBase64(dst []byte, s string) (n int, ok bool) {
	if len(s)%4 != 0 {
		return 0, false
	}
	if len(s) == 0 {
		return 0, true
	}
	// Every quantum but the last has no padding.
	last := len(s) - 4
	for i := 0; i < last; i += 4 {
		a, b, c, d := b64Values[s[i]], b64Values[s[i+1]], b64Values[s[i+2]], b64Values[s[i+3]]
		if (a|b|c|d)&0x80 != 0 {
			return 0, false // b64Invalid is the only value with the high bit
		}
		dst[n], dst[n+1], dst[n+2] = a<<2|b>>4, b<<4|c>>2, c<<6|d
		n += 3
	}
	return decodeLast(dst, n, s[last:])
}

// decodeLast decodes the final quantum q, which may end in "=" or "==",
// into dst[n:].
func decodeLast(dst []byte, n int, q string) (int, bool) {
	a, b, c, d := b64Values[q[0]], b64Values[q[1]], b64Values[q[2]], b64Values[q[3]]
	switch {
	case (a|b)&0x80 != 0:
		return 0, false
	case q[2] == '=' && q[3] == '=':
		if b&0x0f != 0 {
			return 0, false // unused bits set
		}
		dst[n] = a<<2 | b>>4
		return n + 1, true
	case c&0x80 != 0:
		return 0, false // includes '=' followed by data
	case q[3] == '=':
		if c&0x03 != 0 {
			return 0, false
		}
		dst[n], dst[n+1] = a<<2|b>>4, b<<4|c>>2
		return n + 2, true
	case d&0x80 != 0:
		return 0, false
	}
	dst[n], dst[n+1], dst[n+2] = a<<2|b>>4, b<<4|c>>2, c<<6|d
	return n + 3, true
}
