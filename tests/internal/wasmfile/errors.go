package wasmfile

import (
	"errors"
	"fmt"
)

// Error categories: every error of this package wraps exactly one of them.
var (
	// ErrMalformed: the bytes are not a well-formed WebAssembly binary.
	ErrMalformed = errors.New("wasmfile: malformed module")
	// ErrUnsupported: a well-formed module this reader does not handle
	// (passive segments, several memories, non-constant or 64-bit offsets).
	ErrUnsupported = errors.New("wasmfile: unsupported module")
)

var (
	errTruncated   = fmt.Errorf("%w: unexpected end of data", ErrMalformed)
	errLEBOverflow = fmt.Errorf("%w: LEB128 number too long", ErrMalformed)
)

func malformed(where, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, where, fmt.Sprintf(format, args...))
}

func unsupported(where, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsupported, where, fmt.Sprintf(format, args...))
}

func wrapAt(where string, err error) error {
	return fmt.Errorf("%s: %w", where, err)
}
