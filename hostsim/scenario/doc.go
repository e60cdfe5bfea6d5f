// Package scenario runs the host-neutral scenario files of
// shared/docs/scenario.md on hostsim: Decode reads a scenario, Run starts
// the plugin and sends its requests, and Result.Encode writes the output
// in the documented shape, byte for byte the same for the same run.
//
//	s, err := scenario.Decode(f)
//	res, err := scenario.Run(ctx, wasm, s, scenario.Options{Profile: hostsim.ProfileEnvoyCurrent})
//	err = res.Encode(os.Stdout)
//
// # Input
//
// Decode is strict: unknown fields, header pairs that are not exactly
// [name, value], both plugin_config and plugin_config_raw, negative delays
// or advances, and data after the object are refused with the JSON path at
// fault (errors wrap ErrInvalid). plugin_config is passed to the plugin as
// its compact JSON text with key order and number spelling kept
// (json.Compact), so large integers reach the plugin unchanged.
//
// # Running
//
// One Host per run. Upstreams become canned clusters (a delay beyond the
// call's timeout is Envoy's 504 timeout answer; an unlisted cluster is
// unknown to the host, so proxy_http_call fails as in Envoy). The test
// clock starts at now_unix_ms; advance_ms moves it before a request and
// delivers the ticks and callout responses due on the way. Requests run
// one after another on worker 0, sharing all VM state.
//
// Options.Workers starts that many worker VMs, after the canary, as Envoy
// does; only start-up differs (it runs once per VM, and its logs appear
// once per VM), because scenario.md sends every request to one VM.
// Options.RoundRobin departs from that on purpose and sends request i to
// worker i mod Workers, to show that cross-request state lives in shared
// data.
//
// Options.AllowOnHeadersStopIteration is Envoy's filter option of that
// name, a host setting scenario.md leaves out: plugins that pause in the
// request headers to read the body need it, in Envoy as here.
//
// # Output
//
// Top-level logs are every record not logged while a request ran:
// start-up (base, canary and worker VMs), and ticks or callout responses
// delivered by advance_ms. A request's own records are in its result.
// Metrics are the counters and gauges the plugin defined, by the name it
// gave them, summed over VMs; histograms are left out (they have no single
// value). When the module fails to load, vm_start_ok and configure_ok are
// false and a critical log carries Envoy's message.
package scenario
