package config

import (
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
	"github.com/tokengate/tokengate/plugin/provider/jwt"
	"github.com/tokengate/tokengate/plugin/provider/rollingcode"
)

// kinds maps a provider's "type" to its constructor. This file holds only
// the map: each credential scheme adds one line here.
var kinds = map[string]Constructor{
	"api_key":      apikey.FromConfig,
	"ip_rule":      iprule.FromConfig,
	"jwt":          jwt.FromConfig,
	"rolling_code": rollingcode.FromConfig,
}
