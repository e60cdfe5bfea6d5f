package wasmfile

import (
	"bytes"
	"strconv"
)

// Section ids (WebAssembly core specification §5.5).
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
	SecTag       = 13
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory",
	"global", "export", "start", "element", "code", "data", "datacount", "tag"}

// sectionOrder is the position each non-custom section must take.
var sectionOrder = map[byte]int{
	SecType: 1, SecImport: 2, SecFunction: 3, SecTable: 4, SecMemory: 5, SecTag: 6,
	SecGlobal: 7, SecExport: 8, SecStart: 9, SecElement: 10, SecDataCount: 11, SecCode: 12, SecData: 13,
}

var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Section is one section of a module as read.
type Section struct {
	ID      byte
	Name    string // custom sections: their name; others: the section kind ("code", "data", …)
	Offset  int    // position of the id byte in the module
	Size    int    // whole section in bytes: id, size LEB128 and payload
	Payload []byte // contents after the size (aliases the module)
}

// Sections splits a module into its sections, checking the header, that
// every section fits and that non-custom sections are known and in order.
// It does not look inside non-custom payloads.
func Sections(module []byte) ([]Section, error) {
	if len(module) < 8 || !bytes.Equal(module[:4], wasmHeader[:4]) {
		return nil, malformed("header", "not a WebAssembly binary")
	}
	if !bytes.Equal(module[4:8], wasmHeader[4:]) {
		return nil, unsupported("header", "binary format version %x (want 1)", module[4:8])
	}
	var out []Section
	last := 0
	for pos := 8; pos < len(module); {
		start := pos
		id := module[pos]
		size, p, err := readU32(module, pos+1)
		if err != nil {
			return nil, wrapAt("section header at "+strconv.Itoa(start), err)
		}
		if uint64(p)+uint64(size) > uint64(len(module)) {
			return nil, malformed("section at "+strconv.Itoa(start), "size %d runs past the end of the module", size)
		}
		s := Section{ID: id, Offset: start, Size: p + int(size) - start, Payload: module[p : p+int(size)]}
		pos = p + int(size)
		if id == SecCustom {
			name, _, err := readName(s.Payload, 0)
			if err != nil {
				return nil, wrapAt("custom section name", err)
			}
			s.Name = name
		} else {
			ord, ok := sectionOrder[id]
			if !ok {
				return nil, malformed("section at "+strconv.Itoa(start), "unknown section id %d", id)
			}
			if ord <= last {
				return nil, malformed(sectionNames[id]+" section", "out of order or repeated")
			}
			last = ord
			s.Name = sectionNames[id]
		}
		out = append(out, s)
	}
	return out, nil
}

// readName reads a length-prefixed name.
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

// find returns the first section with the given id, or nil.
func find(secs []Section, id byte) *Section {
	for i := range secs {
		if secs[i].ID == id {
			return &secs[i]
		}
	}
	return nil
}
