//go:build !wasip1

package shared

// own copies the value: natively the SDK's emulator hands out its own
// stored slice, and a caller editing it in place (before a Set that then
// loses its cas) would corrupt the emulator's copy, which no real host
// allows.
func own(v []byte) []byte { return append([]byte(nil), v...) }
