package jsonobj

import "github.com/buger/jsonparser"

// Flattener is Flatten for the request path: the same result as
// Flatten(m, "", obj) into a new map, built from one pass per object
// (Object, no closures) with the text of every path and value gathered in
// one reused buffer and turned into a single string, so a JWT's claims
// cost a handful of allocations instead of several per claim.
//
// A Flattener is not safe for concurrent use; its zero value is ready.
// The maps it returns share nothing with it.
type Flattener struct {
	objs  []*Object // one per nesting level, reused
	text  []byte    // paths and values back to back
	items []item    // one per value, in document order
	err   error
	vals  []string // the values of the last Map, by item
}

// item is one value: its path and its text, as offsets into text.
type item struct{ path, val span }

type span struct{ from, to int }

// Flatten returns obj's members by dotted path, exactly as Flatten.
// obj must have been validated (ValidateObject) as a whole; nested
// objects with duplicate members still return ErrDuplicate.
func (f *Flattener) Flatten(obj []byte) (map[string][]string, error) {
	f.Reset()
	f.err = f.walk(obj, span{}, 0)
	return f.Map()
}

// Reset starts a new result, for a caller that walks the top-level object
// itself and hands each member to Add.
func (f *Flattener) Reset() {
	f.text, f.items, f.err, f.vals = f.text[:0], f.items[:0], nil, nil
}

// Err is the first error of the members added since Reset (a nested
// duplicate member): what Map would return, for a caller that never
// builds the map.
func (f *Flattener) Err() error { return f.err }

// Lookup returns the values Map would give path, in the same order,
// without building the map: for a caller that needs a few claims only.
// Each value is a new string.
func (f *Flattener) Lookup(path string) []string {
	var out []string
	for _, it := range f.items {
		if string(f.text[it.path.from:it.path.to]) == path {
			out = append(out, string(f.text[it.val.from:it.val.to]))
		}
	}
	return out
}

// Add adds one top-level member of a validated object, as Object reports
// it. After an error (a nested duplicate) further members are ignored:
// Map returns that error.
func (f *Flattener) Add(name, value []byte, typ jsonparser.ValueType) {
	if f.err != nil {
		return
	}
	f.err = f.member(span{}, name, value, typ, 0)
}

// Map returns the members added since Reset, or the first error.
func (f *Flattener) Map() (map[string][]string, error) {
	f.vals = nil
	if f.err != nil {
		return nil, f.err
	}
	return f.build(), nil
}

// Len is the number of values added since Reset: the index the next
// scalar Add will have in Value.
func (f *Flattener) Len() int { return len(f.items) }

// Value is the text of value i (see Len). After Map it is the map's own
// string, so a caller needing one claim as a string shares it instead of
// allocating its own; without Map it is a new string. Out of range, it is
// "".
func (f *Flattener) Value(i int) string {
	if f.vals != nil {
		if i < 0 || i >= len(f.vals) {
			return ""
		}
		return f.vals[i]
	}
	if i < 0 || i >= len(f.items) {
		return ""
	}
	it := f.items[i]
	return string(f.text[it.val.from:it.val.to])
}

// walk adds the members of obj under prefix (an empty span: none).
func (f *Flattener) walk(obj []byte, prefix span, depth int) error {
	if depth > maxFlattenDepth {
		return nil
	}
	for len(f.objs) <= depth {
		f.objs = append(f.objs, new(Object))
	}
	o := f.objs[depth]
	o.Reset(obj)
	for o.Next() {
		if err := f.member(prefix, o.Name(), o.Value(), o.Type(), depth); err != nil {
			return err
		}
	}
	return o.Finish()
}

// member adds one member of an object at depth under prefix.
func (f *Flattener) member(prefix span, name, value []byte, typ jsonparser.ValueType, depth int) error {
	path := f.path(prefix, name)
	switch typ {
	case jsonparser.Object:
		return f.walk(value, path, depth+1)
	case jsonparser.Array:
		f.array(value, path)
	default:
		f.scalar(path, value, typ)
	}
	return nil
}

// path appends prefix + "." + name (just name without a prefix) to text.
func (f *Flattener) path(prefix span, name []byte) span {
	from := len(f.text)
	if prefix.to > prefix.from {
		f.text = append(f.text, f.text[prefix.from:prefix.to]...)
		f.text = append(f.text, '.')
	}
	f.text = append(f.text, name...)
	return span{from, len(f.text)}
}

// array adds the scalar elements of a validated array, in order; nested
// arrays and objects are skipped, as Flatten skips them.
func (f *Flattener) array(arr []byte, path span) {
	i := skipWS(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end, err := value(arr, i, 1)
		if err != nil {
			return // impossible: arr was validated
		}
		v, typ := typed(arr[i:end])
		f.scalar(path, v, typ)
		i = skipWS(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipWS(arr, i+1)
		}
	}
}

// scalar adds a string (unescaped), number or boolean; null and nested
// values are skipped (Scalar's rule).
func (f *Flattener) scalar(path span, v []byte, typ jsonparser.ValueType) {
	from := len(f.text)
	switch typ {
	case jsonparser.String:
		f.text = appendUnescaped(f.text, v)
	case jsonparser.Number, jsonparser.Boolean:
		f.text = append(f.text, v...)
	default:
		return
	}
	f.items = append(f.items, item{path, span{from, len(f.text)}})
}

// build makes the map: one string holds all text, one slice all values;
// a path's values that are adjacent (an array) share a sub-slice whose
// capacity ends with them, so appending a later value of the same path
// copies instead of overwriting its neighbour.
func (f *Flattener) build() map[string][]string {
	m := make(map[string][]string, len(f.items))
	if len(f.items) == 0 {
		return m
	}
	text := string(f.text)
	vals := make([]string, len(f.items))
	for i, it := range f.items {
		vals[i] = text[it.val.from:it.val.to]
	}
	f.vals = vals
	for i := 0; i < len(f.items); {
		j := i + 1
		for j < len(f.items) && f.items[j].path == f.items[i].path {
			j++
		}
		path := text[f.items[i].path.from:f.items[i].path.to]
		if prev, ok := m[path]; ok {
			m[path] = append(prev, vals[i:j]...)
		} else {
			m[path] = vals[i:j:j]
		}
		i = j
	}
	return m
}

// typed is a validated value the way jsonparser reports it: strings
// without quotes, other values verbatim, with their type.
func typed(v []byte) ([]byte, jsonparser.ValueType) {
	switch c := v[0]; {
	case c == '"':
		return v[1 : len(v)-1], jsonparser.String
	case c == '{':
		return v, jsonparser.Object
	case c == '[':
		return v, jsonparser.Array
	case c == 't' || c == 'f':
		return v, jsonparser.Boolean
	case c == 'n':
		return v, jsonparser.Null
	}
	return v, jsonparser.Number
}
