package config

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
)

// skipper records whether config told it to skip its claims.
type skipper struct {
	name    string
	skipped bool
}

func (s *skipper) Name() string      { return s.name }
func (s *skipper) Kind() string      { return "test" }
func (s *skipper) Challenge() string { return "" }
func (s *skipper) Verify(*provider.Request) (provider.Identity, error) {
	return provider.Identity{}, provider.ErrNoCredential
}
func (s *skipper) SkipClaims() { s.skipped = true }

// TestSkipUnreadClaims: only providers that no rule with claim
// requirements names, in all_of or any_of, are told to skip their claims.
func TestSkipUnreadClaims(t *testing.T) {
	anyOf, allOf, plain, unused := &skipper{name: "any"}, &skipper{name: "all"}, &skipper{name: "plain"}, &skipper{name: "unused"}
	claim := []policy.ClaimRequirement{{Claim: "org"}}
	rules := []*policy.Rule{
		{Name: "a", AnyOf: []provider.Provider{anyOf}, Claims: claim},
		{Name: "b", AllOf: []provider.Provider{allOf}, Claims: claim},
		{Name: "c", AnyOf: []provider.Provider{plain, anyOf, allOf}},
	}
	skipUnreadClaims(rules, []provider.Provider{anyOf, allOf, plain, unused})
	for _, c := range []struct {
		p    *skipper
		skip bool
	}{{anyOf, false}, {allOf, false}, {plain, true}, {unused, true}} {
		if c.p.skipped != c.skip {
			t.Errorf("%s: skipped %v, want %v", c.p.name, c.p.skipped, c.skip)
		}
	}
}
