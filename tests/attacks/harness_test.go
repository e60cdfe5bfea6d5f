package attacks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// env is one loaded module with the fixture's configuration on two worker
// VMs, at a clock the cases can move forward.
type env struct {
	t    *testing.T
	fx   *fixture.Fixture
	svc  *fixture.Services
	host *hostsim.Host
	plug *hostsim.Plugin
	now  time.Time
}

var cache = wazero.NewCompilationCache()

func newEnv(t *testing.T) *env {
	t.Helper()
	fx, err := fixture.Get()
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := fixture.Wasm()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := fx.NewServices()
	h, p, err := fx.Start(ctx, wasm, svc.HostConfig(fixture.T0).WithCompilationCache(cache), 2)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	e := &env{t: t, fx: fx, svc: svc, host: h, plug: p, now: fixture.T0}
	t.Cleanup(func() {
		fx.Scan.CheckLogs(t, "host", h.Logs())
		p.Stop(ctx)
		h.Close(ctx)
	})
	return e
}

// advance moves the host clock (delivering due ticks and callouts).
func (e *env) advance(d time.Duration) {
	e.host.Advance(context.Background(), d)
	e.now = e.now.Add(d)
}

// send runs r on worker w and scans the result for leaks.
func (e *env) send(w int, r hostsim.Request) *hostsim.Result {
	return e.sendT(e.t, w, r)
}

// sendT is send reporting to t (a subtest).
func (e *env) sendT(t *testing.T, w int, r hostsim.Request) *hostsim.Result {
	t.Helper()
	if r.Authority == "" {
		r.Authority = fixture.Authority
	}
	if r.SourceAddress == "" {
		r.SourceAddress = fixture.ClientIP + ":40000"
	}
	res := e.plug.Worker(w).HTTP(context.Background(), r)
	e.fx.Scan.Check(t, r.Method+" "+r.Path, res)
	return res
}

// reason is the refusal reason of a local reply's JSON body.
func reason(r *hostsim.Result) string {
	var b struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error
}

func header(hs [][2]string, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// summary is a one-line description of a result for failure messages.
func summary(r *hostsim.Result) string {
	switch r.Outcome {
	case hostsim.OutcomeLocalReply:
		return string(r.Outcome) + " " + itoa(r.Status) + " " + string(r.Body)
	case hostsim.OutcomeTrap:
		return "trap: " + r.Trap
	}
	return string(r.Outcome) + " subject=" + header(r.Headers, "x-tokengate-subject")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
