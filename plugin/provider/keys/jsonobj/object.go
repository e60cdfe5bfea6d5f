package jsonobj

import "github.com/buger/jsonparser"

// Object reads one strict JSON object member by member, in a single pass
// that validates (exactly what ValidateObject checks) while it hands out
// the members, without closures and, once its buffers have grown, without
// allocating. It exists for the request path (JWT headers and payloads),
// where Each's separate validation pass and callback cost more than the
// values read; Each remains the simple form for configuration time.
//
// Use:
//
//	o.Reset(data)
//	for o.Next() {
//		... o.Name(), o.Value(), o.Type() ...   // stop early if you like
//	}
//	err := o.Finish()
//
// Finish always validates the rest of the input and reports errors in the
// order Each does: a syntax error anywhere wins; otherwise a duplicate name
// (or more than MaxMembers members) met before the caller stopped.
//
// An Object is not safe for concurrent use; its zero value is ready.
type Object struct {
	data   []byte
	i      int   // next unread byte
	closed bool  // the closing brace has been read; i is past it
	syntax error // a syntax error (ErrNotObject, ErrSyntax, ErrTooDeep)
	stop   error // ErrDuplicate or ErrTooMany: ends the walk, not the validation
	names  []byte
	ends   []int
	// The current member.
	name, value []byte
	typ         jsonparser.ValueType
}

// Reset starts reading data, keeping the buffers of earlier uses.
func (o *Object) Reset(data []byte) {
	*o = Object{data: data, names: o.names[:0], ends: o.ends[:0]}
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		o.syntax = ErrNotObject
		return
	}
	o.i = skipWS(data, i+1)
	if o.i < len(data) && data[o.i] == '}' {
		o.i++
		o.closed = true
	}
}

// Next reads the next member. It returns false at the end of the object
// and at the first error (see Finish).
func (o *Object) Next() bool {
	if o.closed || o.syntax != nil || o.stop != nil {
		return false
	}
	rawName, val, ok := o.member()
	if !ok {
		return false
	}
	// Each's order: a repeated name first, then the member count.
	if !o.addName(rawName) {
		o.stop = ErrDuplicate
		return false
	}
	if len(o.ends) > MaxMembers {
		o.stop = ErrTooMany
		return false
	}
	o.value, o.typ = typed(val)
	return true
}

// member reads one "name": value pair and the comma or closing brace
// after it, as object() does. It returns the raw name (without quotes)
// and the value, or records a syntax error.
func (o *Object) member() (rawName, val []byte, ok bool) {
	b, i := o.data, o.i
	if i >= len(b) || b[i] != '"' {
		o.syntax = ErrSyntax
		return nil, nil, false
	}
	end, err := str(b, i)
	if err != nil {
		o.syntax = err
		return nil, nil, false
	}
	rawName = b[i+1 : end-1]
	i = skipWS(b, end)
	if i >= len(b) || b[i] != ':' {
		o.syntax = ErrSyntax
		return nil, nil, false
	}
	start := skipWS(b, i+1)
	if end, err = value(b, start, 1); err != nil {
		o.syntax = err
		return nil, nil, false
	}
	val = b[start:end]
	i = skipWS(b, end)
	switch {
	case i >= len(b):
		o.syntax = ErrSyntax
		return nil, nil, false
	case b[i] == '}':
		o.closed = true
		i++
	case b[i] == ',':
		i = skipWS(b, i+1)
	default:
		o.syntax = ErrSyntax
		return nil, nil, false
	}
	o.i = i
	return rawName, val, true
}

// addName unescapes the member name into the names buffer; false when the
// name was seen before (compared after unescaping, as Each does). Objects
// on the request path are small, so names are compared pairwise.
func (o *Object) addName(raw []byte) bool {
	from := len(o.names)
	o.names = appendUnescaped(o.names, raw)
	name := o.names[from:]
	start := 0
	for _, end := range o.ends {
		if string(o.names[start:end]) == string(name) {
			return false
		}
		start = end
	}
	o.ends = append(o.ends, len(o.names))
	o.name = name
	return true
}

// Name is the current member's unescaped name, valid until Reset.
func (o *Object) Name() []byte { return o.name }

// Value is the current member's raw value: strings without their quotes
// and still escaped (see AppendString), other types verbatim.
func (o *Object) Value() []byte { return o.value }

// Type is the current member's value type.
func (o *Object) Type() jsonparser.ValueType { return o.typ }

// Finish validates whatever Next has not read and returns the object's
// error in Each's order: a syntax error anywhere first (data after the
// object other than whitespace included), then a duplicate name or too
// many members met while iterating, else nil.
func (o *Object) Finish() error {
	for !o.closed && o.syntax == nil {
		o.member()
	}
	if o.syntax != nil {
		return o.syntax
	}
	if skipWS(o.data, o.i) != len(o.data) {
		return ErrSyntax
	}
	return o.stop
}

// AppendString appends the unescaped text of a string value (as Value
// returns it) to dst. An escape jsonparser cannot decode (impossible after
// validation) yields the raw text.
func AppendString(dst, raw []byte) []byte { return appendUnescaped(dst, raw) }

// appendUnescaped appends raw unescaped exactly as jsonparser.ParseString
// would (lone surrogates become U+FFFD). Validated input has only
// well-formed escapes, so Unescape cannot fail; if it did, the raw text is
// kept, which can only make a name or value differ, never match more.
func appendUnescaped(dst, raw []byte) []byte {
	if !hasBackslash(raw) {
		return append(dst, raw...)
	}
	n := len(dst)
	dst = grow(dst, len(raw)) // unescaping never lengthens
	out, err := jsonparser.Unescape(raw, dst[n:n+len(raw)])
	if err != nil {
		return append(dst[:n], raw...)
	}
	return dst[:n+len(out)]
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// grow returns b with room for n more bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}
