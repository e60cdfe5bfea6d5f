package scenario_test

import (
	"context"
	"os"
	"strings"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
	"github.com/tokengate/tokengate/hostsim/scenario"
)

// Replaying a scenario on a module and printing the documented output.
// The guest here is the package's test guest; use your plugin's .wasm.
func ExampleRun() {
	wasm, err := guesttest.ScenarioWasm() // in your code: os.ReadFile("build/plugin.wasm")
	if err != nil {
		panic(err)
	}
	s, err := scenario.Decode(strings.NewReader(`{
	  "plugin_config_raw": "demo",
	  "requests": [{"name": "refused", "path": "/admin", "headers": [["x-op", "reply-empty"]]}]
	}`))
	if err != nil {
		panic(err)
	}
	res, err := scenario.Run(context.Background(), wasm, s, scenario.Options{Profile: hostsim.ProfileEnvoyCurrent})
	if err != nil {
		panic(err)
	}
	res.Results[0].Logs = nil // keep the example short
	res.Logs = nil
	if err := res.Encode(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// {
	//   "vm_start_ok": true,
	//   "configure_ok": true,
	//   "logs": [],
	//   "metrics": {
	//     "requests": 1,
	//     "ticks": 0
	//   },
	//   "results": [
	//     {
	//       "name": "refused",
	//       "outcome": "local_reply",
	//       "status": 401,
	//       "headers": [
	//         [":status", "401"],
	//         ["www-authenticate", "Bearer"]
	//       ],
	//       "body": "",
	//       "logs": []
	//     }
	//   ]
	// }
}
