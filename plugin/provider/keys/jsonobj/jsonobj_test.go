package jsonobj

import (
	"errors"
	"strings"
	"testing"

	"github.com/buger/jsonparser"
)

func TestEach(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"simple", `{"a":1,"b":"x","c":[1,{"d":null}],"e":true}`, nil},
		{"whitespace", " \n{ \"a\" : 1 }\t", nil},
		{"empty", `{}`, nil},
		{"escaped names equal", `{"alg":1,"\u0061lg":2}`, ErrDuplicate},
		{"duplicate", `{"a":1,"a":1}`, ErrDuplicate},
		{"trailing comma", `{"a":1,}`, ErrSyntax},
		{"trailing data", `{"a":1}x`, ErrSyntax},
		{"two objects", `{}{}`, ErrSyntax},
		{"array", `[1]`, ErrNotObject},
		{"string", `"a"`, ErrNotObject},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"comment", `{"a":1 /* x */}`, ErrSyntax},
		{"leading zero", `{"a":01}`, ErrSyntax},
		{"bare dot", `{"a":1.}`, ErrSyntax},
		{"plus sign", `{"a":+1}`, ErrSyntax},
		{"NaN", `{"a":NaN}`, ErrSyntax},
		{"bad escape", `{"a":"\x"}`, ErrSyntax},
		{"short unicode escape", `{"a":"\u12"}`, ErrSyntax},
		{"raw control char", "{\"a\":\"\x01\"}", ErrSyntax},
		{"invalid utf-8", "{\"a\":\"\xff\"}", ErrSyntax},
		{"overlong utf-8", "{\"a\":\"\xc0\xaf\"}", ErrSyntax},
		{"surrogate utf-8", "{\"a\":\"\xed\xa0\x80\"}", ErrSyntax},
		{"unclosed", `{"a":1`, ErrSyntax},
		{"too deep", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), ErrTooDeep},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"literal typo", `{"a":tru}`, ErrSyntax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Each([]byte(c.doc), func(_, _ []byte, _ jsonparser.ValueType) error { return nil })
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestFlatten(t *testing.T) {
	m := map[string][]string{}
	doc := []byte(`{"sub":"a","org":{"team":"blue","ids":[1,2]},"ok":true,"n":null,"scope":"r w"}`)
	if err := Flatten(m, "", doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sub": "a", "org.team": "blue", "org.ids": "1,2", "ok": "true", "scope": "r w"}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, v := range want {
		if strings.Join(m[k], ",") != v {
			t.Fatalf("%s = %v, want %s", k, m[k], v)
		}
	}
	if err := Flatten(map[string][]string{}, "", []byte(`{"o":{"a":1,"a":2}}`)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("nested duplicate: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(`{"a":[1,2,{"b":"c"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		// Property: never a panic, and whatever we accept jsonparser can walk.
		if ValidateObject([]byte(s)) == nil {
			if err := jsonparser.ObjectEach([]byte(s), func(_, _ []byte, _ jsonparser.ValueType, _ int) error { return nil }); err != nil {
				t.Fatalf("validated but jsonparser refuses %q: %v", s, err)
			}
		}
	})
}
