package compat

import (
	"bytes"
	"sort"
)

// Config selects what Rewrite replaces. The zero value is the default.
type Config struct {
	// Replace names the WASI functions (in both wasi_snapshot_preview1 and
	// wasi_unstable) to define inside the module. Nil means
	// DefaultReplacements(); every name must be in KnownReplacements().
	Replace []string
}

// Replacement records one import that Rewrite turned into a defined
// function.
type Replacement struct {
	Module, Name string
	OldIndex     uint32 // function index of the import in the input
	NewIndex     uint32 // function index of the defined function in the output
}

// Rewrite returns the module with the selected WASI imports replaced by
// functions defined inside it and every function index renumbered. It
// validates the whole module as it goes and refuses, with an error wrapping
// ErrMalformed or ErrUnsupported, anything it cannot walk completely. A
// module that imports none of the selected functions comes back unchanged
// (a copy of the input), so Rewrite(Rewrite(m)) == Rewrite(m).
//
// # Notes
//
//   - Rewrite checks structure and every index it touches, but it is not a
//     full validator: callers should compile the result (the wasmcompat
//     command does, with wazero).
//   - The input is not modified; the output does not alias it.
func Rewrite(in []byte, cfg Config) ([]byte, []Replacement, error) {
	names := cfg.Replace
	if names == nil {
		names = DefaultReplacements()
	}
	want := map[string]stub{}
	for _, n := range names {
		s, ok := stubs[n]
		if !ok {
			return nil, nil, unsupported("config", "no replacement known for %s", quote(n))
		}
		want[n] = s
	}
	m, err := parseModule(in)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.plan(want)
	if err != nil {
		return nil, nil, err
	}
	out, err := m.write(p)
	if err != nil {
		return nil, nil, err
	}
	if len(p.removed) == 0 {
		// Everything was walked and validated; hand back the input itself so
		// a second pass is exactly a no-op.
		return bytes.Clone(in), nil, nil
	}
	return out, p.replacements, nil
}

// Import is one entry of a module's import section.
type Import struct {
	Module, Name string
	Kind         string // "func", "table", "memory" or "global"
}

// Imports lists a module's imports in order. It parses only what it needs
// and is meant for checks such as "no WASI function missing from Envoy
// 1.21+".
func Imports(module []byte) ([]Import, error) {
	m, err := parseModule(module)
	if err != nil {
		return nil, err
	}
	kinds := [...]string{"func", "table", "memory", "global"}
	out := make([]Import, 0, len(m.imports))
	for _, e := range m.imports {
		out = append(out, Import{Module: e.module, Name: e.name, Kind: kinds[e.kind]})
	}
	return out, nil
}

// plan is the renumbering: which imports go, and where every function lands.
type plan struct {
	removed      map[int]bool // positions in m.imports
	stubs        []stub       // in the order they are appended
	stubTypes    []uint32
	remap        []uint32 // nil when nothing moves
	replacements []Replacement
}

func (m *module) plan(want map[string]stub) (*plan, error) {
	p := &plan{removed: map[int]bool{}}
	fi := uint32(0)
	var removedIdx []uint32
	for i, e := range m.imports {
		if e.kind != 0 {
			continue
		}
		idx := fi
		fi++
		if e.module != wasiPreview1 && e.module != wasiUnstable {
			continue
		}
		s, ok := want[e.name]
		if !ok {
			continue
		}
		where := "import " + quote(e.module+"."+e.name)
		if t := m.types[e.typeIdx]; t.params != s.params || t.results != s.results {
			return nil, unsupported(where, "unexpected signature; refusing to replace it")
		}
		if s.needsMemory && m.numMemories == 0 {
			return nil, unsupported(where, "module has no memory for the replacement to write to")
		}
		p.removed[i] = true
		p.stubs = append(p.stubs, s)
		// The import's own type index has exactly the right signature.
		p.stubTypes = append(p.stubTypes, e.typeIdx)
		removedIdx = append(removedIdx, idx)
		p.replacements = append(p.replacements, Replacement{Module: e.module, Name: e.name, OldIndex: idx})
	}
	if len(removedIdx) == 0 {
		return p, nil
	}
	n := m.numFuncs()
	k := uint32(len(removedIdx))
	p.remap = make([]uint32, n)
	next, shift := uint32(0), uint32(0)
	for old := uint32(0); old < n; old++ {
		if int(shift) < len(removedIdx) && removedIdx[shift] == old {
			p.remap[old] = n - k + shift // appended after every defined function
			p.replacements[shift].NewIndex = p.remap[old]
			shift++
			continue
		}
		p.remap[old] = next
		next++
	}
	return p, nil
}

// write assembles the output: every section that can mention a function
// index is re-encoded (copying all other bytes), the rest are copied raw.
func (m *module) write(p *plan) ([]byte, error) {
	out := make([]byte, 0, len(m.sections)*16+64)
	out = append(out, wasmHeader...)
	for _, s := range m.sections {
		var payload []byte
		var err error
		switch {
		case s.id == secImport:
			payload, err = m.writeImports(s, p)
		case s.id == secFunction:
			payload, err = m.writeFunctions(s, p)
		case s.id == secGlobal:
			payload, err = m.writeGlobals(s, p)
		case s.id == secExport:
			payload, err = m.writeExports(s, p)
		case s.id == secStart:
			payload, err = m.writeStart(s, p)
		case s.id == secElement:
			payload, err = m.writeElements(s, p)
		case s.id == secCode:
			payload, err = m.writeCode(s, p)
		case s.id == secCustom && s.name == "name":
			payload, err = m.writeNames(s, p)
		default:
			out = append(out, s.raw...)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = appendSection(out, s.id, s.sizeWidth, payload)
	}
	if len(p.stubs) > 0 && (m.bySec[secFunction] == nil || m.bySec[secCode] == nil) {
		// The stubs need a function and a code section; a module without
		// defined functions is not something a toolchain emits.
		return nil, unsupported("function section", "module defines no functions")
	}
	return out, nil
}

func (m *module) writeImports(s *section, p *plan) ([]byte, error) {
	_, q, _ := readU32(s.payload, 0) // already parsed
	out := appendU32Width(nil, uint32(len(m.imports)-len(p.removed)), q)
	for i, e := range m.imports {
		if !p.removed[i] {
			out = append(out, e.raw...)
		}
	}
	return out, nil
}

func (m *module) writeFunctions(s *section, p *plan) ([]byte, error) {
	_, q, _ := readU32(s.payload, 0)
	out := appendU32Width(nil, uint32(len(m.funcTypes)+len(p.stubs)), q)
	for _, raw := range m.funcTypesRaw {
		out = append(out, raw...)
	}
	for _, t := range p.stubTypes {
		out = appendU32(out, t)
	}
	return out, nil
}

func (m *module) walker(src []byte, p *plan, where string) *walker {
	return &walker{m: m, remap: p.remap, src: src, where: where, out: make([]byte, 0, len(src)+8)}
}

func (m *module) writeGlobals(s *section, p *plan) ([]byte, error) {
	w := m.walker(s.payload, p, "global section")
	n, pos, err := readU32(s.payload, 0)
	if err != nil {
		return nil, wrapAt(w.where, err)
	}
	for i := uint32(0); i < n; i++ {
		if pos+2 > len(s.payload) || !isValType(s.payload[pos]) || s.payload[pos+1] > 1 {
			return nil, malformed(w.where, "bad global type")
		}
		if pos, err = w.expr(pos + 2); err != nil {
			return nil, err
		}
	}
	if pos != len(s.payload) {
		return nil, malformed(w.where, "trailing bytes")
	}
	return w.flush(), nil
}

func (m *module) writeExports(s *section, p *plan) ([]byte, error) {
	w := m.walker(s.payload, p, "export section")
	n, pos, err := readU32(s.payload, 0)
	if err != nil {
		return nil, wrapAt(w.where, err)
	}
	for i := uint32(0); i < n; i++ {
		var name string
		if name, pos, err = readName(s.payload, pos); err != nil {
			return nil, wrapAt(w.where, err)
		}
		if pos >= len(s.payload) {
			return nil, wrapAt(w.where, errTruncated)
		}
		kind := s.payload[pos]
		pos++
		w.where = "export " + quote(name)
		switch kind {
		case 0:
			pos, err = w.funcIdx(pos)
		case 1:
			pos, err = w.u32(pos, m.numTables, "table")
		case 2:
			pos, err = w.u32(pos, m.numMemories, "memory")
		case 3:
			pos, err = w.u32(pos, m.numGlobals, "global")
		default:
			err = unsupported(w.where, "export kind %d", kind)
		}
		if err != nil {
			return nil, err
		}
	}
	if pos != len(s.payload) {
		return nil, malformed("export section", "trailing bytes")
	}
	return w.flush(), nil
}

func (m *module) writeStart(s *section, p *plan) ([]byte, error) {
	w := m.walker(s.payload, p, "start section")
	pos, err := w.funcIdx(0)
	if err != nil {
		return nil, err
	}
	if pos != len(s.payload) {
		return nil, malformed(w.where, "trailing bytes")
	}
	return w.flush(), nil
}

// writeElements walks the eight element segment encodings (core spec
// §5.5.12): flag bit 0 passive/declarative, bit 1 explicit table or
// declarative, bit 2 expressions instead of function indices.
func (m *module) writeElements(s *section, p *plan) ([]byte, error) {
	w := m.walker(s.payload, p, "element section")
	b := s.payload
	n, pos, err := readU32(b, 0)
	if err != nil {
		return nil, wrapAt(w.where, err)
	}
	for i := uint32(0); i < n; i++ {
		var flags uint32
		if flags, pos, err = readU32(b, pos); err != nil {
			return nil, wrapAt(w.where, err)
		}
		if flags > 7 {
			return nil, malformed(w.where, "segment flags %d", flags)
		}
		active := flags&1 == 0
		if flags == 2 || flags == 6 { // explicit table index
			if pos, err = w.u32(pos, m.numTables, "table"); err != nil {
				return nil, err
			}
		}
		if active {
			if m.numTables == 0 {
				return nil, malformed(w.where, "active segment without a table")
			}
			if pos, err = w.expr(pos); err != nil { // offset
				return nil, err
			}
		}
		if flags != 0 && flags != 4 { // elemkind or reftype byte
			if pos >= len(b) {
				return nil, wrapAt(w.where, errTruncated)
			}
			if flags < 4 && b[pos] != 0x00 || flags >= 4 && !isRefType(b[pos]) {
				return nil, malformed(w.where, "element kind 0x%02x", b[pos])
			}
			pos++
		}
		var count uint32
		if count, pos, err = readU32(b, pos); err != nil {
			return nil, wrapAt(w.where, err)
		}
		if uint64(count) > uint64(len(b)-pos) {
			return nil, malformed(w.where, "segment of %d entries", count)
		}
		for j := uint32(0); j < count && err == nil; j++ {
			if flags < 4 {
				pos, err = w.funcIdx(pos)
			} else {
				pos, err = w.expr(pos)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if pos != len(b) {
		return nil, malformed(w.where, "trailing bytes")
	}
	return w.flush(), nil
}

func (m *module) writeCode(s *section, p *plan) ([]byte, error) {
	b := s.payload
	n, pos, err := readU32(b, 0)
	if err != nil {
		return nil, wrapAt("code section", err)
	}
	out := make([]byte, 0, len(b)+64)
	out = appendU32Width(out, n+uint32(len(p.stubs)), pos)
	for i := uint32(0); i < n; i++ {
		size, q, err := readU32(b, pos)
		if err != nil {
			return nil, wrapAt("code section", err)
		}
		width := q - pos
		if uint64(q)+uint64(size) > uint64(len(b)) {
			return nil, malformed("code section", "body %d runs past the section", i)
		}
		fn := m.numFuncImps + i
		w := m.walker(b[q:q+int(size)], p, "function "+itoaU(fn))
		if err := w.body(); err != nil {
			return nil, err
		}
		body := w.flush()
		out = appendU32Width(out, uint32(len(body)), width)
		out = append(out, body...)
		pos = q + int(size)
	}
	if pos != len(b) {
		return nil, malformed("code section", "trailing bytes")
	}
	for _, st := range p.stubs {
		out = appendU32(out, uint32(len(st.body)))
		out = append(out, st.body...)
	}
	return out, nil
}

// writeNames renumbers the "name" custom section: function names
// (subsection 1), local names (2) and label names (3) are keyed by function
// index; the other known subsections are copied. Entries are re-sorted,
// because the replaced imports move to the end of the index space.
func (m *module) writeNames(s *section, p *plan) ([]byte, error) {
	b := s.payload
	_, pos, err := readName(b, 0)
	if err != nil {
		return nil, wrapAt("name section", err)
	}
	out := append([]byte(nil), b[:pos]...)
	for pos < len(b) {
		id := b[pos]
		size, q, err := readU32(b, pos+1)
		if err != nil {
			return nil, wrapAt("name section", err)
		}
		if uint64(q)+uint64(size) > uint64(len(b)) {
			return nil, malformed("name section", "subsection %d runs past the end", id)
		}
		sub := b[q : q+int(size)]
		switch {
		case id == 1 || id == 2 || id == 3:
			nsub, err := m.renameMap(sub, p, id != 1, id)
			if err != nil {
				return nil, err
			}
			out = append(out, id)
			out = appendU32Width(out, uint32(len(nsub)), q-pos-1)
			out = append(out, nsub...)
		case id <= 11:
			// module, type, table, memory, global, element, data, field and
			// tag names: no function indices.
			out = append(out, b[pos:q+int(size)]...)
		default:
			return nil, unsupported("name section", "unknown subsection %d", id)
		}
		pos = q + int(size)
	}
	return out, nil
}

// renameMap renumbers a name map (vec of index + name) or an indirect name
// map (vec of index + name map) keyed by function index.
func (m *module) renameMap(b []byte, p *plan, indirect bool, id byte) ([]byte, error) {
	where := "name subsection " + itoaU(uint32(id))
	n, pos, err := readU32(b, 0)
	if err != nil {
		return nil, wrapAt(where, err)
	}
	if uint64(n) > uint64(len(b)) {
		return nil, malformed(where, "%d entries", n)
	}
	type entry struct {
		idx   uint32
		width int
		rest  []byte
	}
	entries := make([]entry, 0, n)
	for i := uint32(0); i < n; i++ {
		idx, q, err := readU32(b, pos)
		if err != nil {
			return nil, wrapAt(where, err)
		}
		if idx >= m.numFuncs() {
			return nil, malformed(where, "function index %d out of range", idx)
		}
		r := q
		if indirect {
			var inner uint32
			if inner, r, err = readU32(b, r); err != nil {
				return nil, wrapAt(where, err)
			}
			for j := uint32(0); j < inner && err == nil; j++ {
				if _, r, err = readU32(b, r); err == nil {
					_, r, err = readName(b, r)
				}
			}
		} else {
			_, r, err = readName(b, r)
		}
		if err != nil {
			return nil, wrapAt(where, err)
		}
		if p.remap != nil {
			idx = p.remap[idx]
		}
		entries = append(entries, entry{idx: idx, width: q - pos, rest: b[q:r]})
		pos = r
	}
	if pos != len(b) {
		return nil, malformed(where, "trailing bytes")
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].idx < entries[j].idx })
	_, q, _ := readU32(b, 0)
	out := appendU32Width(make([]byte, 0, len(b)+8), n, q)
	for _, e := range entries {
		out = appendU32Width(out, e.idx, e.width)
		out = append(out, e.rest...)
	}
	return out, nil
}

func itoaU(v uint32) string {
	var buf [10]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(buf[i:])
		}
	}
}
