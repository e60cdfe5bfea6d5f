//go:build wasip1

package shared

// own returns v as is: in the wasm builds the host wrote the value into
// memory the guest allocated for this call, so it already belongs to the
// caller and copying would only cost an allocation per request.
func own(v []byte) []byte { return v }
