package deploycheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

// unsignedLookingJWT is a well-formed EdDSA JWT for the bots provider whose
// signature is never checked because its key cannot be fetched.
var unsignedLookingJWT = "eyJhbGciOiJFZERTQSIsImtpZCI6Im5vbmUtc3VjaCIsInR5cCI6IkpXVCJ9" +
	".eyJhdWQiOiJvcmRlcnMtYXBpIiwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJodHRwczovL2tleXMuZXhhbXBsZS5jb20iLCJzdWIiOiJ4In0" +
	"." + strings.Repeat("A", 86) // 64 zero bytes, unpadded base64url

// compiled is shared by the tests here so the module is compiled once.
var compiled = wazero.NewCompilationCache()

// demoKey is the API key whose hash envoy/envoy.yaml ships for the local
// demo (envoy/README.md; bound to loopback sources).
const demoKey = "tg_demo_HAVc121VlHFWgpDFvb1gJbV0vfT3HSUEYV9ekO4sLRf"

func header(h [][2]string, name string) (string, int) {
	v, n := "", 0
	for _, kv := range h {
		if kv[0] == name {
			if n == 0 {
				v = kv[1]
			}
			n++
		}
	}
	return v, n
}

// TestShippedBootstrapInHostsim loads build/tokengate.wasm with exactly what
// envoy/envoy.yaml gives Envoy (plugin name, root id, vm id, configuration,
// environment, clusters) on hostsim's Envoy 1.33–1.39 profile, with two
// workers and a canary, and checks the behaviour envoy/README.md promises.
// tests/e2e does the same against a real Envoy when one is installed.
func TestShippedBootstrapInHostsim(t *testing.T) {
	ctx := context.Background()
	module := builtModule(t)
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	// The jwks cluster serves a key set this test signs with; every other
	// cluster exists (so the names resolve, as in Envoy) but fails.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "OKP", "crv": "Ed25519", "kid": "deploy-test", "alg": "EdDSA", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}})
	cfg := hostsim.Config{}.WithProfile(hostsim.ProfileEnvoy133).WithCompilationCache(compiled)
	for _, c := range b.GetStaticResources().GetClusters() {
		canned := hostsim.CannedResponse{Status: 503}
		switch c.GetName() {
		case "jwks":
			canned = hostsim.CannedResponse{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: jwks}
		case "auth":
			canned = hostsim.CannedResponse{Status: 200, Headers: [][2]string{{"content-type", "application/json"}},
				Body: []byte(`{"active": true, "sub": "svc-42", "client_id": "reporting", "scope": "reports:read"}`)}
		}
		cfg = cfg.WithCannedCluster(c.GetName(), canned)
	}
	host, err := hostsim.New(ctx, module, cfg)
	if err != nil {
		t.Fatalf("the built module does not load on the Envoy 1.33 profile: %v", err)
	}
	defer host.Close(ctx)
	env := map[string]string{}
	for k, v := range testEnv(g.config) {
		env[k] = v
	}
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
		Name:          g.plugin.GetName(),
		RootID:        g.plugin.GetRootId(),
		VMID:          g.plugin.GetVmConfig().GetVmId(),
		Configuration: g.config,
		Env:           env,
		Workers:       2,
		FailurePolicy: hostsim.FailClosed,
	})
	if err != nil {
		var logs []string
		for _, l := range host.Logs() {
			logs = append(logs, l.String())
		}
		t.Fatalf("the plugin refused the shipped configuration: %v\n%v", err, logs)
	}
	defer plugin.Stop(ctx)

	send := func(path string, headers ...[2]string) *hostsim.Result {
		t.Helper()
		return plugin.Worker(0).HTTP(ctx, hostsim.Request{
			Method: "GET", Path: path, Authority: "gate.example.test",
			Headers: headers, SourceAddress: "127.0.0.1:40000", DestinationAddress: "127.0.0.1:10000",
		})
	}
	t.Run("health check is anonymous; forged identity removed", func(t *testing.T) {
		r := send("/healthz", [2]string{"x-tokengate-subject", "forged"})
		if r.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("outcome %s (status %d, body %s), want forwarded", r.Outcome, r.Status, r.Body)
		}
		if v, n := header(r.Headers, "x-tokengate-subject"); n != 0 {
			t.Errorf("forged identity header reached the upstream: %q", v)
		}
	})
	t.Run("no credential: 401 with a challenge", func(t *testing.T) {
		r := send("/api/orders")
		if r.Outcome != hostsim.OutcomeLocalReply || r.Status != 401 {
			t.Fatalf("outcome %s status %d, want local_reply 401", r.Outcome, r.Status)
		}
		if _, n := header(r.Headers, "www-authenticate"); n == 0 {
			t.Error("401 without WWW-Authenticate")
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil || body["error"] == nil {
			t.Errorf("body %q is not a JSON refusal", r.Body)
		}
	})
	t.Run("demo key: forwarded with identity, key stripped", func(t *testing.T) {
		r := send("/api/orders", [2]string{"x-api-key", demoKey})
		if r.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("outcome %s (status %d, body %s), want forwarded", r.Outcome, r.Status, r.Body)
		}
		if v, _ := header(r.Headers, "x-tokengate-subject"); v != "demo-partner" {
			t.Errorf("x-tokengate-subject %q, want demo-partner", v)
		}
		if _, n := header(r.Headers, "x-api-key"); n != 0 {
			t.Error("the API key reached the upstream")
		}
	})
	t.Run("JWT signed with a key from the jwks cluster passes", func(t *testing.T) {
		now := host.Now()
		tok := jwtlib.NewWithClaims(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{
			"iss": "https://keys.example.com", "aud": "orders-api", "sub": "robot-7",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		})
		tok.Header["kid"] = "deploy-test"
		signed, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		r := send("/api/orders", [2]string{"authorization", "Bearer " + signed})
		if r.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("outcome %s (status %d, body %s), want forwarded", r.Outcome, r.Status, r.Body)
		}
		if v, _ := header(r.Headers, "x-tokengate-subject"); v != "robot-7" {
			t.Errorf("x-tokengate-subject %q, want robot-7", v)
		}
		if _, n := header(r.Headers, "authorization"); n != 0 {
			t.Error("the JWT reached the upstream")
		}
	})
	t.Run("opaque token checked through the auth cluster", func(t *testing.T) {
		r := send("/reports/daily", [2]string{"authorization", "Bearer opaque-2YotnFZFEjr1zCsicMWpAA"})
		if r.Outcome != hostsim.OutcomeForwarded {
			t.Fatalf("outcome %s (status %d, body %s), want forwarded", r.Outcome, r.Status, r.Body)
		}
		if v, _ := header(r.Headers, "x-tokengate-subject"); v != "svc-42" {
			t.Errorf("x-tokengate-subject %q, want svc-42", v)
		}
		if v, _ := header(r.Headers, "x-tokengate-client-id"); v != "reporting" {
			t.Errorf("x-tokengate-client-id %q, want reporting", v)
		}
		if len(r.Callouts) != 1 || r.Callouts[0].Cluster != "auth" {
			t.Fatalf("callouts %+v, want one to the auth cluster", r.Callouts)
		}
		if v, _ := header(r.Callouts[0].Headers, "authorization"); v != env["TG_INTROSPECT_AUTH"] {
			t.Error("the introspection call did not carry the secret from TG_INTROSPECT_AUTH")
		}
		if v, _ := header(r.Callouts[0].Headers, ":authority"); v != "auth.example.com" {
			t.Errorf("introspection :authority %q", v)
		}
	})
	t.Run("demo key from a non-loopback address is refused", func(t *testing.T) {
		r := plugin.Worker(1).HTTP(ctx, hostsim.Request{
			Method: "GET", Path: "/api/orders", Authority: "gate.example.test",
			Headers: [][2]string{{"x-api-key", demoKey}}, SourceAddress: "203.0.113.7:40000",
		})
		if r.Outcome != hostsim.OutcomeLocalReply || r.Status < 400 {
			t.Fatalf("outcome %s status %d, want a refusal", r.Outcome, r.Status)
		}
	})
	t.Run("unlisted path denied by default", func(t *testing.T) {
		r := send("/elsewhere", [2]string{"x-api-key", demoKey})
		if r.Outcome != hostsim.OutcomeLocalReply || r.Status < 400 {
			t.Fatalf("outcome %s status %d, want a refusal", r.Outcome, r.Status)
		}
	})
}

// TestShippedBootstrapRefusesMissingSecret: started without the environment
// variable the configuration reads, the plugin refuses to start (Envoy would
// refuse the configuration): fail closed.
func TestShippedBootstrapRefusesMissingSecret(t *testing.T) {
	ctx := context.Background()
	module := builtModule(t)
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	host, err := hostsim.New(ctx, module, hostsim.Config{}.WithCompilationCache(compiled))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	_, err = host.StartPlugin(ctx, hostsim.PluginConfig{
		Name: g.plugin.GetName(), RootID: g.plugin.GetRootId(), VMID: g.plugin.GetVmConfig().GetVmId(),
		Configuration: g.config,
	})
	if err == nil {
		t.Fatal("the plugin started without its secrets")
	}
}

// TestShippedWasmPluginInHostsim starts the module the way Istio configures
// Envoy from envoy/istio/wasmplugin.yaml (plugin name
// "<namespace>.<name>", root id = pluginName, empty vm id, pluginConfig as
// JSON text, vmConfig.env) and checks that it starts and gates.
func TestShippedWasmPluginInHostsim(t *testing.T) {
	ctx := context.Background()
	module := builtModule(t)
	s := loadIstio(t)
	d, err := decodeIstio(t, s)
	if err != nil {
		t.Fatal(err)
	}
	md := s[istioWasmPlugin][0]["metadata"].(map[string]any)
	env := map[string]string{}
	for k, v := range testEnv(d.pluginConfig) {
		env[k] = v
	}
	host, err := hostsim.New(ctx, module, hostsim.Config{}.WithProfile(hostsim.ProfileEnvoy133).WithCompilationCache(compiled))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
		Name:          md["namespace"].(string) + "." + md["name"].(string),
		RootID:        d.plugin.GetPluginName(),
		Configuration: d.pluginConfig,
		Env:           env,
		Workers:       2,
	})
	if err != nil {
		var logs []string
		for _, l := range host.Logs() {
			logs = append(logs, l.String())
		}
		t.Fatalf("the plugin refused %s's configuration: %v\n%v", istioWasmPlugin, err, logs)
	}
	defer plugin.Stop(ctx)
	for _, tc := range []struct {
		path    string
		outcome hostsim.Outcome
		status  int
	}{
		{"/healthz", hostsim.OutcomeForwarded, 200},
		{"/api/orders", hostsim.OutcomeLocalReply, 401},
		{"/admin/users", hostsim.OutcomeLocalReply, 401},
	} {
		r := plugin.Worker(0).HTTP(ctx, hostsim.Request{
			Method: "GET", Path: tc.path, Authority: "gate.example.test", SourceAddress: "10.1.2.3:40000",
		})
		if r.Outcome != tc.outcome || r.Status != tc.status {
			t.Errorf("GET %s: outcome %s status %d, want %s %d", tc.path, r.Outcome, r.Status, tc.outcome, tc.status)
		}
	}
}

// TestShippedBootstrapAcrossEnvoyProfiles: the module and configuration
// envoy.yaml ships start and gate on every Envoy profile hostsim models
// (≤1.32, 1.33–1.39, current), thanks to the compatibility pass `make wasm`
// runs.
func TestShippedBootstrapAcrossEnvoyProfiles(t *testing.T) {
	ctx := context.Background()
	module := builtModule(t)
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range testEnv(g.config) {
		env[k] = v
	}
	for _, prof := range []hostsim.Profile{hostsim.ProfileEnvoy132, hostsim.ProfileEnvoy133, hostsim.ProfileEnvoyCurrent} {
		t.Run(string(prof), func(t *testing.T) {
			cfg := hostsim.Config{}.WithProfile(prof).WithCompilationCache(compiled)
			for _, c := range b.GetStaticResources().GetClusters() {
				cfg = cfg.WithCannedCluster(c.GetName(), hostsim.CannedResponse{Status: 503})
			}
			host, err := hostsim.New(ctx, module, cfg)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			defer host.Close(ctx)
			plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
				Name: g.plugin.GetName(), RootID: g.plugin.GetRootId(), VMID: g.plugin.GetVmConfig().GetVmId(),
				Configuration: g.config, Env: env,
			})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer plugin.Stop(ctx)
			r := plugin.Worker(0).HTTP(ctx, hostsim.Request{Method: "GET", Path: "/api/orders", Authority: "gate.example.test",
				Headers: [][2]string{{"x-api-key", demoKey}}, SourceAddress: "127.0.0.1:40000"})
			if r.Outcome != hostsim.OutcomeForwarded {
				t.Errorf("demo key: outcome %s status %d, want forwarded", r.Outcome, r.Status)
			}
			r = plugin.Worker(0).HTTP(ctx, hostsim.Request{Method: "GET", Path: "/api/orders", Authority: "gate.example.test",
				SourceAddress: "127.0.0.1:40000"})
			if r.Outcome != hostsim.OutcomeLocalReply || r.Status != 401 {
				t.Errorf("no key: outcome %s status %d, want local_reply 401", r.Outcome, r.Status)
			}
			// Every cluster answers 503 here, as Envoy does when nothing
			// listens: a JWT whose keys cannot be fetched fails closed
			// (envoy/README.md promises 503 callout_failed).
			r = plugin.Worker(0).HTTP(ctx, hostsim.Request{Method: "GET", Path: "/api/orders", Authority: "gate.example.test",
				Headers: [][2]string{{"authorization", "Bearer " + unsignedLookingJWT}}, SourceAddress: "127.0.0.1:40000"})
			if r.Outcome != hostsim.OutcomeLocalReply || r.Status != 503 || !strings.Contains(string(r.Body), "callout_failed") {
				t.Errorf("JWT without a key server: outcome %s status %d body %s, want local_reply 503 callout_failed", r.Outcome, r.Status, r.Body)
			}
		})
	}
}
