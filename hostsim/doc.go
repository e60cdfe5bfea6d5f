// Package hostsim runs a proxy-wasm module the way Envoy does, inside a Go
// test: wazero executes the module, and hostsim plays Envoy's part — the
// proxy-wasm ABI v0.2.1 host functions with Envoy's status codes and
// quirks, Envoy's WASI stubs per Envoy version, its VM lifecycle (base,
// canary and one VM per worker) and its HTTP stream handling.
//
// # Testing a plugin in ten lines
//
//	host, err := hostsim.New(ctx, wasm, hostsim.Config{})
//	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
//		Configuration: []byte(`{"mode":"strict"}`), Workers: 2})
//	res := plugin.Worker(0).HTTP(ctx, hostsim.Request{
//		Method: "GET", Path: "/api", Authority: "example.test",
//		Headers: [][2]string{{"authorization", "Bearer x"}}})
//	// res.Outcome is "forwarded", "local_reply", "paused_forever" or "trap";
//	// res.Status, res.Headers, res.Body, res.Logs, res.Callouts say the rest.
//	host.Advance(ctx, time.Minute) // ticks and callout timeouts on the way
//	m, _ := host.Metric("requests_total")
//
// # Profiles
//
// Envoy versions differ in what they link: Envoy up to 1.32 has no
// poll_oneoff at all (Go modules fail to load), 1.33–1.39 answer it with
// ENOSYS (Go's runtime throws the first time it needs to sleep), and
// current Envoy answers with zero events. Pick one with Config.WithProfile;
// the default is ProfileEnvoy133, what deployed fleets run. Each profile
// also has Envoy's "restricted callbacks": during _initialize and inside a
// host-initiated malloc only an allow-list of imports may run, anything
// else traps.
//
// # Lifecycle
//
// StartPlugin starts a base VM, a canary VM (thrown away, as Envoy does)
// and Workers worker VMs; each runs the start-up exports, then
// proxy_on_context_create → proxy_on_vm_start → proxy_on_configure. A
// request goes to one worker (VM.HTTP): on_context_create, request
// headers/body/trailers, callouts delivered to the root context while the
// plugin waits, the upstream answer through the response callbacks, then
// on_log → on_done → on_delete (Envoy's order, not the spec's).
//
// For finer control, VM.NewStream returns a Stream driven one callback at a
// time (SendRequestHeaders, SendRequestBody, RunPending, SendResponse…,
// Complete). PluginConfig.ShareVMs lets a second plugin join the first
// one's VMs, as Envoy shares a VM between plugins with the same VM key.
//
// # Time
//
// The wall clock (proxy_get_current_time_nanoseconds, WASI clock 0) is a
// test clock that only moves with Host.Advance and while a request waits
// for a callout. WASI clock 1 is real monotonic time plus every advance,
// so guest runtime sleeps still make progress.
//
// # Traps
//
// A trap marks that worker's VM failed; no callback reaches it again. The
// request in flight gets Outcome "trap" (Envoy answers 503
// wasm_fail_stream), later ones follow the plugin's FailurePolicy.
//
// hostsim imports nothing from the plugin it tests: the ABI is the only
// contract.
package hostsim
