package deploycheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/serve"
)

// TestShippedBootstrapOverHTTP replays envoy/README.md's curl session over
// real HTTP: clients → hostsim's HTTP front end running the built module with
// envoy.yaml's configuration → a recording upstream, with the auth and jwks
// clusters served by real HTTP servers that check what the gate sends them.
// It is the same script tests/e2e runs against a real Envoy.
func TestShippedBootstrapOverHTTP(t *testing.T) {
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

	var mu sync.Mutex
	var seen []http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		io.WriteString(w, "upstream ok")
	}))
	defer upstream.Close()
	last := func() (http.Header, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return nil, 0
		}
		return seen[len(seen)-1], len(seen)
	}

	// The introspection service accepts one token, and only from a gate that
	// authenticates with TG_INTROSPECT_AUTH.
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("content-type", "application/json")
		if r.Method != "POST" || r.URL.Path != "/oauth2/introspect" ||
			r.Header.Get("authorization") != env["TG_INTROSPECT_AUTH"] || r.PostForm.Get("token") != "opaque-2YotnFZFEjr1zCsicMWpAA" {
			io.WriteString(w, `{"active": false}`)
			return
		}
		io.WriteString(w, `{"active": true, "sub": "svc-42", "client_id": "reporting"}`)
	}))
	defer auth.Close()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "OKP", "crv": "Ed25519", "kid": "http-test", "alg": "EdDSA", "use": "sig",
			"x": base64.RawURLEncoding.EncodeToString(pub),
		}}})
	}))
	defer jwks.Close()

	clusters := map[string]string{}
	for _, c := range b.GetStaticResources().GetClusters() {
		switch c.GetName() {
		case "auth":
			clusters["auth"] = auth.URL
		case "jwks":
			clusters["jwks"] = jwks.URL
		}
	}
	srv, err := serve.New(ctx, module, serve.Options{
		Upstream: upstream.URL, Clusters: clusters, PluginConfig: g.config, RootID: g.plugin.GetRootId(),
		Env: env, Workers: 2, Config: hostsim.Config{}.WithCompilationCache(compiled),
	})
	if err != nil {
		t.Fatalf("the plugin refused the shipped configuration: %v", err)
	}
	defer srv.Close(ctx)
	gate := httptest.NewServer(srv)
	defer gate.Close()

	client := &http.Client{Timeout: 30 * time.Second}
	do := func(path string, hdr map[string]string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", gate.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}

	if code, _, _ := do("/healthz", map[string]string{"x-tokengate-subject": "forged"}); code != 200 {
		t.Errorf("GET /healthz: %d, want 200", code)
	} else if h, _ := last(); h.Get("x-tokengate-subject") != "" {
		t.Error("a forged identity header reached the upstream")
	}

	_, before := last()
	code, hdr, body := do("/api/orders", nil)
	if code != 401 || hdr.Get("www-authenticate") == "" {
		t.Errorf("no credential: %d %q (www-authenticate %q), want 401 with a challenge", code, body, hdr.Get("www-authenticate"))
	}
	if _, after := last(); after != before {
		t.Error("a refused request reached the upstream")
	}

	if code, _, body := do("/api/orders", map[string]string{"x-api-key": demoKey}); code != 200 || body != "upstream ok" {
		t.Errorf("demo key: %d %q, want 200 from the upstream", code, body)
	} else if h, _ := last(); h.Get("x-tokengate-subject") != "demo-partner" || h.Get("x-api-key") != "" {
		t.Errorf("demo key: upstream saw subject %q, x-api-key present %v", h.Get("x-tokengate-subject"), h.Get("x-api-key") != "")
	}

	tok := jwtlib.NewWithClaims(jwtlib.SigningMethodEdDSA, jwtlib.MapClaims{
		"iss": "https://keys.example.com", "aud": "orders-api", "sub": "robot-7",
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
	})
	tok.Header["kid"] = "http-test"
	signed, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := do("/api/orders", map[string]string{"authorization": "Bearer " + signed}); code != 200 {
		t.Errorf("JWT: %d %q, want 200", code, body)
	} else if h, _ := last(); h.Get("x-tokengate-subject") != "robot-7" {
		t.Errorf("JWT: upstream saw subject %q, want robot-7", h.Get("x-tokengate-subject"))
	}

	if code, _, body := do("/reports/daily", map[string]string{"authorization": "Bearer opaque-2YotnFZFEjr1zCsicMWpAA"}); code != 200 {
		t.Errorf("introspected token: %d %q, want 200", code, body)
	} else if h, _ := last(); h.Get("x-tokengate-subject") != "svc-42" || h.Get("x-tokengate-client-id") != "reporting" {
		t.Errorf("introspected token: upstream saw subject %q client %q", h.Get("x-tokengate-subject"), h.Get("x-tokengate-client-id"))
	}
	if code, _, _ := do("/reports/daily", map[string]string{"authorization": "Bearer some-other-token"}); code != 401 {
		t.Errorf("inactive token: %d, want 401", code)
	}

	_, before = last()
	if code, _, _ := do("/elsewhere", map[string]string{"x-api-key": demoKey}); code < 400 {
		t.Errorf("unlisted path: %d, want a refusal", code)
	}
	if _, after := last(); after != before {
		t.Error("a request to an unlisted path reached the upstream")
	}
}
