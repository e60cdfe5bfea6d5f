// Package jsonobj reads untrusted JSON objects strictly: the whole input
// must be exactly one RFC 8259 object (no trailing commas, no comments, no
// data after it, bounded depth), and member names must be unique after
// unescaping. Values are then read with github.com/buger/jsonparser, which
// alone is lenient (it accepts a trailing comma and returns the first of
// duplicate members), hence this gate in front of it.
//
// It is used for JWT headers and payloads, JWKs and remote JSON answers
// (JWKS, OIDC discovery, introspection). No reflection: TinyGo-safe.
package jsonobj

import (
	"errors"

	"github.com/buger/jsonparser"
)

// Errors.
var (
	ErrSyntax    = errors.New("malformed JSON")
	ErrNotObject = errors.New("JSON value is not an object")
	ErrDuplicate = errors.New("duplicate JSON member")
	ErrTooDeep   = errors.New("JSON nested too deeply")
	ErrTooMany   = errors.New("too many JSON members")
)

// MaxDepth bounds nesting.
const MaxDepth = 32

// MaxMembers bounds the members of one object walked by Each.
const MaxMembers = 256

// Each checks that data is exactly one strict JSON object and calls fn for
// each member in order, with the unescaped name (valid only during the
// call), the raw value (string values without quotes, still escaped) and its
// type. Duplicate names are refused before fn sees the second one.
func Each(data []byte, fn func(name, value []byte, typ jsonparser.ValueType) error) error {
	if err := ValidateObject(data); err != nil {
		return err
	}
	return eachValidated(data, fn)
}

// EachValidated is Each for a value already checked by ValidateObject or
// Validate (e.g. a nested object of a validated document).
func EachValidated(data []byte, fn func(name, value []byte, typ jsonparser.ValueType) error) error {
	return eachValidated(data, fn)
}

func eachValidated(data []byte, fn func(name, value []byte, typ jsonparser.ValueType) error) error {
	// Names are kept in one buffer (offsets in ends) and compared pairwise:
	// objects here are small, and this costs one allocation per object.
	var names []byte
	var ends []int
	return jsonparser.ObjectEach(data, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		start := 0
		for _, end := range ends {
			if string(names[start:end]) == string(key) {
				return ErrDuplicate
			}
			start = end
		}
		if len(ends) >= MaxMembers {
			return ErrTooMany
		}
		if names == nil {
			names = make([]byte, 0, len(data))
			ends = make([]int, 0, 16)
		}
		names = append(names, key...)
		ends = append(ends, len(names))
		return fn(key, value, typ)
	})
}

// ValidateObject checks that data is exactly one strict JSON object,
// surrounded by optional whitespace only.
func ValidateObject(data []byte) error {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ErrNotObject
	}
	return Validate(data)
}

// Validate checks that data is exactly one strict JSON value.
func Validate(data []byte) error {
	i, err := value(data, skipWS(data, 0), 0)
	if err != nil {
		return err
	}
	if skipWS(data, i) != len(data) {
		return ErrSyntax
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func value(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, ErrSyntax
	}
	switch c := b[i]; {
	case c == '{':
		return object(b, i, depth+1)
	case c == '[':
		return array(b, i, depth+1)
	case c == '"':
		return str(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return number(b, i)
	}
	return i, ErrSyntax
}

func object(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return i, ErrTooDeep
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, ErrSyntax
		}
		var err error
		if i, err = str(b, i); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, ErrSyntax
		}
		if i, err = value(b, skipWS(b, i+1), depth); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, ErrSyntax
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return i, ErrSyntax
		}
		i = skipWS(b, i+1)
	}
}

func array(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return i, ErrTooDeep
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = value(b, i, depth); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, ErrSyntax
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return i, ErrSyntax
		}
		i = skipWS(b, i+1)
	}
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, ErrSyntax
	}
	return i + len(lit), nil
}

// plainASCII marks the bytes a string may hold as they are: printable
// ASCII other than '"' and '\\'. Skipping runs of them with one table load
// per byte is most of a JWT's JSON (names, URLs, ids).
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func str(b []byte, i int) (int, error) {
	i++ // opening quote
	for i < len(b) {
		for i < len(b) && plainASCII[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return i, ErrSyntax
		case c == '\\':
			if i+1 >= len(b) {
				return i, ErrSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, ErrSyntax
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, ErrSyntax
					}
				}
				i += 6
			default:
				return i, ErrSyntax
			}
		case c < 0x80:
			i++
		default:
			n := utf8Len(b[i:])
			if n == 0 {
				return i, ErrSyntax
			}
			i += n
		}
	}
	return i, ErrSyntax
}

// utf8Len is the length of the valid UTF-8 sequence at the start of b, or 0.
func utf8Len(b []byte) int {
	c := b[0]
	var n int
	var min rune
	switch {
	case c&0xe0 == 0xc0:
		n, min = 2, 0x80
	case c&0xf0 == 0xe0:
		n, min = 3, 0x800
	case c&0xf8 == 0xf0:
		n, min = 4, 0x10000
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	r := rune(c) & (0x7f >> n)
	for _, cc := range b[1:n] {
		if cc&0xc0 != 0x80 {
			return 0
		}
		r = r<<6 | rune(cc&0x3f)
	}
	if r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) {
		return 0
	}
	return n
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func number(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, ErrSyntax
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return i, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, ErrSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, ErrSyntax
		}
	}
	return i, nil
}

// String unescapes a string value as given by Each.
func String(raw []byte) (string, error) {
	return jsonparser.ParseString(raw)
}

// maxFlattenDepth bounds Flatten's recursion.
const maxFlattenDepth = 8

// Flatten adds the members of a validated JSON object to m by dotted path:
// nested objects extend the path ("org.team"), arrays of scalars give
// several values, numbers and booleans keep their JSON text, null is
// skipped. Nested objects with duplicate members return ErrDuplicate.
func Flatten(m map[string][]string, prefix string, obj []byte) error {
	return flatten(m, prefix, obj, 0)
}

func flatten(m map[string][]string, prefix string, obj []byte, depth int) error {
	if depth > maxFlattenDepth {
		return nil
	}
	return eachValidated(obj, func(name, value []byte, typ jsonparser.ValueType) error {
		path := string(name)
		if prefix != "" {
			path = prefix + "." + path
		}
		switch typ {
		case jsonparser.Object:
			return flatten(m, path, value, depth+1)
		case jsonparser.Array:
			_, _ = jsonparser.ArrayEach(value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
				if s, ok := Scalar(v, t); ok {
					m[path] = append(m[path], s)
				}
			})
		default:
			if s, ok := Scalar(value, typ); ok {
				m[path] = append(m[path], s)
			}
		}
		return nil
	})
}

// Scalar renders a string (unescaped), number or boolean value as text.
func Scalar(v []byte, t jsonparser.ValueType) (string, bool) {
	switch t {
	case jsonparser.String:
		s, err := jsonparser.ParseString(v)
		return s, err == nil
	case jsonparser.Number, jsonparser.Boolean:
		return string(v), true
	}
	return "", false
}
