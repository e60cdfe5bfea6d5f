package jsonobj

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// sameFlatten fails t unless Flattener and Flatten agree on doc (a
// validated object): same error, same map.
func sameFlatten(t *testing.T, f *Flattener, doc []byte) {
	t.Helper()
	want := map[string][]string{}
	werr := Flatten(want, "", doc)
	got, gerr := f.Flatten(doc)
	if !errors.Is(gerr, werr) {
		t.Fatalf("%q: Flattener error %v, Flatten error %v", doc, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nFlattener %q\nFlatten   %q", doc, got, want)
	}
	// The same through Reset, Add and Map, as the JWT claims pass does.
	var o Object
	f.Reset()
	o.Reset(doc)
	for o.Next() {
		f.Add(o.Name(), o.Value(), o.Type())
	}
	if err := o.Finish(); err != nil {
		// A top-level duplicate: the walk refuses it (the JWT claims pass
		// refuses the token) where Flatten returns the same error.
		if !errors.Is(err, werr) {
			t.Fatalf("%q: walk %v, Flatten %v", doc, err, werr)
		}
		return
	}
	// Without Map (identities whose claims no rule reads): Err, Lookup
	// and Value say what the map would.
	if !errors.Is(f.Err(), werr) {
		t.Fatalf("%q: Err %v, Flatten %v", doc, f.Err(), werr)
	}
	var texts []string
	for i := 0; i < f.Len(); i++ {
		texts = append(texts, f.Value(i))
	}
	if werr == nil {
		for path, vals := range want {
			if got := f.Lookup(path); !reflect.DeepEqual(got, vals) {
				t.Fatalf("%q: Lookup(%q) %q, map %q", doc, path, got, vals)
			}
		}
		if got := f.Lookup("\x00absent"); got != nil {
			t.Fatalf("%q: Lookup of an absent path gave %q", doc, got)
		}
	}
	got, gerr = f.Map()
	if !errors.Is(gerr, werr) || (werr == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("%q: Add path %q %v, Flatten %q %v", doc, got, gerr, want, werr)
	}
	for i, want := range texts {
		if got := f.Value(i); got != want {
			t.Fatalf("%q: Value(%d) %q after Map, %q before", doc, i, got, want)
		}
	}
}

func TestFlattenerMatchesFlatten(t *testing.T) {
	docs := []string{
		`{}`,
		`{"sub":"a","org":{"team":"blue","ids":[1,2]},"ok":true,"n":null,"scope":"r w"}`,
		`{"a.b":1,"a":{"b":2},"c":[3]}`,             // one path from two members
		`{"a":{"b":1},"a.b":[2,3],"x":0}`,           // the array's values after a single one
		`{"":{"sub":"b"},"sub":"a"}`,                // an empty name extends nothing
		`{"a":[1,[2],{"b":3},null,"x\u00e9",true]}`, // nested values in arrays are skipped
		`{"s":"\ud800","t":"\"\\\/\b\f\n\r\t"}`,
		`{"o":{"a":1,"a":2}}`,                                                       // nested duplicate
		`{"d":` + strings.Repeat(`{"a":`, 12) + `1` + strings.Repeat(`}`, 12) + `}`, // beyond the depth bound
		`{"d":` + strings.Repeat(`{"a":`, 8) + `{"x":1,"x":2}` + strings.Repeat(`}`, 8) + `}`,
		`{"e":[],"f":{},"g":-0.5e-3}`,
	}
	var f Flattener
	for _, d := range docs {
		if err := ValidateObject([]byte(d)); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		sameFlatten(t, &f, []byte(d))
	}
}

// TestFlattenerValuesAreIndependent: appending to one path's values never
// changes another's (they share one backing array).
func TestFlattenerValuesAreIndependent(t *testing.T) {
	var f Flattener
	m, err := f.Flatten([]byte(`{"a":[1,2],"b":[3,4]}`))
	if err != nil {
		t.Fatal(err)
	}
	m["a"] = append(m["a"], "x")
	if strings.Join(m["b"], ",") != "3,4" {
		t.Fatalf("b = %v after appending to a", m["b"])
	}
}

// FuzzFlattener: Flattener and Flatten agree on every valid object.
func FuzzFlattener(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}],"a.b":"d","":{"x":null}}`, `{"o":{"a":1,"a":2}}`, `{"s":"\u00e9\ud800"}`} {
		f.Add(s)
	}
	var fl Flattener
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateObject([]byte(s)) != nil {
			return
		}
		sameFlatten(t, &fl, []byte(s))
	})
}

// TestFlattenerAdd: handing the top-level members to Add gives Flatten's
// result, nested duplicates included.
func TestFlattenerAdd(t *testing.T) {
	for _, d := range []string{`{"a":{"b":[1,"x"]},"a.b":true,"c":null}`, `{"o":{"k":1,"k":2},"p":3}`, `{}`} {
		want := map[string][]string{}
		werr := Flatten(want, "", []byte(d))
		var f Flattener
		var o Object
		f.Reset()
		o.Reset([]byte(d))
		for o.Next() {
			f.Add(o.Name(), o.Value(), o.Type())
		}
		if err := o.Finish(); err != nil {
			t.Fatal(err)
		}
		got, gerr := f.Map()
		if !errors.Is(gerr, werr) || (werr == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s: got %v %v, want %v %v", d, got, gerr, want, werr)
		}
	}
}
