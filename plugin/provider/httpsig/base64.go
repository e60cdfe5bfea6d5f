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
	for i := 0; i < len(s); i += 4 {
		last := i+4 == len(s)
		var v uint32
		pad := 0
		for j := 0; j < 4; j++ {
			c := s[i+j]
			d := b64Values[c]
			switch {
			case c == '=' && last && j >= 2:
				pad++
				d = 0
			case d == b64Invalid || pad > 0:
				return 0, false // not in the alphabet, or data after '='
			}
			v = v<<6 | uint32(d)
		}
		switch pad {
		case 0:
			dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
			n += 3
		case 1:
			if v&0xff != 0 {
				return 0, false // unused bits set
			}
			dst[n], dst[n+1] = byte(v>>16), byte(v>>8)
			n += 2
		default:
			if v&0xffff != 0 {
				return 0, false
			}
			dst[n] = byte(v >> 16)
			n++
		}
	}
	return n, true
}
