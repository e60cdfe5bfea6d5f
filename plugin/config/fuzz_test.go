package config

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// FuzzParse: any document is either refused with errors or accepted with a
// usable policy; never a panic, never both.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validDoc))
	f.Add([]byte(`{"rules":[{"name":"r","anonymous":true}]}`))
	f.Add([]byte(`{"providers":[{"name":"k","type":"stub"}],"rules":[{"name":"r","any_of":["k"],"rate_limit":{"by":"subject","per_second":1}}]}`))
	f.Add([]byte(`{"rules":[{"name":"r","paths":[{"prefix":"/a/../b"}],"anonymous":true}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		cfg, _, err := ParseKinds(doc, testEnv, provider.Deps{}, testKinds())
		if (cfg == nil) == (err == nil) {
			t.Fatalf("cfg %v err %v", cfg, err)
		}
		if cfg != nil {
			r := &provider.Request{Method: "GET", Authority: "a", RawPath: "/x"}
			cfg.Policy.Start(r)
		}
	})
}
