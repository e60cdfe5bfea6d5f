// Package wasmpack is a post-link pass over a built WebAssembly module that
// shrinks its data section, and a small reader that reports where a
// module's bytes go (sections, data segments, code bodies by function name).
//
// # Data-segment coalescing
//
// The Go linker writes the initial contents of linear memory as one active
// data segment per run of non-zero bytes, splitting wherever at least 8
// zero bytes follow (cmd/link/internal/wasm, segmentOverhead). Each segment
// costs a header: a flag, an i32.const offset expression and a length, 6 to
// 9 bytes depending on the LEB128 widths. [Coalesce] merges two neighbouring
// active segments of memory 0 whenever writing the zero gap between them
// explicitly costs fewer bytes than the second segment's header. Memory
// starts zeroed, so the written zeros change nothing a guest can observe:
// the memory image after instantiation is byte-for-byte the same (tests
// compare it through wazero), and so is every other section of the module.
//
// The merge is only sound under conditions the pass checks and otherwise
// refuses with an error (never a guess, never a broken module):
//
//   - the module defines its one memory (an imported memory may hold
//     non-zero bytes before instantiation), with 32-bit indices and not
//     shared;
//   - every data segment is active, targets memory 0 and has a constant
//     i32.const offset (passive segments and data.drop/memory.init refer to
//     segments by index, which merging would change; a data count section
//     is therefore refused too);
//   - no two segments write the same byte. Two segments are merged only
//     when they are neighbours in the list, both non-empty, the second
//     starts after the first ends, and no other segment writes into or
//     starts in the gap between them (the linker writes sections out of
//     address order), so the zeros the merged segment writes there are
//     the zeros memory starts with and merged segments never overlap.
//
// Merging runs to a fixed point, so Coalesce(Coalesce(m)) == Coalesce(m),
// and a module with nothing to merge comes back byte for byte.
package wasmpack
