package hostsim_test

import (
	"context"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	h, err := hostsim.New(ctx, guest(t, "conformance"), hostsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	p, err := h.StartPlugin(ctx, hostsim.PluginConfig{Name: "t", Configuration: []byte("hello"), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"", "reply", "add", "props", "continue-then-read", "nil", ""} {
		res := p.Worker(0).HTTP(ctx, hostsim.Request{Path: "/x?y=1", Authority: "a", Headers: [][2]string{{"x-op", op}}})
		t.Logf("op=%q outcome=%s status=%d headers=%v body=%q trap=%q", op, res.Outcome, res.Status, res.Headers, res.Body, res.Trap)
		for _, l := range res.Logs {
			t.Logf("   %s %s", l.Level, l.Message)
		}
	}
	for _, l := range h.Logs()[:12] {
		t.Logf("host: %d %s", l.Worker, l.Message)
	}
}
