package deploycheck

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// embeddedConfigs returns the plugin configuration of each shipped file,
// exactly as the plugin will receive it: Envoy's StringValue text, and the
// JSON Istio makes of a WasmPlugin's pluginConfig.
func embeddedConfigs(t *testing.T) map[string][]byte {
	t.Helper()
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeIstio(t, loadIstio(t))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{envoyFile: g.config, istioWasmPlugin: d.pluginConfig}
}

// testEnv gives every variable the configurations read a strong value, as
// the deployment's secret store would.
func testEnv(cfg []byte) conf.MapEnv {
	env := conf.MapEnv{}
	for _, name := range envRefs(cfg) {
		env[name] = "deploy-test-" + name + "-7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e"
	}
	return env
}

func parseConfig(cfg []byte, env conf.Env) ([]string, error) {
	deps := provider.Deps{Shared: &provider.MemSharedData{}}
	_, warnings, err := config.Parse(cfg, env, deps)
	return warnings, err
}

// TestEmbeddedPluginConfigsParse runs each shipped configuration through the
// plugin's own validator, the one on_configure uses.
func TestEmbeddedPluginConfigsParse(t *testing.T) {
	for file, cfg := range embeddedConfigs(t) {
		t.Run(file, func(t *testing.T) {
			warnings, err := parseConfig(cfg, testEnv(cfg))
			if err != nil {
				t.Fatalf("the plugin refuses the configuration in %s:\n%v", file, err)
			}
			for _, w := range warnings {
				t.Logf("warning: %s", w)
			}
		})
	}
}

// TestEmbeddedPluginConfigsFailClosed: the same configurations with one field
// broken, or a secret missing from the environment, are refused, each with
// the JSON path of the problem.
func TestEmbeddedPluginConfigsFailClosed(t *testing.T) {
	for file, cfg := range embeddedConfigs(t) {
		var tree map[string]any
		if err := json.Unmarshal(cfg, &tree); err != nil {
			t.Fatalf("%s: configuration is not a JSON object: %v", file, err)
		}
		for _, tc := range []struct {
			name   string
			mutate func(tr map[string]any, env conf.MapEnv)
			want   string
		}{
			{"unknown field", func(tr map[string]any, _ conf.MapEnv) { set(t, tr, "rules.0.pathz", []any{}) }, "rules[0].pathz"},
			{"wrong type", func(tr map[string]any, _ conf.MapEnv) { set(t, tr, "trusted_xff_hops", "two") }, "trusted_xff_hops"},
			{"bad CIDR", func(tr map[string]any, _ conf.MapEnv) { set(t, tr, "providers.2.allow", []any{"10.0.0.0/33"}) }, "providers[2].allow"},
			{"unknown provider type", func(tr map[string]any, _ conf.MapEnv) { set(t, tr, "providers.0.type", "api_kee") }, "providers[0].type"},
			{"missing required rules", func(tr map[string]any, _ conf.MapEnv) { del(t, tr, "rules") }, "rules"},
			{"secret missing from the environment", func(_ map[string]any, env conf.MapEnv) {
				for k := range env {
					delete(env, k)
				}
			}, "TG_BILLING_SEED"},
		} {
			t.Run(file+"/"+tc.name, func(t *testing.T) {
				tr := deepCopy(t, tree)
				env := testEnv(cfg)
				tc.mutate(tr, env)
				_, err := parseConfig(treeJSON(t, tr), env)
				if err == nil {
					t.Fatal("the broken configuration was accepted")
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not mention %q", err, tc.want)
				}
			})
		}
	}
}
