package serve_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokengate/tokengate/hostsim/serve"
)

// tokengateWasm is the real plugin, built by `make wasm` (TOKENGATE_WASM
// overrides the path). A missing module fails the test instead of
// skipping it, so this check cannot pass by accident.
func tokengateWasm(t *testing.T) []byte {
	t.Helper()
	p := os.Getenv("TOKENGATE_WASM")
	if p == "" {
		p = filepath.Join("..", "..", "build", "tokengate.wasm")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("built plugin not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	return b
}

// bufferedConfig has one rule that buffers the body before asking its
// provider (an API key; the hash is of bufferedKey).
const bufferedConfig = `{
  "providers": [{"name": "keys", "type": "api_key", "keys": [{"id": "bot7",
    "hash": "sha256:65e89cb3f28f4c56c195121aa82fa39b1e2bdd33b5821e976d7b9dbd47b4a796",
    "subject": "bot-7", "scopes": ["write"], "expires": "never"}]}],
  "rules": [{"name": "upload", "paths": [{"prefix": "/upload"}], "methods": ["POST"],
    "any_of": ["keys"], "buffer_body": true, "max_body_bytes": 1024}]
}`

const bufferedKey = "tg_bot7_3kP9xQ2mZ8vR4tY6wB1nC5dF7gH0jK2lM4pS6uV8xZ"

// TestBufferedBodyRule runs the real plugin's buffer_body rule through
// serve. The plugin pauses in on_request_headers to collect the body; as
// in Envoy, only AllowOnHeadersStopIteration lets the body callback reach
// it, so with the option the request completes (forwarded with its body,
// or refused without a key) and without it the request is never resumed.
func TestBufferedBodyRule(t *testing.T) {
	wasm := tokengateWasm(t)
	for _, tc := range []struct {
		name     string
		allow    bool
		key      string
		status   int
		upstream bool // the upstream must see the request and its body
	}{
		{name: "allowed with option", allow: true, key: bufferedKey, status: 200, upstream: true},
		{name: "refused with option", allow: true, status: 401},
		{name: "never resumed without option", allow: false, key: bufferedKey, status: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newRecorder(t, 200, "stored")
			url := proxyWasm(t, wasm, serve.Options{
				Upstream: up.URL, PluginConfig: []byte(bufferedConfig), AllowOnHeadersStopIteration: tc.allow,
			})
			var headers []string
			if tc.key != "" {
				headers = []string{"X-Api-Key", tc.key}
			}
			resp, body := do(t, "POST", url+"/upload/report", `{"rows": 3}`, headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (body %q), want %d", resp.StatusCode, body, tc.status)
			}
			if !tc.upstream {
				if up.count() != 0 {
					t.Fatalf("the upstream got %d requests, want none", up.count())
				}
				return
			}
			got := up.last(t)
			if body != "stored" || got.Body != `{"rows": 3}` || got.URI != "/upload/report" {
				t.Fatalf("client got %q; upstream got %s %q", body, got.URI, got.Body)
			}
			if got.Header.Get("X-Api-Key") != "" {
				t.Fatal("the API key reached the upstream")
			}
		})
	}
}
