package compat

// The structural view of a module: just what the pass needs to find every
// function index and to know the signatures of imports.

// Value types (core spec §5.3.3, plus v128 and reference types).
const (
	valI32       = 0x7f
	valI64       = 0x7e
	valF32       = 0x7d
	valF64       = 0x7c
	valV128      = 0x7b
	valFuncref   = 0x70
	valExternref = 0x6f
)

func isValType(b byte) bool {
	switch b {
	case valI32, valI64, valF32, valF64, valV128, valFuncref, valExternref:
		return true
	}
	return false
}

func isRefType(b byte) bool { return b == valFuncref || b == valExternref }

// funcType is a function signature as raw value-type bytes.
type funcType struct {
	params, results string
}

// importEntry is one import, with its raw bytes so it can be copied as is.
type importEntry struct {
	module, name string
	kind         byte   // 0 func, 1 table, 2 memory, 3 global
	typeIdx      uint32 // functions only
	raw          []byte
}

// module is the parsed view. Slices alias the input bytes.
type module struct {
	sections []*section
	bySec    map[byte]*section

	types        []funcType
	imports      []importEntry
	numFuncImps  uint32
	numMemories  uint32
	funcTypes    []uint32 // type index of each defined function
	funcTypesRaw [][]byte // their raw LEB128 encodings
	numTables    uint32
	numGlobals   uint32
	numElems     uint32
	numData      uint32
	hasDataCount bool
}

func (m *module) numFuncs() uint32 { return m.numFuncImps + uint32(len(m.funcTypes)) }

// parseModule reads every section the pass depends on and validates the
// parts it relies on. Code, element, export and global contents are walked
// later by the rewriter, which validates them as it goes.
func parseModule(b []byte) (*module, error) {
	secs, err := readSections(b)
	if err != nil {
		return nil, err
	}
	m := &module{sections: secs, bySec: map[byte]*section{}}
	for _, s := range secs {
		if s.id != secCustom {
			m.bySec[s.id] = s
		}
	}
	if s := m.bySec[secType]; s != nil {
		if err := m.parseTypes(s.payload); err != nil {
			return nil, wrapAt("type section", err)
		}
	}
	if s := m.bySec[secImport]; s != nil {
		if err := m.parseImports(s.payload); err != nil {
			return nil, wrapAt("import section", err)
		}
	}
	if s := m.bySec[secFunction]; s != nil {
		if err := m.parseFunctions(s.payload); err != nil {
			return nil, wrapAt("function section", err)
		}
	}
	if s := m.bySec[secTable]; s != nil {
		n, err := countVec(s.payload, func(b []byte, p int) (int, error) {
			if p >= len(b) {
				return p, errTruncated
			}
			if !isRefType(b[p]) {
				return p, malformed("table", "element type 0x%02x", b[p])
			}
			return readLimits(b, p+1)
		})
		if err != nil {
			return nil, wrapAt("table section", err)
		}
		m.numTables += n
	}
	if s := m.bySec[secMemory]; s != nil {
		n, err := countVec(s.payload, readLimits)
		if err != nil {
			return nil, wrapAt("memory section", err)
		}
		m.numMemories += n
	}
	if s := m.bySec[secGlobal]; s != nil {
		n, _, err := readU32(s.payload, 0)
		if err != nil {
			return nil, wrapAt("global section", err)
		}
		m.numGlobals += n // contents are walked by the rewriter
	}
	if s := m.bySec[secElement]; s != nil {
		n, _, err := readU32(s.payload, 0)
		if err != nil {
			return nil, wrapAt("element section", err)
		}
		m.numElems = n
	}
	if s := m.bySec[secDataCount]; s != nil {
		n, p, err := readU32(s.payload, 0)
		if err != nil || p != len(s.payload) {
			return nil, malformed("datacount section", "bad contents")
		}
		m.numData, m.hasDataCount = n, true
	} else if s := m.bySec[secData]; s != nil {
		n, _, err := readU32(s.payload, 0)
		if err != nil {
			return nil, wrapAt("data section", err)
		}
		m.numData = n
	}
	code := m.bySec[secCode]
	nCode := uint32(0)
	if code != nil {
		if nCode, _, err = readU32(code.payload, 0); err != nil {
			return nil, wrapAt("code section", err)
		}
	}
	if nCode != uint32(len(m.funcTypes)) {
		return nil, malformed("code section", "%d bodies for %d declared functions", nCode, len(m.funcTypes))
	}
	return m, nil
}

func (m *module) parseTypes(b []byte) error {
	n, p, err := readU32(b, 0)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if p >= len(b) {
			return errTruncated
		}
		if b[p] != 0x60 {
			return unsupported("type section", "type form 0x%02x (only plain function types are handled)", b[p])
		}
		var ft funcType
		if ft.params, p, err = readValTypes(b, p+1); err != nil {
			return err
		}
		if ft.results, p, err = readValTypes(b, p); err != nil {
			return err
		}
		m.types = append(m.types, ft)
	}
	if p != len(b) {
		return malformed("type section", "trailing bytes")
	}
	return nil
}

func readValTypes(b []byte, p int) (string, int, error) {
	n, p, err := readU32(b, p)
	if err != nil {
		return "", p, err
	}
	if uint64(p)+uint64(n) > uint64(len(b)) {
		return "", p, errTruncated
	}
	for _, t := range b[p : p+int(n)] {
		if !isValType(t) {
			return "", p, unsupported("type section", "value type 0x%02x", t)
		}
	}
	return string(b[p : p+int(n)]), p + int(n), nil
}

func (m *module) parseImports(b []byte) error {
	n, p, err := readU32(b, 0)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		start := p
		var e importEntry
		if e.module, p, err = readName(b, p); err != nil {
			return err
		}
		if e.name, p, err = readName(b, p); err != nil {
			return err
		}
		if p >= len(b) {
			return errTruncated
		}
		e.kind = b[p]
		p++
		switch e.kind {
		case 0:
			if e.typeIdx, p, err = readU32(b, p); err != nil {
				return err
			}
			if e.typeIdx >= uint32(len(m.types)) {
				return malformed("import "+quote(e.module+"."+e.name), "type index %d out of range", e.typeIdx)
			}
			m.numFuncImps++
		case 1:
			if p >= len(b) || !isRefType(b[p]) {
				return malformed("import "+quote(e.module+"."+e.name), "bad table type")
			}
			if p, err = readLimits(b, p+1); err != nil {
				return err
			}
			m.numTables++
		case 2:
			if p, err = readLimits(b, p); err != nil {
				return err
			}
			m.numMemories++
		case 3:
			if p+2 > len(b) || !isValType(b[p]) || b[p+1] > 1 {
				return malformed("import "+quote(e.module+"."+e.name), "bad global type")
			}
			p += 2
			m.numGlobals++
		default:
			return unsupported("import "+quote(e.module+"."+e.name), "import kind %d", e.kind)
		}
		e.raw = b[start:p]
		m.imports = append(m.imports, e)
	}
	if p != len(b) {
		return malformed("import section", "trailing bytes")
	}
	return nil
}

func (m *module) parseFunctions(b []byte) error {
	n, p, err := readU32(b, 0)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		start := p
		var t uint32
		if t, p, err = readU32(b, p); err != nil {
			return err
		}
		if t >= uint32(len(m.types)) {
			return malformed("function section", "type index %d out of range", t)
		}
		m.funcTypes = append(m.funcTypes, t)
		m.funcTypesRaw = append(m.funcTypesRaw, b[start:p])
	}
	if p != len(b) {
		return malformed("function section", "trailing bytes")
	}
	return nil
}

// readLimits skips table or memory limits. Shared memories (flag 2/3) are
// fine; memory64 and other extensions are refused.
func readLimits(b []byte, p int) (int, error) {
	if p >= len(b) {
		return p, errTruncated
	}
	flags := b[p]
	if flags > 3 {
		return p, unsupported("limits", "flags 0x%02x (memory64 and custom page sizes are not handled)", flags)
	}
	var err error
	if _, p, err = readU32(b, p+1); err != nil {
		return p, err
	}
	if flags&1 != 0 {
		if _, p, err = readU32(b, p); err != nil {
			return p, err
		}
	}
	return p, nil
}

// countVec reads a vector whose items are skipped by item, and checks that
// it fills the payload exactly.
func countVec(b []byte, item func([]byte, int) (int, error)) (uint32, error) {
	n, p, err := readU32(b, 0)
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if p, err = item(b, p); err != nil {
			return 0, err
		}
	}
	if p != len(b) {
		return 0, malformed("vector", "trailing bytes")
	}
	return n, nil
}
