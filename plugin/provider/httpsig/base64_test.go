package httpsig

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdDecode is the reference: the standard library's strict decoder,
// with line breaks refused as parseBytes refuses them first.
func stdDecode(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

func checkDecode(t *testing.T, s string) {
	t.Helper()
	dst := make([]byte, len(s)/4*3)
	n, ok := decodeBase64(dst, s)
	want, wantOK := stdDecode(s)
	if ok != wantOK || ok && !bytes.Equal(dst[:n], want) {
		t.Fatalf("decodeBase64(%q) = %x, %v; standard library %x, %v", s, dst[:n], ok, want, wantOK)
	}
}

func TestDecodeBase64(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no padding", "AAEC"},
		{"one pad", "AAE="},
		{"two pads", "AA=="},
		{"every letter", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
		{"64-byte signature", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, 64))},
		{"unused bits set, one pad", "AAF="},
		{"unused bits set, two pads", "AB=="},
		{"missing padding", "AAE"},
		{"three pads", "A==="},
		{"four pads", "===="},
		{"pad then data", "AA=A"},
		{"padding mid-string", "AA==AAAA"},
		{"url alphabet", "-_-_"},
		{"space", "AA A"},
		{"line break", "AAAA\nAAAA"},
		{"carriage return", "AAAA\rAAAA"},
		{"non-ASCII", "AAA\xff"},
		{"NUL", "AAA\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDecode(t, tc.in) })
	}
}

// TestDecodeBase64Differential compares with the standard library on a
// million seeded random strings (10,000 with -short): canonical
// encodings, and strings drawn from the alphabet, '=' and a few bytes
// outside it, so that padding, unused bits and stray bytes all occur.
func TestDecodeBase64Differential(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/====-_ \x00\xff\n"
	rng := rand.New(rand.NewPCG(9421, 8941))
	buf := make([]byte, 0, 64)
	for i := 0; i < n; i++ {
		buf = buf[:0]
		size := rng.IntN(13)
		if i%2 == 0 {
			for j := 0; j < size; j++ {
				buf = append(buf, byte(rng.Uint32()))
			}
			checkDecode(t, base64.StdEncoding.EncodeToString(buf))
			continue
		}
		size = size / 4 * 4
		if rng.IntN(8) == 0 {
			size++ // sometimes not a multiple of 4
		}
		for j := 0; j < size; j++ {
			buf = append(buf, chars[rng.IntN(len(chars))])
		}
		checkDecode(t, string(buf))
	}
}

// FuzzDecodeBase64 holds decodeBase64 to the standard library's strict
// decoder on arbitrary input and on the encodings of arbitrary bytes.
func FuzzDecodeBase64(f *testing.F) {
	f.Add("AAE=", []byte{0})
	f.Add("AB==", []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		checkDecode(t, s)
		checkDecode(t, base64.StdEncoding.EncodeToString(raw))
	})
}
