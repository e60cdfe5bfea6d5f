package signedpayload

import "unsafe"

// unsafeBytes views s as a byte slice without copying. The result must not
// be written to or kept: it is only handed to a comparison.
func unsafeBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
