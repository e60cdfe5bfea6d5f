package jwt

import (
	"strings"

	"github.com/tokengate/tokengate/plugin/provider"
)

// fillClaims exposes the verified payload: Claims flattened by dotted path
// (arrays of scalars give several values, nested objects extend the path),
// Scopes from "scope" (space-separated) or "scp" (array or string), and the
// configured claim-to-header mappings, from the claims readClaims
// gathered. Runs only after verification. Without a rule that reads
// Claims (SkipClaims) the map is not built: the few claims needed are
// looked up in the gathered text instead, with the same results.
func (p *Provider) fillClaims(id *provider.Identity) error {
	f := &p.scratch.flat
	lookup := f.Lookup
	if p.skipClaims {
		if err := f.Err(); err != nil {
			return err
		}
	} else {
		m, err := f.Map()
		if err != nil {
			return err
		}
		id.Claims = m
		lookup = func(path string) []string { return m[path] }
	}
	if v := lookup("scope"); len(v) == 1 {
		id.Scopes = strings.Fields(v[0])
	} else if v := lookup("scp"); len(v) > 0 {
		if len(v) == 1 {
			id.Scopes = strings.Fields(v[0])
		} else {
			id.Scopes = v
		}
	}
	for _, h := range p.toHeaders {
		v := lookup(h.claim)
		if len(v) == 0 {
			continue
		}
		joined := strings.Join(v, ",")
		if !headerSafe(joined) {
			continue // never forward a value that could split headers
		}
		id.Headers = append(id.Headers, provider.Header{Name: h.header, Value: joined})
	}
	return nil
}

// SkipClaims implements provider.ClaimsSkipper: identities from this
// provider carry no Claims map, because no rule naming it reads one.
func (p *Provider) SkipClaims() { p.skipClaims = true }

// headerSafe refuses control characters (CR, LF, NUL, ...) in header values.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
