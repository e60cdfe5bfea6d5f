package config

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// The replay guard is built by the configuration when a store is given, so
// single-use credentials work; without a store they are refused at start.
func TestReplayGuardWiring(t *testing.T) {
	doc := `{"providers": [{"name": "c", "type": "rolling_code", "single_use": true,
	          "clients": {"bot": {"seed": {"env": "BOT_SEED"}}}}],
	         "rules": [{"name": "r", "any_of": ["c"]}], "replay": {"max_entries": 4096, "shards": 16}}`
	store := &provider.MemSharedData{}
	if _, _, err := ParseKinds([]byte(doc), testEnv, provider.Deps{Shared: store}, testKinds()); err != nil {
		t.Fatalf("with a store: %v", err)
	}
	if store.Len() != 0 {
		t.Fatalf("the guard wrote %d keys at start; it must be lazy", store.Len())
	}
	_, _, err := ParseKinds([]byte(doc), testEnv, provider.Deps{}, testKinds())
	if err == nil || !strings.Contains(err.Error(), "providers[0].single_use: needs the shared replay store") {
		t.Fatalf("without a store: %v", err)
	}
}

func TestLazyReplayGuard(t *testing.T) {
	store := &provider.MemSharedData{}
	p := &parser{deps: provider.Deps{Shared: store}}
	p.replay(nil)
	g := p.deps.Replay
	if g == nil {
		t.Fatal("no guard")
	}
	if err := g.Use("k", 1, 1e12); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := g.Use("k", 2, 1e12); provider.ReasonOf(err) != provider.ReasonReplayed {
		t.Fatalf("second use: %v", err)
	}
}
