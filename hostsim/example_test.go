package hostsim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/hostsim"
)

// Testing a plugin's .wasm in ten lines: load it as Envoy 1.33–1.39 would,
// start it with two workers, send a request, read what happened.
func Example() {
	ctx := context.Background()
	wasm := pluginWasm // in your test: os.ReadFile("build/plugin.wasm")

	host, err := hostsim.New(ctx, wasm, hostsim.Config{}) // profile envoy-1.33 by default
	if err != nil {
		panic(err)
	}
	defer host.Close(ctx)
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{Name: "demo", Configuration: []byte(`{}`), Workers: 2})
	if err != nil {
		panic(err)
	}
	res := plugin.Worker(0).HTTP(ctx, hostsim.Request{Method: "GET", Path: "/api", Authority: "example.test",
		Headers: [][2]string{{"x-op", "reply"}}})
	fmt.Println(res.Outcome, res.Status, string(res.Body), res.Details)
	// Output: local_reply 403 nope denied_by_test
}

// Callouts are answered by named clusters; a slow upstream and a call
// timeout give the plugin Envoy's 504, and the test clock moves with it.
func ExampleConfig_WithCannedCluster() {
	ctx := context.Background()
	cfg := hostsim.Config{}.
		WithStartTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).
		WithCannedCluster("authz", hostsim.CannedResponse{Status: 200, Delay: 3 * time.Second})
	host, err := hostsim.New(ctx, pluginWasm, cfg)
	if err != nil {
		panic(err)
	}
	defer host.Close(ctx)
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{})
	if err != nil {
		panic(err)
	}
	res := plugin.Worker(0).HTTP(ctx, hostsim.Request{Headers: [][2]string{
		{"x-op", "callout"}, {"x-cluster", "authz"}, {"x-timeout", "500"}}})
	fmt.Println(res.Outcome, res.Status, res.Callouts[0].TimedOut, res.Callouts[0].Response.Status)
	fmt.Println(host.Now().Format("15:04:05.000"))
	// Output:
	// local_reply 401 true 504
	// 00:00:00.500
}
