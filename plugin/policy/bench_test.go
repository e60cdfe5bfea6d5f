package policy

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// BenchmarkStart measures one full evaluation of an authenticated request
// (path normalisation, matching, two providers, a scope check).
func BenchmarkStart(b *testing.B) {
	key := &fake{name: "key", scopes: []string{"read"}}
	ip := &fake{name: "ip"}
	pol := New([]*Rule{
		{Name: "health", Paths: []PathMatch{{Exact: "/healthz"}}, Anonymous: true},
		{Name: "api", Paths: []PathMatch{{Prefix: "/api"}}, AllOf: []provider.Provider{ip}, AnyOf: []provider.Provider{key},
			Scopes: Requirement{AnyOf: []string{"read"}}},
	}, Options{})
	r := req("GET", "/api/v1/items/42?limit=5", "x-ip", "ok:", "x-key", "ok:bot")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Path = ""
		if v := pol.Start(r).Verdict(); !v.Allow {
			b.Fatal(v.Err)
		}
	}
}
