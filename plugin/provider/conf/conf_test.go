package conf

import (
	"strings"
	"testing"
)

func TestStrictReading(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		read func(o *Object)
		want string // joined errors, "" for none
	}{
		{"ok", `{"a":"x","n":3,"b":true}`, func(o *Object) { o.String("a", ""); o.Int("n", 0, 0, 5); o.Bool("b", false) }, ""},
		{"unknown field", `{"a":"x","zz":1}`, func(o *Object) { o.String("a", "") }, "zz: unknown field"},
		{"duplicate", `{"a":"x","a":"y"}`, func(o *Object) { o.String("a", "") }, "a: duplicate member"},
		{"wrong type", `{"a":1}`, func(o *Object) { o.String("a", "") }, "a: must be a string, not a number"},
		{"range", `{"n":9}`, func(o *Object) { o.Int("n", 0, 0, 5) }, "n: must be between 0 and 5"},
		{"required", `{}`, func(o *Object) { o.RequiredString("name") }, "name: is required"},
		{"nested path", `{"rules":[{"x":1},{"m":[1]}]}`, func(o *Object) {
			for _, r := range o.Objects("rules") {
				r.Strings("m")
				r.Done()
			}
		}, "rules[0].x: unknown field\nrules[1].m[0]: must be a string, not a number"},
		{"enum", `{"mode":"bad"}`, func(o *Object) { o.Enum("mode", "a", "a", "b") }, `mode: "bad" is not one of a, b`},
		{"weak secret", `{"s":"short"}`, func(o *Object) { o.Secret("s", 16) }, "s: secret is too weak: 5 bytes, at least 16 required"},
		{"env secret missing", `{"s":{"env":"NOPE"}}`, func(o *Object) { o.Secret("s", 1) }, `s.env: environment variable "NOPE" is not set in vm_config.environment_variables`},
		{"trailing", `{} x`, func(o *Object) {}, "unexpected data after the configuration object"},
		{"not object", `[1]`, func(o *Object) {}, "configuration must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, errs := Root([]byte(c.doc), nil)
			c.read(o)
			o.Done()
			got := ""
			if err := errs.Err(); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("errors:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestSecretFromEnvNeverLeaks(t *testing.T) {
	o, errs := Root([]byte(`{"s":{"env":"SEED"},"w":"topsecretvalue"}`), MapEnv{"SEED": "0123456789abcdef0123"})
	if got := string(o.Secret("s", 16)); got != "0123456789abcdef0123" {
		t.Fatalf("secret = %q", got)
	}
	o.Secret("w", 32)
	o.Done()
	if strings.Contains(errs.Error(), "topsecretvalue") {
		t.Fatal("secret value leaked into error")
	}
}
