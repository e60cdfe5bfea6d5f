package config_test

import (
	"fmt"

	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
)

// A configuration with mistakes is refused as a whole, every problem named
// by its JSON path.
func ExampleParse() {
	doc := `{
	  "providers": [{"name": "office", "type": "ip_rule", "allow": ["10.0.0.0/8"]}],
	  "rules": [
	    {"name": "all", "all_of": ["office"]},
	    {"name": "admin", "paths": [{"prefix": "/admin/../root"}], "any_of": ["offcie"]}
	  ],
	  "deny_log_level": "verbose"
	}`
	_, _, err := config.Parse([]byte(doc), nil, provider.Deps{})
	fmt.Println(err)
	// Output:
	// deny_log_level: "verbose" is not one of trace, debug, info, warn, error, critical
	// rules[1].paths[0].prefix: "/admin/../root" is not in normal form (it normalises to "/root")
	// rules[1].any_of[0]: unknown provider "offcie"
}
