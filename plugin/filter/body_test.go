package filter

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// bodyKey accepts a body of the form "ok:<subject>".
type bodyKey struct{ name string }

func (b *bodyKey) Name() string      { return b.name }
func (b *bodyKey) Kind() string      { return "bodykey" }
func (b *bodyKey) Challenge() string { return "" }
func (b *bodyKey) Verify(r *provider.Request) (provider.Identity, error) {
	if len(r.Body) == 0 {
		return provider.Identity{}, provider.ErrNoCredential
	}
	if s := string(r.Body); strings.HasPrefix(s, "ok:") {
		return provider.Identity{Subject: s[3:]}, nil
	}
	return provider.Identity{}, errTBad
}

const bodyConfig = `{"providers": [{"name": "signed", "type": "bodykey"}],
  "rules": [{"name": "r", "any_of": ["signed"], "buffer_body": true, "max_body_bytes": 16}]}`

func TestBodyBuffering(t *testing.T) {
	testKinds["bodykey"] = func(name string, o *conf.Object, _ provider.Deps) provider.Provider {
		o.Done()
		return &bodyKey{name: name}
	}
	defer delete(testKinds, "bodykey")

	cases := []struct {
		name   string
		chunks []string
		status uint32 // 0: forwarded
	}{
		{"one chunk", []string{"ok:bot"}, 0},
		{"two chunks", []string{"ok:", "bot"}, 0},
		{"bad body", []string{"nope"}, 401},
		{"too large", []string{"ok:0123456789", "0123456789"}, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := newHost(t, bodyConfig)
			id := host.InitializeHttpContext()
			if act := host.CallOnRequestHeaders(id, request("POST", "/x"), false); act != types.ActionPause {
				t.Fatalf("headers not held: %v", act)
			}
			var act types.Action
			for i, ch := range c.chunks {
				act = host.CallOnRequestBody(id, []byte(ch), i == len(c.chunks)-1)
				if host.GetSentLocalResponse(id) != nil {
					break
				}
				if i < len(c.chunks)-1 && act != types.ActionPause {
					t.Fatalf("chunk %d not buffered: %v", i, act)
				}
			}
			r := host.GetSentLocalResponse(id)
			if c.status == 0 {
				if r != nil || act != types.ActionContinue {
					t.Fatalf("not forwarded: %v %+v", act, r)
				}
				if got := header(host.GetCurrentRequestHeaders(id), "x-tokengate-subject"); len(got) != 1 || got[0] != "bot" {
					t.Fatalf("subject %q", got)
				}
				return
			}
			if r == nil || r.StatusCode != c.status {
				t.Fatalf("reply %+v", r)
			}
		})
	}
	// Without a body the rule is decided at the headers.
	host := newHost(t, bodyConfig)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, request("POST", "/x"), true)
	if r := host.GetSentLocalResponse(id); r == nil || r.StatusCode != 401 || string(r.Data) != `{"error":"credential_missing"}` {
		t.Fatalf("bodiless request %+v", r)
	}
}
