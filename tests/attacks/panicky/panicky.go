// Package panicky wraps tokengate's production provider types so each can
// panic on demand: Verify panics when the request's x-panic header names the
// provider, a callout's Resume when x-panic-resume does. The panic-containment
// tests use it natively (proxytest) and in a test build of the module
// (tests/attacks/testdata/panicwasm). Test code only: never part of the
// production module.
package panicky

import (
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/authnz"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/httpsig"
	"github.com/tokengate/tokengate/plugin/provider/introspect"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
	"github.com/tokengate/tokengate/plugin/provider/jwt"
	"github.com/tokengate/tokengate/plugin/provider/rollingcode"
	"github.com/tokengate/tokengate/plugin/provider/scopedtoken"
	"github.com/tokengate/tokengate/plugin/provider/session"
	"github.com/tokengate/tokengate/plugin/provider/signedpayload"
)

// Value is what the panicking providers panic with: it looks like a
// secret, so a log line that printed the panic value would be a leak.
const Value = "panic-value-carrying-a-secret-7c1f0e9a"

// Provider wraps a real provider: Verify panics when the request names it in
// x-panic, and a callout's Resume panics when x-panic-resume names it.
type Provider struct{ provider.Provider }

func (p Provider) Verify(r *provider.Request) (provider.Identity, error) {
	if v, _ := r.Header("x-panic"); v == p.Name() {
		panic(Value)
	}
	id, err := p.Provider.Verify(r)
	if nc, ok := err.(*provider.NeedCallout); ok {
		if v, _ := r.Header("x-panic-resume"); v == p.Name() {
			inner := nc.Resume
			nc.Resume = func(resp *provider.CalloutResponse) (provider.Identity, error) {
				_, _ = inner, resp
				panic(Value)
			}
		}
	}
	return id, err
}

// Strip keeps the wrapped provider's credential stripping.
func (p Provider) Strip(r *provider.Request, e *provider.Edits) {
	if s, ok := p.Provider.(provider.Stripper); ok {
		s.Strip(r, e)
	}
}

func wrap(c config.Constructor) config.Constructor {
	return func(name string, o *conf.Object, d provider.Deps) provider.Provider {
		p := c(name, o, d)
		if p == nil {
			return nil
		}
		return Provider{p}
	}
}

// Kinds are the production provider types, each able to panic on demand.
func Kinds() map[string]config.Constructor {
	return map[string]config.Constructor{
		"api_key": wrap(apikey.FromConfig), "http_signature": wrap(httpsig.FromConfig),
		"introspection": wrap(introspect.FromConfig), "ip_rule": wrap(iprule.FromConfig),
		"jwt": wrap(jwt.FromConfig), "rolling_code": wrap(rollingcode.FromConfig),
		"scoped_token": wrap(scopedtoken.FromConfig), "signed_payload": wrap(signedpayload.FromConfig),
		"session": wrap(session.FromConfig), "authnzerver_key": wrap(authnz.FromConfig),
	}
}
