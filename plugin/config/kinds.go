package config

import (
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/authnz"
	"github.com/tokengate/tokengate/plugin/provider/httpsig"
	"github.com/tokengate/tokengate/plugin/provider/introspect"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
	"github.com/tokengate/tokengate/plugin/provider/jwt"
	"github.com/tokengate/tokengate/plugin/provider/rollingcode"
	"github.com/tokengate/tokengate/plugin/provider/scopedtoken"
	"github.com/tokengate/tokengate/plugin/provider/session"
	"github.com/tokengate/tokengate/plugin/provider/signedpayload"
)

// kinds maps a provider's "type" to its constructor. This file holds only
// the map: each credential scheme adds one line here.
var kinds = map[string]Constructor{
	"api_key":         apikey.FromConfig,
	"http_signature":  httpsig.FromConfig,
	"introspection":   introspect.FromConfig,
	"ip_rule":         iprule.FromConfig,
	"jwt":             jwt.FromConfig,
	"rolling_code":    rollingcode.FromConfig,
	"scoped_token":    scopedtoken.FromConfig,
	"signed_payload":  signedpayload.FromConfig,
	"session":         session.FromConfig,
	"authnzerver_key": authnz.FromConfig,
}
