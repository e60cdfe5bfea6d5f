package filter

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// refresher is a provider with background work: every tick it asks for a
// key-set callout and records the answers it gets.
type refresher struct {
	tkey
	period  uint32
	ticks   []int64
	answers []int
}

func (r *refresher) TickPeriodMillis() uint32 { return r.period }
func (r *refresher) Tick(now int64) []*provider.NeedCallout {
	r.ticks = append(r.ticks, now)
	return []*provider.NeedCallout{{
		Call: provider.Callout{Cluster: "jwks", Headers: []provider.Header{{Name: ":method", Value: "GET"}, {Name: ":path", Value: "/keys"}, {Name: ":authority", Value: "idp"}}},
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			r.answers = append(r.answers, resp.Status)
			return provider.Identity{}, nil
		},
	}}
}

func TestTickerBackgroundWork(t *testing.T) {
	var made []*refresher
	kinds := map[string]config.Constructor{"refresher": func(name string, o *conf.Object, _ provider.Deps) provider.Provider {
		r := &refresher{tkey: tkey{name: name, header: "x-key"}, period: uint32(o.Int("period", 0, 0, 60000))}
		o.Done()
		made = append(made, r)
		return r
	}}
	now := int64(1e18)
	opt := proxytest.NewEmulatorOption().
		WithPluginConfiguration([]byte(`{"providers": [{"name": "a", "type": "refresher", "period": 2000}, {"name": "b", "type": "refresher", "period": 500}],
			"rules": [{"name": "r", "any_of": ["a", "b"]}]}`)).
		WithVMContext(NewVMContextWith(Options{Kinds: kinds, Now: func() int64 { return now }}))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusOK {
		t.Fatal(host.GetCriticalLogs())
	}
	if host.GetTickPeriod() != 500 {
		t.Fatalf("tick period %d, want the shortest (500)", host.GetTickPeriod())
	}
	a, b := made[0], made[1]
	for i := 0; i < 4; i++ {
		now += 500e6
		host.Tick()
	}
	if len(b.ticks) != 4 || len(a.ticks) != 1 {
		t.Fatalf("ticks: a %d (want 1), b %d (want 4)", len(a.ticks), len(b.ticks))
	}
	calls := host.GetCalloutAttributesFromContext(proxytest.PluginContextID)
	if len(calls) != 5 || calls[0].Upstream != "jwks" {
		t.Fatalf("background callouts %+v", calls)
	}
	host.CallOnHttpCallResponse(calls[0].CalloutID, [][2]string{{":status", "200"}}, nil, []byte(`{"keys":[]}`))
	if len(b.answers) != 1 || b.answers[0] != 200 {
		t.Fatalf("answers %v", b.answers)
	}
}
