package oracle

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// fuzzWorld is one loaded module and one native reference, shared by every
// input of a fuzzing process (state such as replay entries and buckets
// accumulates on both sides alike).
type fuzzWorld struct {
	host *hostsim.Host
	plug *hostsim.Plugin
	ref  *native
	fx   *fixture.Fixture
	n    int
}

var (
	worldOnce sync.Once
	world     *fuzzWorld
	worldErr  error
)

func getWorld(t testing.TB) *fuzzWorld {
	worldOnce.Do(func() {
		fx, err := fixture.Get()
		if err != nil {
			worldErr = err
			return
		}
		fx.SkipMinted = true
		wasm, err := fixture.Wasm()
		if err != nil {
			worldErr = err
			return
		}
		svc := fx.NewServices()
		h, p, err := fx.Start(context.Background(), wasm, svc.HostConfig(fixture.T0).WithLogLevel(hostsim.LogWarn), 2)
		if err != nil {
			worldErr = err
			return
		}
		world = &fuzzWorld{host: h, plug: p, fx: fx, ref: newNative(t, fx, svc)}
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

// FuzzDifferential sends arbitrary requests (method, path, up to a few
// headers, source address) through the built module and through the
// native reference: the decisions must agree, the module must not trap,
// and nothing may leak. Header lines are "name: value" separated by '\n'.
func FuzzDifferential(f *testing.F) {
	fx, err := fixture.Get()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("GET", "/k/x", "x-api-key: "+fx.Read.Key, "10.1.2.3:1")
	f.Add("GET", "/admin/../k", "authorization: ApiKey "+fx.Admin.Key+"\nx-api-key: x", "10.1.2.3:1")
	f.Add("POST", "/ip/%2e%2e/admin", "x-forwarded-for: 10.1.1.1", "192.0.2.1:9")
	f.Add("GET", "/st/x?TOKEN=a%zz", "authorization: TmpToken a b", "[::1]:80")
	f.Add("GET", "/jwt/x", "authorization: Bearer e30.e30.", "10.66.0.1:1")
	f.Add("GET", "/hs/x", "signature-input: sig1=();created=1\nsignature: sig1=:AAAA:", "10.1.2.3:1")
	f.Add("OPTIONS", "/k/x", "origin: x\naccess-control-request-method: GET", "10.1.2.3:1")
	f.Add("GET", "/rc/x", "x-rolling-code-client: billing\nx-rolling-code: aaaaaaaa", "10.1.2.3:1")
	// Load the module before fuzzing starts: compiling it takes longer
	// than the fuzzing engine lets a worker stay silent.
	getWorld(f)
	f.Fuzz(func(t *testing.T, method, path, headers, source string) {
		if method == "" || strings.ContainsAny(method, "\x00\r\n") || len(headers) > 1<<14 {
			return
		}
		w := getWorld(t)
		req := hostsim.Request{Method: method, Path: path, Authority: fixture.Authority, SourceAddress: source}
		for _, line := range strings.Split(headers, "\n") {
			name, value, ok := strings.Cut(line, ": ")
			if !ok || name == "" || strings.HasPrefix(name, ":") || strings.ContainsAny(name, " \x00") {
				continue
			}
			req.Headers = append(req.Headers, [2]string{strings.ToLower(name), value})
		}
		w.host.Advance(context.Background(), 7*time.Millisecond)
		want := w.ref.decide(req, w.host.Now())
		res := w.plug.Worker(w.n%2).HTTP(context.Background(), req)
		w.n++
		if res.Outcome == hostsim.OutcomeTrap {
			t.Fatalf("trap: %s", res.Trap)
		}
		if got := wasmDecision(res); got != want {
			t.Fatalf("%s %q %q from %q: wasm %s, native %s", method, path, headers, source, got, want)
		}
		for _, l := range w.fx.Scan.Result("fuzz", res) {
			t.Fatalf("secret leak: %s", l)
		}
	})
}
