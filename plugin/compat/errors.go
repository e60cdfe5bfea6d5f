package compat

import (
	"errors"
	"fmt"
)

// Error categories. Every error Rewrite returns wraps exactly one of them, so
// callers can tell a broken file from a valid module the pass does not handle.
var (
	// ErrMalformed: the bytes are not a well-formed WebAssembly binary
	// (truncated, bad LEB128, section overruns, unbalanced blocks…).
	ErrMalformed = errors.New("compat: malformed module")
	// ErrUnsupported: a well-formed module using something the pass does not
	// understand (an opcode, section or encoding it cannot walk), or whose
	// imports cannot be replaced safely (unexpected signature, no memory).
	ErrUnsupported = errors.New("compat: unsupported module")
)

var (
	errTruncated   = fmt.Errorf("%w: unexpected end of data", ErrMalformed)
	errLEBOverflow = fmt.Errorf("%w: LEB128 number too long", ErrMalformed)
)

// malformed and unsupported build errors of each category; where names the
// place in the module.
func malformed(where string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, where, fmt.Sprintf(format, args...))
}

func unsupported(where string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsupported, where, fmt.Sprintf(format, args...))
}

// wrapAt adds a location to an error from a low-level reader.
func wrapAt(where string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", where, err)
}
