package compat

import (
	"bytes"
	"strconv"
	"strings"
)

// Section ids from the WebAssembly core specification (§5.5).
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory",
	"global", "export", "start", "element", "code", "data", "datacount", "tag"}

// sectionOrder is the position each known non-custom section must take.
var sectionOrder = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6,
	secGlobal: 7, secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// section is one section of the binary exactly as read.
type section struct {
	id        byte
	sizeWidth int    // width of the size LEB128 in the original
	payload   []byte // contents (aliases the input)
	name      string // custom sections only
	raw       []byte // id + size + payload, as read (aliases the input)
}

// readSections splits a binary into sections and checks their order. It
// does not look inside non-custom payloads.
func readSections(b []byte) ([]*section, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], wasmHeader[:4]) {
		return nil, malformed("header", "not a WebAssembly binary")
	}
	if !bytes.Equal(b[4:8], wasmHeader[4:]) {
		return nil, unsupported("header", "binary format version %x (want 1: components and other layers are not handled)", b[4:8])
	}
	var out []*section
	last := 0
	pos := 8
	for pos < len(b) {
		start := pos
		id := b[pos]
		pos++
		size, p, err := readU32(b, pos)
		if err != nil {
			return nil, wrapAt("section header", err)
		}
		width := p - pos
		pos = p
		if uint64(pos)+uint64(size) > uint64(len(b)) {
			return nil, malformed("section "+strconv.Itoa(int(id)), "size %d runs past the end of the module", size)
		}
		s := &section{id: id, sizeWidth: width, payload: b[pos : pos+int(size)], raw: b[start : pos+int(size)]}
		pos += int(size)
		if id == secCustom {
			n, _, err := readName(s.payload, 0)
			if err != nil {
				return nil, wrapAt("custom section name", err)
			}
			s.name = n
			if err := checkCustom(s.name); err != nil {
				return nil, err
			}
		} else {
			ord, ok := sectionOrder[id]
			if !ok {
				return nil, malformed("section", "unknown section id %d", id)
			}
			if ord <= last {
				return nil, malformed(sectionNames[id]+" section", "out of order or repeated")
			}
			last = ord
			if id == secTag {
				return nil, unsupported("tag section", "exception handling is not supported")
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// checkCustom refuses custom sections whose contents point into the code or
// the function index space in ways the pass does not update.
func checkCustom(name string) error {
	switch {
	case strings.HasPrefix(name, ".debug_"), name == "sourceMappingURL", name == "external_debug_info":
		return unsupported("custom section "+quote(name), "debug information refers to code offsets, which the pass would change; build without it (TinyGo: -no-debug)")
	case name == "linking", strings.HasPrefix(name, "reloc."), strings.HasPrefix(name, "dylink"):
		return unsupported("custom section "+quote(name), "object files and dynamic-linking modules are not handled; pass a final module")
	}
	return nil
}

// readName reads a length-prefixed UTF-8 name.
func readName(b []byte, pos int) (string, int, error) {
	n, p, err := readU32(b, pos)
	if err != nil {
		return "", pos, err
	}
	if uint64(p)+uint64(n) > uint64(len(b)) {
		return "", pos, errTruncated
	}
	return string(b[p : p+int(n)]), p + int(n), nil
}

// appendSection appends a section with the given payload, keeping the
// original size width where the new size fits.
func appendSection(dst []byte, id byte, width int, payload []byte) []byte {
	dst = append(dst, id)
	dst = appendU32Width(dst, uint32(len(payload)), width)
	return append(dst, payload...)
}

func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == 0xfffd {
			b.WriteString("\\x")
			b.WriteByte("0123456789abcdef"[(r>>4)&0xf])
			b.WriteByte("0123456789abcdef"[r&0xf])
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
