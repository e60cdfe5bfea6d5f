package scenario

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tokengate/tokengate/hostsim"
)

// Options say how to run a scenario.
type Options struct {
	// Profile is the Envoy profile (empty: hostsim's default, envoy-1.33).
	// It overrides any profile set in Config.
	Profile hostsim.Profile
	// Workers is how many worker VMs start (default 1). Envoy starts a
	// canary VM and then one VM per worker thread; all of them run the
	// start-up sequence (so start-up logs appear once per VM, canary
	// included). Requests all go to worker 0, in order, as scenario.md
	// requires (unless RoundRobin); the other workers share the Host's
	// shared data and metrics.
	Workers int
	// RoundRobin sends request i to worker i mod Workers instead of worker
	// 0, as Envoy spreads connections over its worker threads. It departs
	// from scenario.md (one VM) on purpose: state that must hold across
	// requests (rate limits, replay) has to live in shared data to give the
	// same results. Each request still runs on one VM, so its logs are
	// still its own.
	RoundRobin bool
	// AllowOnHeadersStopIteration is Envoy's Wasm filter option of that
	// name (see hostsim.PluginConfig): with it, a plugin that pauses in
	// on_request_headers still gets the request body and can resume from
	// the body callback; without it (Envoy's default) such a request ends
	// paused_forever. It is a host setting, not part of scenario.md.
	AllowOnHeadersStopIteration bool
	// Config is the base host configuration (compilation cache, log level,
	// properties, extra clusters…). The scenario's clusters and clock are
	// applied on top.
	Config hostsim.Config
	// Random is the source behind WASI random_get. Nil means a fixed
	// pseudo-random stream, so that a plugin drawing random bytes (ids,
	// map seeds) still gives the same output for the same scenario; pass
	// crypto/rand.Reader for Envoy's behaviour. It replaces any
	// Config.WithRandom.
	Random io.Reader
}

// Run runs s on wasm and returns the result in the documented shape.
//
// A module that fails to load (bad module, missing import for the
// profile…) is reported as vm_start_ok and configure_ok false with
// Envoy's message as a critical log, as the scenario output has no other
// place for it; the error return is for bad options and a cancelled ctx.
func Run(ctx context.Context, wasm []byte, s *Scenario, opts Options) (*Result, error) {
	if s == nil {
		return nil, errors.New("scenario: nil scenario")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Workers < 0 {
		return nil, errors.New("scenario: negative worker count")
	}
	cfg := opts.Config
	if opts.Random != nil {
		cfg = cfg.WithRandom(opts.Random)
	} else {
		var seed [32]byte
		copy(seed[:], "tokengate hostsim scenario seed")
		cfg = cfg.WithRandom(rand.NewChaCha8(seed))
	}
	if opts.Profile != "" {
		cfg = cfg.WithProfile(opts.Profile)
	}
	if s.HasNow {
		cfg = cfg.WithStartTime(time.UnixMilli(s.NowUnixMs))
	}
	for name, u := range s.Upstreams {
		// A delay beyond the call's timeout becomes Envoy's 504 timeout
		// answer inside hostsim; clusters not listed here are unknown to
		// the host, so proxy_http_call gets Envoy's BadArgument.
		cfg = cfg.WithCannedCluster(name, hostsim.CannedResponse{
			Status: u.Status, Headers: u.Headers, Body: []byte(u.Body),
			Delay: time.Duration(u.DelayMs) * time.Millisecond,
		})
	}
	res := newResult()
	host, err := hostsim.New(ctx, wasm, cfg)
	if err != nil {
		var le *hostsim.LoadError
		if errors.As(err, &le) {
			res.Logs = append(res.Logs, Log{Level: hostsim.LogCritical.String(), Message: le.Msg})
			return res, nil
		}
		return nil, err
	}
	defer host.Close(ctx)

	// Logs recorded while a request runs belong to that request's result;
	// everything else (start-up, ticks delivered by advance_ms) is
	// top-level. seen counts the host log records already placed.
	seen := 0
	topLevel := func() {
		all := host.Logs()
		for _, e := range all[seen:] {
			res.Logs = append(res.Logs, logOf(e))
		}
		seen = len(all)
	}

	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{
		RootID: s.RootID, Configuration: s.PluginConfig, VMConfiguration: []byte(s.VMConfig),
		Env: s.Env, Workers: opts.Workers, AllowOnHeadersStopIteration: opts.AllowOnHeadersStopIteration,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the start failed because the run was cancelled
		}
		var se *hostsim.StartError
		var le *hostsim.LoadError
		switch {
		case errors.As(err, &se):
			res.VMStartOK, res.ConfigureOK = se.VMStartOK, se.ConfigureOK
			topLevel()
			res.Metrics = metricsOf(host.Metrics()) // what start-up defined
		case errors.As(err, &le): // instantiation failed
			topLevel()
			res.Logs = append(res.Logs, Log{Level: hostsim.LogCritical.String(), Message: le.Msg})
		default:
			return nil, err
		}
		return res, nil
	}
	res.VMStartOK, res.ConfigureOK = true, true
	topLevel()
	workers := plugin.Workers()
	for i, r := range s.Requests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.AdvanceMs > 0 {
			host.Advance(ctx, time.Duration(r.AdvanceMs)*time.Millisecond)
			topLevel()
		}
		vm := workers[0]
		if opts.RoundRobin {
			vm = workers[i%len(workers)]
		}
		hr := vm.HTTP(ctx, hostsim.Request{
			Method: r.Method, Path: r.Path, Authority: r.Authority, Scheme: r.Scheme,
			Headers: r.Headers, Body: []byte(r.Body),
			SourceAddress: r.SourceAddress, DestinationAddress: r.DestinationAddress,
		})
		res.Results = append(res.Results, requestResult(r.Name, hr))
		// Only this VM ran, so the host's new records are exactly the
		// request's (counting them avoids copying the whole host log).
		seen += len(hr.Logs)
	}
	topLevel()
	res.Metrics = metricsOf(host.Metrics())
	return res, nil
}

// requestResult maps hostsim's result onto the output format. hostsim
// already builds the documented shapes: forwarded headers as the plugin
// left them and the upstream status; a local reply's ":status", the
// plugin's headers, then content-length and content-type; a trap's text
// in the body.
func requestResult(name string, hr *hostsim.Result) RequestResult {
	rr := RequestResult{
		Name: name, Outcome: string(hr.Outcome), Status: hr.Status,
		Headers: make([][2]string, 0, len(hr.Headers)), Body: string(hr.Body), Logs: []Log{},
	}
	for _, kv := range hr.Headers {
		// Envoy's header maps are lower-case; hostsim keeps them so, and
		// the output format promises it whatever the host did.
		rr.Headers = append(rr.Headers, [2]string{strings.ToLower(kv[0]), kv[1]})
	}
	for _, e := range hr.Logs {
		rr.Logs = append(rr.Logs, logOf(e))
	}
	return rr
}

func logOf(e hostsim.LogEntry) Log { return Log{Level: e.Level.String(), Message: e.Message} }

// metricsOf keeps counters and gauges by the name the plugin defined.
// Histograms have no single value (Envoy cannot read them back either), so
// they are left out.
func metricsOf(ms []hostsim.Metric) map[string]int64 {
	out := make(map[string]int64, len(ms))
	for _, m := range ms {
		if m.Type == hostsim.MetricHistogram {
			continue
		}
		out[m.Name] = m.Value
	}
	return out
}
