package compat

// The instruction walker. It copies an expression from src to out and
// re-encodes the immediate of every instruction that names a function
// (call, ref.func), keeping its original LEB128 width when the new index
// fits. It must know the immediates of every opcode to stay in step, so an
// opcode it does not know stops the pass instead of being skipped.

type walker struct {
	m     *module
	remap []uint32 // old function index → new; nil means identity
	src   []byte
	out   []byte
	last  int // src[last:] has not been copied to out yet
	where string
}

// flush copies the rest of src and returns the output.
func (w *walker) flush() []byte {
	w.out = append(w.out, w.src[w.last:]...)
	w.last = len(w.src)
	return w.out
}

// funcIdx reads a function index at p and rewrites it if it moves.
func (w *walker) funcIdx(p int) (int, error) {
	idx, q, err := readU32(w.src, p)
	if err != nil {
		return p, wrapAt(w.where, err)
	}
	if idx >= w.m.numFuncs() {
		return p, malformed(w.where, "function index %d out of range (%d functions)", idx, w.m.numFuncs())
	}
	if w.remap != nil && w.remap[idx] != idx {
		w.out = append(w.out, w.src[w.last:p]...)
		w.out = appendU32Width(w.out, w.remap[idx], q-p)
		w.last = q
	}
	return q, nil
}

// u32 reads an index immediate and checks it against limit.
func (w *walker) u32(p int, limit uint32, what string) (int, error) {
	v, q, err := readU32(w.src, p)
	if err != nil {
		return p, wrapAt(w.where, err)
	}
	if v >= limit {
		return p, malformed(w.where, "%s index %d out of range", what, v)
	}
	return q, nil
}

// anyU32 reads an index immediate that the pass does not need to check
// (locals, labels: wazero validates them).
func (w *walker) anyU32(p int) (int, error) {
	_, q, err := readU32(w.src, p)
	return q, wrapAt(w.where, err)
}

// memarg reads alignment and offset. Multi-memory (bit 6 of the alignment)
// is refused.
func (w *walker) memarg(p int) (int, error) {
	align, q, err := readU32(w.src, p)
	if err != nil {
		return p, wrapAt(w.where, err)
	}
	if align >= 0x40 {
		return p, unsupported(w.where, "memory access with alignment field %d (multi-memory is not handled)", align)
	}
	if w.m.numMemories == 0 {
		return p, malformed(w.where, "memory access without a memory")
	}
	return w.anyU32(q)
}

// memIdx reads the memory index byte of memory.size/grow/fill/copy/init.
func (w *walker) memIdx(p int) (int, error) {
	if p >= len(w.src) {
		return p, wrapAt(w.where, errTruncated)
	}
	if w.src[p] != 0 {
		return p, unsupported(w.where, "memory index %d (multi-memory is not handled)", w.src[p])
	}
	if w.m.numMemories == 0 {
		return p, malformed(w.where, "memory instruction without a memory")
	}
	return p + 1, nil
}

// blockType reads a block type: empty, one value type, or a type index.
func (w *walker) blockType(p int) (int, error) {
	v, q, err := readS33(w.src, p)
	if err != nil {
		return p, wrapAt(w.where, err)
	}
	if v >= 0 {
		if v >= int64(len(w.m.types)) {
			return p, malformed(w.where, "block type index %d out of range", v)
		}
		return q, nil
	}
	if q != p+1 || (w.src[p] != 0x40 && !isValType(w.src[p])) {
		return p, unsupported(w.where, "block type 0x%02x", w.src[p])
	}
	return q, nil
}

// expr walks instructions from p until the `end` that closes the
// expression and returns the position after it.
func (w *walker) expr(p int) (int, error) {
	depth := 0
	src := w.src
	var err error
	for {
		if p >= len(src) {
			return p, malformed(w.where, "expression has no end")
		}
		at := p
		op := src[p]
		p++
		switch {
		case op == 0x00 || op == 0x01 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
			// unreachable, nop, return, drop, select, ref.is_null
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			depth++
			p, err = w.blockType(p)
		case op == 0x05: // else
			if depth == 0 {
				return at, malformed(w.where, "else outside of if")
			}
		case op == 0x0b: // end
			if depth == 0 {
				return p, nil
			}
			depth--
		case op == 0x0c || op == 0x0d: // br, br_if
			p, err = w.anyU32(p)
		case op == 0x0e: // br_table
			var n uint32
			if n, p, err = readU32(src, p); err != nil {
				return p, wrapAt(w.where, err)
			}
			if uint64(n) > uint64(len(src)-p) { // each label takes at least one byte
				return p, malformed(w.where, "br_table with %d labels", n)
			}
			for i := uint32(0); i <= n && err == nil; i++ {
				p, err = w.anyU32(p)
			}
		case op == 0x10: // call
			p, err = w.funcIdx(p)
		case op == 0x11: // call_indirect typeidx tableidx
			if p, err = w.u32(p, uint32(len(w.m.types)), "type"); err == nil {
				p, err = w.u32(p, w.m.numTables, "table")
			}
		case op == 0x1c: // select t*
			var n uint32
			if n, p, err = readU32(src, p); err != nil {
				return p, wrapAt(w.where, err)
			}
			if n != 1 || p >= len(src) || !isValType(src[p]) {
				return at, malformed(w.where, "typed select")
			}
			p++
		case op >= 0x20 && op <= 0x22: // local.get/set/tee
			p, err = w.anyU32(p)
		case op == 0x23 || op == 0x24: // global.get/set
			p, err = w.u32(p, w.m.numGlobals, "global")
		case op == 0x25 || op == 0x26: // table.get/set
			p, err = w.u32(p, w.m.numTables, "table")
		case op >= 0x28 && op <= 0x3e: // loads and stores
			p, err = w.memarg(p)
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			p, err = w.memIdx(p)
		case op == 0x41: // i32.const
			p, err = skipSigned(src, p, 32)
			err = wrapAt(w.where, err)
		case op == 0x42: // i64.const
			p, err = skipSigned(src, p, 64)
			err = wrapAt(w.where, err)
		case op == 0x43: // f32.const
			if p += 4; p > len(src) {
				return p, wrapAt(w.where, errTruncated)
			}
		case op == 0x44: // f64.const
			if p += 8; p > len(src) {
				return p, wrapAt(w.where, errTruncated)
			}
		case op >= 0x45 && op <= 0xc4:
			// numeric instructions (0x45–0xbf) and sign extension (0xc0–0xc4)
		case op == 0xd0: // ref.null t
			if p >= len(src) || !isRefType(src[p]) {
				return at, malformed(w.where, "ref.null type")
			}
			p++
		case op == 0xd2: // ref.func
			p, err = w.funcIdx(p)
		case op == 0xfc:
			p, err = w.prefixFC(p)
		default:
			return at, unsupported(w.where, "opcode 0x%02x at offset %d (%s)", op, at, opcodeFamily(op))
		}
		if err != nil {
			return p, err
		}
	}
}

// prefixFC walks the 0xFC family: saturating truncation (0–7), bulk memory
// and table instructions (8–17).
func (w *walker) prefixFC(p int) (int, error) {
	sub, q, err := readU32(w.src, p)
	if err != nil {
		return p, wrapAt(w.where, err)
	}
	p = q
	switch {
	case sub <= 7:
		return p, nil
	case sub == 8: // memory.init dataidx memidx
		if p, err = w.dataIdx(p); err != nil {
			return p, err
		}
		return w.memIdx(p)
	case sub == 9: // data.drop
		return w.dataIdx(p)
	case sub == 10: // memory.copy
		if p, err = w.memIdx(p); err != nil {
			return p, err
		}
		return w.memIdx(p)
	case sub == 11: // memory.fill
		return w.memIdx(p)
	case sub == 12: // table.init elemidx tableidx
		if p, err = w.u32(p, w.m.numElems, "element segment"); err != nil {
			return p, err
		}
		return w.u32(p, w.m.numTables, "table")
	case sub == 13: // elem.drop
		return w.u32(p, w.m.numElems, "element segment")
	case sub == 14: // table.copy
		if p, err = w.u32(p, w.m.numTables, "table"); err != nil {
			return p, err
		}
		return w.u32(p, w.m.numTables, "table")
	case sub >= 15 && sub <= 17: // table.grow, table.size, table.fill
		return w.u32(p, w.m.numTables, "table")
	}
	return p, unsupported(w.where, "opcode 0xfc %d", sub)
}

func (w *walker) dataIdx(p int) (int, error) {
	if !w.m.hasDataCount {
		return p, malformed(w.where, "data segment instruction without a data count section")
	}
	return w.u32(p, w.m.numData, "data segment")
}

// opcodeFamily names the proposal an unknown opcode most likely belongs to,
// so the refusal says what to turn off.
func opcodeFamily(op byte) string {
	switch op {
	case 0x06, 0x07, 0x08, 0x09, 0x18, 0x19, 0x1f:
		return "exception handling"
	case 0x12, 0x13:
		return "tail calls"
	case 0x14, 0x15, 0xd3, 0xd4, 0xd5, 0xd6, 0xfb:
		return "typed function references / GC"
	case 0xfd:
		return "SIMD"
	case 0xfe:
		return "threads / atomics"
	}
	return "unknown opcode"
}

// body walks one code-section entry (locals and expression) occupying all
// of src.
func (w *walker) body() error {
	n, p, err := readU32(w.src, 0)
	if err != nil {
		return wrapAt(w.where, err)
	}
	var total uint64
	for i := uint32(0); i < n; i++ {
		var c uint32
		if c, p, err = readU32(w.src, p); err != nil {
			return wrapAt(w.where, err)
		}
		if total += uint64(c); total > 1<<32-1 {
			return malformed(w.where, "too many locals")
		}
		if p >= len(w.src) || !isValType(w.src[p]) {
			return malformed(w.where, "bad local type")
		}
		p++
	}
	end, err := w.expr(p)
	if err != nil {
		return err
	}
	if end != len(w.src) {
		return malformed(w.where, "%d bytes after the function's end", len(w.src)-end)
	}
	return nil
}
