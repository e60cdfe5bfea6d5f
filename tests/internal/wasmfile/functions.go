package wasmfile

import "strconv"

// Function is one defined function of a module.
type Function struct {
	Index uint32 // in the function index space (imported functions first)
	Name  string // from the "name" section; empty when it has none
	Size  int    // bytes of its code section entry: size LEB128 and body
}

// Functions lists a module's defined functions with their code sizes and
// names, in code section order. It is a reader for size reports, not a
// validator.
func Functions(module []byte) ([]Function, error) {
	secs, err := Sections(module)
	if err != nil {
		return nil, err
	}
	imported := uint32(0)
	if s := find(secs, SecImport); s != nil {
		if imported, err = importedFunctions(s.Payload); err != nil {
			return nil, wrapAt("import section", err)
		}
	}
	var fns []Function
	if s := find(secs, SecCode); s != nil {
		if fns, err = codeEntries(s.Payload, imported); err != nil {
			return nil, wrapAt("code section", err)
		}
	}
	for _, s := range secs {
		if s.ID != SecCustom || s.Name != "name" {
			continue
		}
		names, err := functionNames(s.Payload)
		if err != nil {
			return nil, wrapAt("name section", err)
		}
		for i := range fns {
			fns[i].Name = names[fns[i].Index]
		}
	}
	return fns, nil
}

// importedFunctions counts the function imports.
func importedFunctions(p []byte) (uint32, error) {
	n, pos, err := readU32(p, 0)
	if err != nil {
		return 0, err
	}
	funcs := uint32(0)
	for i := uint32(0); i < n; i++ {
		for j := 0; j < 2; j++ {
			if _, pos, err = readName(p, pos); err != nil {
				return 0, err
			}
		}
		if pos >= len(p) {
			return 0, errTruncated
		}
		kind := p[pos]
		pos++
		switch kind {
		case 0x00:
			funcs++
			_, pos, err = readU32(p, pos)
		case 0x01:
			pos, err = skipLimits(p, pos+1)
		case 0x02:
			pos, err = skipLimits(p, pos)
		case 0x03:
			pos += 2
		default:
			return 0, unsupported("import "+strconv.FormatUint(uint64(i), 10), "import kind 0x%02x", kind)
		}
		if err != nil {
			return 0, err
		}
	}
	return funcs, nil
}

// codeEntries reads the size of every code entry.
func codeEntries(p []byte, firstIndex uint32) ([]Function, error) {
	n, pos, err := readU32(p, 0)
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(p)) {
		return nil, malformed("code section", "%d entries in %d bytes", n, len(p))
	}
	fns := make([]Function, 0, n)
	for i := uint32(0); i < n; i++ {
		start := pos
		size, p2, err := readU32(p, pos)
		if err != nil {
			return nil, err
		}
		if uint64(p2)+uint64(size) > uint64(len(p)) {
			return nil, malformed("code entry "+strconv.FormatUint(uint64(i), 10), "runs past the end of the section")
		}
		pos = p2 + int(size)
		fns = append(fns, Function{Index: firstIndex + i, Size: pos - start})
	}
	return fns, nil
}

// functionNames reads the function-name subsection (id 1) of a "name"
// section payload (which starts with the section's own name).
func functionNames(p []byte) (map[uint32]string, error) {
	_, pos, err := readName(p, 0)
	if err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	for pos < len(p) {
		id := p[pos]
		size, start, err := readU32(p, pos+1)
		if err != nil {
			return nil, err
		}
		end := start + int(size)
		if uint64(start)+uint64(size) > uint64(len(p)) {
			return nil, malformed("name subsection", "runs past the end of the section")
		}
		pos = end
		if id != 1 {
			continue
		}
		sub := p[start:end]
		n, q, err := readU32(sub, 0)
		if err != nil {
			return nil, err
		}
		for i := uint32(0); i < n; i++ {
			var idx uint32
			var name string
			if idx, q, err = readU32(sub, q); err != nil {
				return nil, err
			}
			if name, q, err = readName(sub, q); err != nil {
				return nil, err
			}
			names[idx] = name
		}
	}
	return names, nil
}

// skipLimits skips a table or memory type's limits (flag, min, optional max).
func skipLimits(p []byte, pos int) (int, error) {
	if pos >= len(p) {
		return pos, errTruncated
	}
	flag := p[pos]
	if flag > 3 {
		return pos, unsupported("limits", "flag 0x%02x (64-bit or unknown)", flag)
	}
	_, pos, err := readU32(p, pos+1)
	if err == nil && flag&1 != 0 {
		_, pos, err = readU32(p, pos)
	}
	return pos, err
}
