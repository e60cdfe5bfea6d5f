// Package wasmfile reads where a built WebAssembly module's bytes go: its
// sections, its active data segments and its code bodies with their names
// from the "name" custom section. tests/bench uses it for the module-size
// breakdown of bench/REPORT.md.
//
// It only reads, and refuses (with an error wrapping ErrMalformed or
// ErrUnsupported) what it cannot read exactly: passive data segments,
// segments of another memory, non-constant or 64-bit offsets.
//
// plugin/compat has its own, stricter reader: that pass rewrites modules
// and refuses sections it cannot keep consistent (debug information, tags),
// which a size breakdown must accept.
package wasmfile
