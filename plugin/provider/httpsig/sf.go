package httpsig

import (
	"errors"
	"strings"
)

// A small, strict reader for the RFC 8941 Structured Field dictionaries
// RFC 9421 and RFC 9530 use: Signature-Input (inner lists of component
// names with parameters), Signature and Content-Digest (byte sequences).
// Duplicate dictionary keys are refused rather than "last wins", and
// component identifiers with parameters (;sf, ;key, ;bs, ;req, ;name) are
// refused as unsupported.
//
// The reader allocates nothing in the steady state (issue 7): a dict keeps
// its slices from one parse to the next, strings are views into the field
// value (only a string with escapes is copied), and byte sequences are
// decoded into the dict's own buffer. What a parse returns is therefore
// valid until the next parse with the same dict.

var errSF = errors.New("malformed structured field")

type param struct {
	name  string
	str   string // sf-string or token value
	num   int64
	isNum bool
	isStr bool // sf-string (quoted), as opposed to a token
}

type member struct {
	name   string
	inner  bool
	items  []string // inner list: the component identifiers
	bytes  []byte   // byte-sequence item
	params []param

	// raw is an inner list and its parameters as sent; canonical says it
	// is already what serialization would produce (single spaces, no space
	// after ';', integers without leading zeros), so it can be copied.
	raw       string
	canonical bool
}

// dict is a parsed dictionary plus the backing arrays its members' slices
// share; reuse one dict per field to parse without allocating.
type dict struct {
	members []member
	items   []string
	params  []param
	bytes   []byte
}

// Element counts past which releaseLarge drops a dict's arrays: far more
// than any real signature uses.
const (
	keepMembers = 16
	keepItems   = 128
	keepParams  = 32
)

// releaseLarge drops backing arrays that grew past what ordinary fields
// need (see Provider.releaseLargeScratch); the next parse allocates afresh.
func (d *dict) releaseLarge() {
	if cap(d.members) > keepMembers {
		d.members = nil
	}
	if cap(d.items) > keepItems {
		d.items = nil
	}
	if cap(d.params) > keepParams {
		d.params = nil
	}
	if cap(d.bytes) > scratchKeep {
		d.bytes = nil
	}
}

// parse reads s, replacing what d held before.
func (d *dict) parse(s string) error {
	d.members, d.items, d.params, d.bytes = d.members[:0], d.items[:0], d.params[:0], d.bytes[:0]
	i := skipSP(s, 0)
	if i == len(s) {
		return errSF
	}
	for {
		name, j, err := parseKey(s, i)
		if err != nil {
			return err
		}
		for k := range d.members {
			if d.members[k].name == name {
				return errSF
			}
		}
		if j >= len(s) || s[j] != '=' {
			return errSF // boolean true members are not used here
		}
		m, j, err := d.parseValue(s, j+1)
		if err != nil {
			return err
		}
		m.name = name
		d.members = append(d.members, m)
		j = skipOWS(s, j)
		if j == len(s) {
			return nil
		}
		if s[j] != ',' {
			return errSF
		}
		j = skipOWS(s, j+1)
		if j == len(s) {
			return errSF // trailing comma
		}
		i = j
	}
}

// parseValue reads a member's value at s[j]: an inner list or a byte
// sequence, then its parameters.
func (d *dict) parseValue(s string, j int) (m member, end int, err error) {
	start := j
	itemsCanon := false
	switch {
	case j < len(s) && s[j] == '(':
		m.inner = true
		m.items, itemsCanon, j, err = d.parseInner(s, j)
	case j < len(s) && s[j] == ':':
		m.bytes, j, err = d.parseBytes(s, j)
	default:
		err = errSF
	}
	if err != nil {
		return m, j, err
	}
	paramsCanon := false
	if m.params, paramsCanon, j, err = d.parseParams(s, j); err != nil {
		return m, j, err
	}
	if m.inner {
		m.raw, m.canonical = s[start:j], itemsCanon && paramsCanon
	}
	return m, j, nil
}

func skipSP(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

func parseKey(s string, i int) (string, int, error) {
	if i >= len(s) || !(isLCAlpha(s[i]) || s[i] == '*') {
		return "", i, errSF
	}
	j := i + 1
	for j < len(s) && (isLCAlpha(s[j]) || isDigit(s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.' || s[j] == '*') {
		j++
	}
	return s[i:j], j, nil
}

// parseInner reads an inner list of strings into d.items and returns the
// member's share of it (capped, so a later append cannot overwrite it),
// and whether its spacing is canonical: one space between items, none
// after '(' or before ')'. Strings are always canonical: '"' and '\\' are
// the only escapes there are, and both must be escaped.
func (d *dict) parseInner(s string, i int) (items []string, canonical bool, end int, err error) {
	i++ // (
	start := len(d.items)
	canonical = true
	for {
		from := i
		i = skipSP(s, i)
		if i >= len(s) {
			return nil, false, i, errSF
		}
		first := len(d.items) == start
		if s[i] == ')' {
			canonical = canonical && i == from
			return d.items[start:len(d.items):len(d.items)], canonical, i + 1, nil
		}
		if !first && s[i-1] != ' ' {
			return nil, false, i, errSF // items are separated by at least one space
		}
		canonical = canonical && (first && i == from || !first && i == from+1)
		if s[i] != '"' {
			return nil, false, i, errSF
		}
		v, j, err := parseString(s, i)
		if err != nil {
			return nil, false, j, err
		}
		if j < len(s) && s[j] == ';' {
			return nil, false, j, errUnsupportedComponent
		}
		d.items = append(d.items, v)
		i = j
		if len(d.items)-start > 64 {
			return nil, false, i, errSF
		}
	}
}

// parseString reads the sf-string at s[i]. Without escapes the result is a
// view into s; with them, a copy.
func parseString(s string, i int) (string, int, error) {
	i++ // opening quote
	for j := i; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i:j], j + 1, nil
		case c == '\\':
			return unescapeString(s, i)
		case c < 0x20 || c > 0x7e:
			return "", j, errSF
		}
	}
	return "", len(s), errSF
}

// unescapeString is parseString's slow path, for strings with escapes.
func unescapeString(s string, i int) (string, int, error) {
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", i, errSF
			}
			b.WriteByte(s[i+1])
			i += 2
		case c == '"':
			return b.String(), i + 1, nil
		case c < 0x20 || c > 0x7e:
			return "", i, errSF
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", i, errSF
}

// parseBytes decodes the byte sequence at s[i] into d.bytes and returns
// the member's share of it.
func (d *dict) parseBytes(s string, i int) ([]byte, int, error) {
	end := i + 1
	for ; end < len(s) && s[end] != ':'; end++ {
		if s[end] == '\r' || s[end] == '\n' {
			return nil, i, errSF // the decoder would skip them
		}
	}
	if end == len(s) {
		return nil, i, errSF
	}
	raw := s[i+1 : end]
	start := len(d.bytes)
	need := start + len(raw)/4*3
	if need > cap(d.bytes) {
		// Earlier members keep the old array; only growth allocates.
		grown := make([]byte, start, need+need/2)
		copy(grown, d.bytes)
		d.bytes = grown
	}
	n, ok := decodeBase64(d.bytes[start:need], raw)
	if !ok {
		return nil, i, errSF
	}
	d.bytes = d.bytes[:start+n]
	return d.bytes[start : start+n : start+n], end + 1, nil
}

// parseParams reads parameters into d.params and returns the member's
// share of it, and whether they are written canonically (no space after
// ';', integers as strconv formats them).
func (d *dict) parseParams(s string, i int) (params []param, canonical bool, end int, err error) {
	start := len(d.params)
	canonical = true
	for i < len(s) && s[i] == ';' {
		j := skipSP(s, i+1)
		canonical = canonical && j == i+1
		name, j, err := parseKey(s, j)
		if err != nil {
			return nil, false, j, err
		}
		for _, p := range d.params[start:] {
			if p.name == name {
				return nil, false, j, errSF
			}
		}
		p := param{name: name}
		if j >= len(s) || s[j] != '=' {
			return nil, false, j, errSF // boolean params are not used by RFC 9421
		}
		v := j + 1
		if p, j, err = parseParamValue(s, v, p); err != nil {
			return nil, false, j, err
		}
		canonical = canonical && (!p.isNum || canonicalInt(s[v:j]))
		d.params = append(d.params, p)
		i = j
	}
	return d.params[start:len(d.params):len(d.params)], canonical, i, nil
}

// canonicalInt reports whether the integer text n (an optional '-' and
// digits) is written as strconv formats its value: no leading zero, and
// no "-0".
func canonicalInt(n string) bool {
	if n[0] == '-' {
		return n[1] != '0'
	}
	return n[0] != '0' || len(n) == 1
}

// parseParamValue reads a parameter's value at s[j]: a string, an integer
// or a token (decimals and booleans are not used by RFC 9421).
func parseParamValue(s string, j int, p param) (param, int, error) {
	var err error
	switch {
	case j < len(s) && s[j] == '"':
		if p.str, j, err = parseString(s, j); err != nil {
			return p, j, err
		}
		p.isStr = true
	case j < len(s) && (isDigit(s[j]) || s[j] == '-'):
		k := j
		if s[k] == '-' {
			k++
		}
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k < len(s) && s[k] == '.' {
			return p, k, errSF // decimals are not used by RFC 9421
		}
		if k-j > 15 || k == j || (s[j] == '-' && k == j+1) {
			return p, k, errSF
		}
		p.num, p.isNum, j = parseInt15(s[j:k]), true, k
	case j < len(s) && (s[j] >= 'A' && s[j] <= 'Z' || isLCAlpha(s[j]) || s[j] == '*'):
		k := j + 1
		for k < len(s) && isTokenChar(s[k]) {
			k++
		}
		p.str, j = s[j:k], k
	default:
		return p, j, errSF
	}
	return p, j, nil
}

// parseInt15 converts an optional '-' and 1 to 15 digits, already
// checked, to a number (15 digits cannot overflow an int64).
func parseInt15(s string) int64 {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// appendInt appends n in decimal, as strconv.AppendInt(b, n, 10) does,
// for the 15-digit integers parseInt15 returns.
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [20]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, digits[i:]...)
}

// appendSerialized appends the inner list and parameters canonically: the
// "@signature-params" value of the signature base.
func (m *member) appendSerialized(b []byte) []byte {
	b = append(b, '(')
	for i, it := range m.items {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendString(b, it)
	}
	b = append(b, ')')
	for _, p := range m.params {
		b = append(b, ';')
		b = append(b, p.name...)
		b = append(b, '=')
		switch {
		case p.isNum:
			b = appendInt(b, p.num)
		case p.isStr:
			b = appendString(b, p.str)
		default:
			b = append(b, p.str...)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// isTokenChar: RFC 8941 token characters after the first (tchar, ":", "/").
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}
