// Package parity replays host-neutral scenario files (the format of
// shared/docs/scenario.md) through the plugin and checks each request's
// outcome against the expectation file next to it.
//
// Every testdata/NAME.json has a testdata/NAME.expect.json:
//
//	{"configure_ok": true,
//	 "metrics": {"tokengate.requests....": 2},
//	 "results": [{"name": "...", "outcome": "forwarded", "status": 200,
//	              "headers": [["x-tokengate-subject", "bot-7"]],  // must be present with these values
//	              "absent": ["x-api-key"],                        // must not be present
//	              "body": "..."}]}                                 // exact, when given
//
// For local replies "headers" is the whole reply header list, in order.
// The scenario files themselves stay pure scenario format, so `hostsim run`
// and any other host can take them unchanged.
//
// The files are decoded by hostsim/scenario, the same reader as
// `hostsim run`. The native runner (native_test.go) drives plugin/filter
// under the SDK's proxytest emulator; the wasm side replays the same files
// on the built module with scenario.Run (the two-worker variant with
// Options.RoundRobin), and the two result sets must agree.
package parity
