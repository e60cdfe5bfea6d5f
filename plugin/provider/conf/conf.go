// Package conf reads tokengate's JSON configuration strictly.
//
// An [Object] wraps one JSON object. Getters read members by name and record
// an error, with the member's JSON path, when a member has the wrong type or
// an unacceptable value; [Object.Done] then reports every member nobody read
// as unknown. Duplicate member names are refused when the object is opened.
// All errors of a document are collected in one [Errors], so a user sees
// every mistake at once, each naming its field:
//
//	rules[2].providers[0]: unknown provider "api-kyes"
//
// Secrets may be written inline or taken from the VM environment
// (Envoy's vm_config.environment_variables) with {"env": "NAME"}; see
// [Object.Secret]. Error messages never contain secret values.
//
// The package uses github.com/buger/jsonparser (no reflection), so it builds
// under TinyGo and the standard toolchain's wasip1 port alike.
package conf

import (
	"strconv"
	"strings"

	"github.com/buger/jsonparser"
)

// Env looks up VM environment variables.
type Env interface {
	Lookup(name string) (string, bool)
}

// MapEnv is an Env backed by a map.
type MapEnv map[string]string

// Lookup implements Env.
func (m MapEnv) Lookup(name string) (string, bool) { v, ok := m[name]; return v, ok }

// FieldError is one configuration mistake.
type FieldError struct {
	Path   string // JSON path, e.g. rules[0].methods[1]
	Reason string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Errors collects FieldErrors in the order they were found.
type Errors struct {
	List []FieldError
}

// Add records an error at path.
func (e *Errors) Add(path, reason string) { e.List = append(e.List, FieldError{path, reason}) }

// Err returns nil when nothing was recorded, else e itself.
func (e *Errors) Err() error {
	if e == nil || len(e.List) == 0 {
		return nil
	}
	return e
}

// Error joins all messages, one per line.
func (e *Errors) Error() string {
	parts := make([]string, len(e.List))
	for i, fe := range e.List {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "\n")
}

type member struct {
	name  string
	value []byte
	typ   jsonparser.ValueType
}

// Object is one JSON object being read. It is not safe for concurrent use.
type Object struct {
	path    string
	members []member
	used    []bool
	errs    *Errors
	env     Env
}

// Root opens a whole document, which must be a JSON object.
func Root(data []byte, env Env) (*Object, *Errors) {
	errs := &Errors{}
	if env == nil {
		env = MapEnv(nil)
	}
	value, typ, end, err := jsonparser.Get(data)
	if err != nil || typ != jsonparser.Object {
		errs.Add("", "configuration must be a JSON object")
		return &Object{errs: errs, env: env}, errs
	}
	if end < 0 || end > len(data) {
		end = len(data)
	}
	if trailing := strings.TrimSpace(string(data[end:])); trailing != "" {
		errs.Add("", "unexpected data after the configuration object")
	}
	return open("", value, errs, env), errs
}

func open(path string, data []byte, errs *Errors, env Env) *Object {
	o := &Object{path: path, errs: errs, env: env}
	seen := map[string]bool{}
	err := jsonparser.ObjectEach(data, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		name, err := jsonparser.ParseString(key)
		if err != nil {
			name = string(key)
		}
		if seen[name] {
			errs.Add(join(path, name), "duplicate member")
			return nil
		}
		seen[name] = true
		o.members = append(o.members, member{name: name, value: value, typ: typ})
		return nil
	})
	if err != nil {
		errs.Add(path, "malformed JSON object")
	}
	o.used = make([]bool, len(o.members))
	return o
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Path is the JSON path of the named member.
func (o *Object) Path(name string) string { return join(o.path, name) }

// Here is the JSON path of the object itself.
func (o *Object) Here() string { return o.path }

// Fail records an error on the named member ("" for the object itself).
func (o *Object) Fail(name, reason string) {
	if name == "" {
		o.errs.Add(o.path, reason)
		return
	}
	o.errs.Add(o.Path(name), reason)
}

// Errs returns the document's error list.
func (o *Object) Errs() *Errors { return o.errs }

// Env returns the VM environment the document is read with.
func (o *Object) Env() Env { return o.env }

func (o *Object) find(name string) (member, bool) {
	for i, m := range o.members {
		if m.name == name {
			o.used[i] = true
			return m, true
		}
	}
	return member{}, false
}

// Has reports whether the member is present (and marks it read).
func (o *Object) Has(name string) bool { _, ok := o.find(name); return ok }

// Names lists the member names in document order and marks them all read;
// use it for maps such as {"client-a": {...}, "client-b": {...}}.
func (o *Object) Names() []string {
	names := make([]string, len(o.members))
	for i, m := range o.members {
		names[i] = m.name
		o.used[i] = true
	}
	return names
}

// Done reports every member that no getter read as unknown.
func (o *Object) Done() {
	for i, m := range o.members {
		if !o.used[i] {
			o.errs.Add(o.Path(m.name), "unknown field")
		}
	}
}

func typeName(t jsonparser.ValueType) string {
	switch t {
	case jsonparser.String:
		return "a string"
	case jsonparser.Number:
		return "a number"
	case jsonparser.Object:
		return "an object"
	case jsonparser.Array:
		return "an array"
	case jsonparser.Boolean:
		return "a boolean"
	case jsonparser.Null:
		return "null"
	}
	return "invalid JSON"
}

func (o *Object) wrongType(name string, m member, want string) {
	o.errs.Add(o.Path(name), "must be "+want+", not "+typeName(m.typ))
}

// String reads a string member, returning def when it is absent.
func (o *Object) String(name, def string) string {
	m, ok := o.find(name)
	if !ok {
		return def
	}
	if m.typ != jsonparser.String {
		o.wrongType(name, m, "a string")
		return def
	}
	s, err := jsonparser.ParseString(m.value)
	if err != nil {
		o.Fail(name, "invalid string escape")
		return def
	}
	return s
}

// RequiredString reads a string member that must be present and non-empty.
func (o *Object) RequiredString(name string) string {
	if _, ok := o.find(name); !ok {
		o.Fail(name, "is required")
		return ""
	}
	s := o.String(name, "")
	if s == "" {
		o.Fail(name, "must not be empty")
	}
	return s
}

// Enum reads a string member that must be one of allowed (def when absent).
func (o *Object) Enum(name, def string, allowed ...string) string {
	s := o.String(name, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	o.Fail(name, strconv.Quote(s)+" is not one of "+strings.Join(allowed, ", "))
	return def
}

// Int reads an integer member in [min, max], returning def when absent.
func (o *Object) Int(name string, def, min, max int64) int64 {
	m, ok := o.find(name)
	if !ok {
		return def
	}
	if m.typ != jsonparser.Number {
		o.wrongType(name, m, "an integer")
		return def
	}
	v, err := jsonparser.ParseInt(m.value)
	if err != nil {
		o.Fail(name, "must be an integer")
		return def
	}
	if v < min || v > max {
		o.Fail(name, "must be between "+strconv.FormatInt(min, 10)+" and "+strconv.FormatInt(max, 10))
		return def
	}
	return v
}

// Float reads a number member in [min, max], returning def when absent.
func (o *Object) Float(name string, def, min, max float64) float64 {
	m, ok := o.find(name)
	if !ok {
		return def
	}
	if m.typ != jsonparser.Number {
		o.wrongType(name, m, "a number")
		return def
	}
	v, err := jsonparser.ParseFloat(m.value)
	if err != nil || v != v {
		o.Fail(name, "must be a number")
		return def
	}
	if v < min || v > max {
		o.Fail(name, "must be between "+strconv.FormatFloat(min, 'g', -1, 64)+" and "+strconv.FormatFloat(max, 'g', -1, 64))
		return def
	}
	return v
}

// Bool reads a boolean member, returning def when absent.
func (o *Object) Bool(name string, def bool) bool {
	m, ok := o.find(name)
	if !ok {
		return def
	}
	if m.typ != jsonparser.Boolean {
		o.wrongType(name, m, "a boolean")
		return def
	}
	v, err := jsonparser.ParseBoolean(m.value)
	if err != nil {
		o.Fail(name, "must be a boolean")
		return def
	}
	return v
}

// Strings reads an array of strings (nil when absent).
func (o *Object) Strings(name string) []string {
	m, ok := o.find(name)
	if !ok {
		return nil
	}
	if m.typ != jsonparser.Array {
		o.wrongType(name, m, "an array of strings")
		return nil
	}
	var out []string
	i := 0
	_, _ = jsonparser.ArrayEach(m.value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
		p := o.Path(name) + "[" + strconv.Itoa(i) + "]"
		i++
		if t != jsonparser.String {
			o.errs.Add(p, "must be a string, not "+typeName(t))
			return
		}
		s, err := jsonparser.ParseString(v)
		if err != nil {
			o.errs.Add(p, "invalid string escape")
			return
		}
		out = append(out, s)
	})
	if out == nil {
		out = []string{}
	}
	return out
}

// Object reads an object member (nil when absent or of the wrong type).
func (o *Object) Object(name string) *Object {
	m, ok := o.find(name)
	if !ok {
		return nil
	}
	if m.typ != jsonparser.Object {
		o.wrongType(name, m, "an object")
		return nil
	}
	return open(o.Path(name), m.value, o.errs, o.env)
}

// Objects reads an array of objects (nil when absent).
func (o *Object) Objects(name string) []*Object {
	m, ok := o.find(name)
	if !ok {
		return nil
	}
	if m.typ != jsonparser.Array {
		o.wrongType(name, m, "an array of objects")
		return nil
	}
	out := []*Object{}
	i := 0
	_, _ = jsonparser.ArrayEach(m.value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
		p := o.Path(name) + "[" + strconv.Itoa(i) + "]"
		i++
		if t != jsonparser.Object {
			o.errs.Add(p, "must be an object, not "+typeName(t))
			return
		}
		out = append(out, open(p, v, o.errs, o.env))
	})
	return out
}

// Raw returns a member's raw JSON bytes and type (nil when absent), marking
// it read. Use it for values a provider parses itself (e.g. a JWKS).
func (o *Object) Raw(name string) ([]byte, jsonparser.ValueType) {
	m, ok := o.find(name)
	if !ok {
		return nil, jsonparser.NotExist
	}
	return m.value, m.typ
}

// Secret reads a secret member. It may be a string (the secret itself) or
// {"env": "NAME"} (taken from the VM environment). A secret shorter than
// minLen bytes is refused as weak. The value never appears in errors.
// Returns nil when absent (check required-ness yourself with Has or use
// RequiredSecret).
func (o *Object) Secret(name string, minLen int) []byte {
	m, ok := o.find(name)
	if !ok {
		return nil
	}
	var s string
	switch m.typ {
	case jsonparser.String:
		v, err := jsonparser.ParseString(m.value)
		if err != nil {
			o.Fail(name, "invalid string escape")
			return nil
		}
		s = v
	case jsonparser.Object:
		ref := open(o.Path(name), m.value, o.errs, o.env)
		envName := ref.RequiredString("env")
		ref.Done()
		if envName == "" {
			return nil
		}
		v, ok := o.env.Lookup(envName)
		if !ok {
			ref.Fail("env", "environment variable "+strconv.Quote(envName)+" is not set in vm_config.environment_variables")
			return nil
		}
		s = v
	default:
		o.wrongType(name, m, `a string or {"env": "NAME"}`)
		return nil
	}
	if len(s) < minLen {
		o.Fail(name, "secret is too weak: "+strconv.Itoa(len(s))+" bytes, at least "+strconv.Itoa(minLen)+" required")
		return nil
	}
	return []byte(s)
}

// RequiredSecret is Secret for a member that must be present.
func (o *Object) RequiredSecret(name string, minLen int) []byte {
	if !o.Has(name) {
		o.Fail(name, "is required")
		return nil
	}
	return o.Secret(name, minLen)
}
