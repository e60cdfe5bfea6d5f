package httpsig

import "unsafe"

// stringBytes views s as a byte slice without copying, so a header value
// can be handed to a decoder that takes []byte. The result must only be
// read, and not kept past the call it is passed to.
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
