package jsonobj

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/buger/jsonparser"
)

// member is one member as Each reports it.
type member struct {
	name, value string
	typ         jsonparser.ValueType
}

var errStop = errors.New("stop")

// viaEach walks doc with Each, stopping (with errStop) before member
// stopAt (never when stopAt < 0): the reference for Object.
func viaEach(doc []byte, stopAt int) ([]member, error) {
	var got []member
	err := Each(doc, func(name, value []byte, typ jsonparser.ValueType) error {
		if len(got) == stopAt {
			return errStop
		}
		got = append(got, member{string(name), string(value), typ})
		return nil
	})
	return got, err
}

// viaObject is viaEach with an Object (reused, as the request path does).
func viaObject(o *Object, doc []byte, stopAt int) ([]member, error) {
	var got []member
	o.Reset(doc)
	stopped := false
	for o.Next() {
		if len(got) == stopAt {
			stopped = true
			break
		}
		got = append(got, member{string(o.Name()), string(o.Value()), o.Type()})
	}
	if err := o.Finish(); err != nil {
		return got, err
	}
	if stopped {
		return got, errStop
	}
	return got, nil
}

// sameWalk fails t unless Object and Each agree on doc: same error, and
// on success the same members in the same order.
func sameWalk(t *testing.T, o *Object, doc []byte, stopAt int) {
	t.Helper()
	want, werr := viaEach(doc, stopAt)
	got, gerr := viaObject(o, doc, stopAt)
	if !errors.Is(gerr, werr) && !(werr != nil && gerr != nil && werr.Error() == gerr.Error()) {
		t.Fatalf("%q stop %d: Object error %v, Each error %v", doc, stopAt, gerr, werr)
	}
	if werr == nil || werr == errStop {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q stop %d: Object members %v, Each members %v", doc, stopAt, got, want)
		}
	}
}

func TestObjectMatchesEach(t *testing.T) {
	docs := []string{
		`{"a":1,"b":"x","c":[1,{"d":null}],"e":true,"f":false,"g":-1.5e3,"h":{"i":{}}}`,
		" \n{ \"a\" : 1 }\t", `{}`, ` { } `, `{"a":"\u00e9\n\"","\u0062":"\ud800x"}`,
		`{"alg":1,"\u0061lg":2}`, `{"a":1,"a":1}`, `{"a":1,"a":1,}`, `{"a":1,"b":2,"a":3}`,
		`{"a":1,}`, `{"a":1}x`, `{}{}`, `[1]`, `"a"`, ``, `   `, `{`, `{"a"`, `{"a":`, `{"a":1`,
		`{"a":1 "b":2}`, `{"a":"\x"}`, "{\"a\":\"\xff\"}", `{"o":{"a":1,"a":2}}`,
		strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
		`{"a":{"b":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}}`,
		manyMembers(MaxMembers), manyMembers(MaxMembers + 1), manyMembers(MaxMembers+1) + " x",
	}
	var o Object
	for _, d := range docs {
		for stop := -1; stop < 4; stop++ {
			sameWalk(t, &o, []byte(d), stop)
		}
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"m%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// TestObjectReuseDoesNotAllocate: once grown, a reused Object reads a
// JWT-sized payload without allocating.
func TestObjectReuseDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"iss":"https://idp","sub":"robot","aud":["a","b"],"iat":1,"exp":2,"jti":"x\u00e9y","o":{"t":1}}`)
	var o Object
	walk := func() {
		o.Reset(doc)
		for o.Next() {
		}
		if err := o.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	walk()
	if n := testing.AllocsPerRun(100, walk); n != 0 {
		t.Fatalf("%v allocations per walk", n)
	}
}

// FuzzObject: Object and Each agree on every input, stopping early or not
// (differential against the closure-based walk over jsonparser).
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":"\ud83d\ude00"} `, `{"a":1,}`} {
		f.Add(s, int8(-1))
	}
	var o Object
	f.Fuzz(func(t *testing.T, s string, stop int8) {
		sameWalk(t, &o, []byte(s), int(stop))
	})
}
