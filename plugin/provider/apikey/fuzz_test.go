package apikey

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// FuzzVerify feeds arbitrary carrier values. Properties: no panic; a
// success only for the configured key, byte for byte; a refusal never
// carries an identity nor echoes the input.
func FuzzVerify(f *testing.F) {
	p, msg, _ := build(f, testConfig())
	if p == nil {
		f.Fatal(msg)
	}
	f.Add("x-api-key", keyCI, "")
	f.Add("authorization", "ApiKey "+keyCI, "")
	f.Add("authorization", "apikey  "+keyForver, "x-api-key")
	f.Add("authorization", "ApiKey", "")
	f.Add("x-api-key", "\x00\xff", "authorization")
	f.Fuzz(func(t *testing.T, name, value, extra string) {
		r := req("10.0.0.1", name, value)
		if extra != "" {
			r.Headers = append(r.Headers, provider.Header{Name: extra, Value: value})
		}
		id, err := p.Verify(r)
		if err != nil {
			if id.Subject != "" || id.Scopes != nil {
				t.Fatal("identity with a refusal")
			}
			if len(value) >= 8 && strings.Contains(err.Error(), value) {
				t.Fatal("error echoes input")
			}
			return
		}
		k := value
		if name == "authorization" {
			k = strings.TrimLeft(value[len("ApiKey"):], " ")
		}
		if k != keyCI && k != keyForver && k != keyBound {
			t.Fatalf("accepted %q as %q", value, id.Subject)
		}
	})
}

// FuzzFromConfig: any document gives either a provider and no errors, or
// errors and nil; never a panic.
func FuzzFromConfig(f *testing.F) {
	f.Add(testConfig())
	f.Add(`{"keys":[{"id":"a","hash":"sha256:00","subject":"s","expires":1e99}]}`)
	f.Add(`{"header":"","scheme":"","keys":[]}`)
	f.Add(`{"keys":[{"id":"a","hash":"` + Hash("x") + `","subject":"s","expires":"never","sources":["::/0","0.0.0.0/0"]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		o, errs := conf.Root([]byte(doc), nil)
		before := len(errs.List) // a malformed document is the reader's error, not ours
		p := FromConfig("f", o, provider.Deps{})
		if (p == nil) != (len(errs.List) > before) {
			t.Fatalf("provider %v with errors %v", p, errs.Err())
		}
	})
}
