// Package filter is tokengate's proxy-wasm HTTP filter: the VM, plugin and
// HTTP contexts Envoy drives.
//
// # Lifecycle
//
// The plugin context reads and validates the whole configuration once, in
// OnPluginStart (plugin/config). Any error is logged at critical level with
// every problem's JSON path and the start fails, so Envoy refuses the
// configuration (fail closed). Warnings are logged once at warn level.
//
// Per request, OnHttpRequestHeaders reads the headers once, builds a
// provider.Request (time from the host clock, source from the source.address
// property and the configured trusted x-forwarded-for hops), and runs the
// policy. A provider that needs a callout makes the filter dispatch it and
// pause; the answer resumes the evaluation. The verdict is then applied:
// forward with edited headers, or a local reply.
//
// A rule with buffer_body holds the headers (StopIteration) and collects
// the body (at most max_body_bytes, else 401 credential_oversize) into
// provider.Request.Body before asking its providers. Envoy delivers body
// callbacks to a filter paused in headers only when the filter runs with
// allow_on_headers_stop_iteration: true; without it such requests wait
// until Envoy's stream timeout (they never reach the upstream). The
// configuration logs a warning for every such rule.
//
// # What the upstream sees
//
// Inbound headers that could pass for identity (the configured identity
// headers, any header with identity_headers.remove_prefix, the
// identity_headers.remove list, and every header a provider sets) are
// removed from every request before anything is added. On success the
// identity headers (subject, provider, scopes space-separated, role) and the
// providers' own headers are added, and the credential is stripped
// (strip_credentials, on by default; shadow rules never strip, because the
// upstream still authenticates during a rollout).
//
// # Refusals
//
// A refusal is a local reply with the reason's status (401, 403, 429, 400,
// 503, 500), content-type application/json and the body
// {"error":"<reason>"}; 401 carries one WWW-Authenticate header per
// challenge of the rule's providers, 429 carries Retry-After and
// "retry_after" in the body. Bodies and logs never contain credentials.
//
// # Metrics
//
// One counter per combination seen, defined on first use and kept:
//
//	tokengate.requests.rule.<rule>.provider.<provider>.outcome.<outcome>.reason.<reason>
//
// rule is the rule name or _none; provider is the provider that decided
// (the verified primary identity's on success, the refusing one on a
// provider refusal, the identified caller's on a later scope, role, claims or
// rate-limit refusal) or _none, _anonymous, _preflight; outcome is allowed,
// denied or shadow_denied; reason is ok or the refusal reason. Providers
// define their own counters under tokengate.<provider>.*. Envoy shows them
// with its wasmcustom. prefix hidden; a stats_tags regex such as
// `\.rule\.([^.]+)\.` turns the pairs into tags.
//
// # Logs
//
// One line per refusal (and per shadow "would deny") at deny_log_level:
//
//	tokengate: denied status=401 rule=api reason=bad_signature provider=keys detail=signature does not verify
//
// # Containment
//
// Every callback recovers from panics: the request in flight is answered
// 500 internal_error and a critical line names the callback, never the
// panic value (it could hold request data).
package filter

import (
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
	"github.com/tokengate/tokengate/plugin/internal/shared"
	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Options change how the filter is built; the zero value is production.
type Options struct {
	// Env is the VM environment (default: the process environment, which
	// under wasip1 is vm_config.environment_variables).
	Env conf.Env
	// Now returns unix nanoseconds (default: the host clock).
	Now func() int64
	// Kinds replaces the provider types (default: config.Parse's).
	Kinds map[string]config.Constructor
}

// NewVMContext returns the root of tokengate's context tree. The wasm main
// registers it; native tests hand it to proxytest.
func NewVMContext() types.VMContext { return NewVMContextWith(Options{}) }

// Register installs the filter with options as the module's root context.
// The production main registers NewVMContext through the internal facade;
// Register lets a test build outside plugin/ (such as the hardening suite's
// module whose providers panic on demand) do the same with its own provider
// types. Call it from init(), as the wasm main does.
func Register(o Options) { proxywasm.SetVMContext(NewVMContextWith(o)) }

// NewVMContextWith is NewVMContext with test or tool options.
func NewVMContextWith(o Options) types.VMContext {
	if o.Env == nil {
		o.Env = osEnv{}
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixNano() }
	}
	return &vmContext{opts: o}
}

type vmContext struct {
	types.DefaultVMContext
	opts Options
}

func (v *vmContext) NewPluginContext(uint32) types.PluginContext {
	return &pluginContext{opts: v.opts, metrics: map[*policy.Rule]*ruleCounters{}}
}

// ruleCounters are the request counters of one rule (the nil rule is
// "_none"): found by the rule's pointer, then by a short scan, because
// hashing and comparing a key of four strings on every request cost more
// than the rest of the count.
type ruleCounters struct {
	entries []ruleCounter
}

type ruleCounter struct {
	provider, outcome string
	reason            provider.Reason
	c                 counter
}

type pluginContext struct {
	types.DefaultPluginContext
	opts    Options
	cfg     *config.Config
	metrics map[*policy.Rule]*ruleCounters
	tickers []tickerState
	// headerPairs is the storage of the request-header list, reused by
	// every stream: a VM runs one callback at a time and the list does
	// not outlive OnHttpRequestHeaders.
	headerPairs [][2]string
}

type tickerState struct {
	t      provider.Ticker
	period int64 // ns
	next   int64
}

// OnPluginStart reads the configuration; any problem fails the start.
func (p *pluginContext) OnPluginStart(int) (status types.OnPluginStartStatus) {
	defer func() {
		if r := recover(); r != nil {
			proxywasm.LogCritical("tokengate: panic while starting; refusing to start")
			status = types.OnPluginStartStatusFailed
		}
	}()
	data, err := proxywasm.GetPluginConfiguration()
	if err != nil && len(data) == 0 {
		data = nil
	}
	deps := provider.Deps{
		Shared:      shared.Data{},
		CounterFunc: func(name string) provider.Counter { return counter{proxywasm.DefineCounterMetric(name)} },
		GaugeFunc:   func(name string) provider.Gauge { return &gauge{m: proxywasm.DefineGaugeMetric(name)} },
	}
	var cfg *config.Config
	var warnings []string
	if p.opts.Kinds != nil {
		cfg, warnings, err = config.ParseKinds(data, p.opts.Env, deps, p.opts.Kinds)
	} else {
		cfg, warnings, err = config.Parse(data, p.opts.Env, deps)
	}
	for _, w := range warnings {
		proxywasm.LogWarn("tokengate: configuration warning: " + w)
	}
	if err != nil {
		proxywasm.LogCritical("tokengate: invalid configuration; refusing to start:\n" + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.cfg = cfg
	// Counters are found by rule pointer: forget the old rules' (the host
	// keeps the metrics themselves, and defining a name again finds them).
	clear(p.metrics)
	for _, r := range cfg.Policy.Rules() {
		if r.Shadow {
			proxywasm.LogWarn("tokengate: rule " + strconv.Quote(r.Name) + " is in shadow mode: its denials are logged, not enforced")
		}
	}
	p.startTickers()
	proxywasm.LogInfo("tokengate: started with " + strconv.Itoa(len(cfg.Providers)) + " providers and " +
		strconv.Itoa(len(cfg.Policy.Rules())) + " rules")
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) startTickers() {
	var min uint32
	now := p.opts.Now()
	for _, t := range p.cfg.Tickers {
		ms := t.TickPeriodMillis()
		if ms == 0 {
			continue
		}
		p.tickers = append(p.tickers, tickerState{t: t, period: int64(ms) * 1e6, next: now + int64(ms)*1e6})
		if min == 0 || ms < min {
			min = ms
		}
	}
	if min > 0 {
		if err := proxywasm.SetTickPeriodMilliSeconds(min); err != nil {
			proxywasm.LogError("tokengate: cannot set the tick period")
		}
	}
}

// OnTick runs the background work of the providers that are due.
func (p *pluginContext) OnTick() {
	defer func() {
		if r := recover(); r != nil {
			proxywasm.LogCritical("tokengate: panic in on_tick; background work skipped")
		}
	}()
	now := p.opts.Now()
	for i := range p.tickers {
		ts := &p.tickers[i]
		if now < ts.next {
			continue
		}
		ts.next = now + ts.period
		for _, n := range ts.t.Tick(now) {
			p.dispatchBackground(n, 0)
		}
	}
}

// dispatchBackground makes a ticker's callout; the answer goes to Resume,
// which may ask for another (bounded).
func (p *pluginContext) dispatchBackground(n *provider.NeedCallout, depth int) {
	if n == nil || n.Resume == nil || depth >= 4 {
		return
	}
	_, err := proxywasm.DispatchHttpCall(n.Call.Cluster, pairs(n.Call.Headers), n.Call.Body, nil, boundTimeout(n.Call.TimeoutMillis),
		func(numHeaders, bodySize, _ int) {
			defer func() {
				if r := recover(); r != nil {
					proxywasm.LogCritical("tokengate: panic in a background callout response")
				}
			}()
			_, err := n.Resume(readCalloutResponse(numHeaders, bodySize))
			if next, ok := err.(*provider.NeedCallout); ok {
				p.dispatchBackground(next, depth+1)
			}
		})
	if err != nil {
		proxywasm.LogWarn("tokengate: background callout to " + strconv.Quote(n.Call.Cluster) + " could not be dispatched")
		_, _ = n.Resume(&provider.CalloutResponse{})
	}
}

// NewHttpContext starts one request.
func (p *pluginContext) NewHttpContext(id uint32) types.HttpContext {
	return &httpContext{plugin: p, id: id}
}

// count increments the request counter for one outcome of rule (nil: no
// rule matched).
func (p *pluginContext) count(rule *policy.Rule, prov, outcome string, reason provider.Reason) {
	rc := p.metrics[rule]
	if rc == nil {
		rc = &ruleCounters{}
		p.metrics[rule] = rc
	}
	for i := range rc.entries {
		e := &rc.entries[i]
		if e.reason == reason && e.outcome == outcome && e.provider == prov {
			e.c.Increment(1)
			return
		}
	}
	name := "_none"
	if rule != nil {
		name = rule.Name
	}
	c := counter{proxywasm.DefineCounterMetric("tokengate.requests.rule." + name + ".provider." + prov +
		".outcome." + outcome + ".reason." + string(reason))}
	rc.entries = append(rc.entries, ruleCounter{prov, outcome, reason, c})
	c.Increment(1)
}

func (p *pluginContext) log(level config.LogLevel, msg string) {
	switch level {
	case config.LogTrace:
		proxywasm.LogTrace(msg)
	case config.LogDebug:
		proxywasm.LogDebug(msg)
	case config.LogInfo:
		proxywasm.LogInfo(msg)
	case config.LogWarn:
		proxywasm.LogWarn(msg)
	case config.LogError:
		proxywasm.LogError(msg)
	default:
		proxywasm.LogCritical(msg)
	}
}

func pairs(hs []provider.Header) [][2]string {
	out := make([][2]string, len(hs))
	for i, h := range hs {
		out[i] = [2]string{h.Name, h.Value}
	}
	return out
}

// maxCalloutBody bounds what a callout answer may bring; larger answers are
// treated as failed calls.
const maxCalloutBody = 1 << 20

// readCalloutResponse collects a callout answer inside its callback. A reset
// (no headers, no body) is the zero response.
func readCalloutResponse(numHeaders, bodySize int) *provider.CalloutResponse {
	resp := &provider.CalloutResponse{}
	if numHeaders == 0 && bodySize == 0 {
		return resp
	}
	if bodySize > maxCalloutBody {
		return resp
	}
	hs, err := proxywasm.GetHttpCallResponseHeaders()
	if err != nil {
		return resp
	}
	for _, h := range hs {
		if h[0] == ":status" {
			if s, err := strconv.Atoi(h[1]); err == nil {
				resp.Status = s
			}
			continue
		}
		resp.Headers = append(resp.Headers, provider.Header{Name: h[0], Value: h[1]})
	}
	if bodySize > 0 {
		if b, err := proxywasm.GetHttpCallResponseBody(0, bodySize); err == nil {
			resp.Body = b
		}
	}
	return resp
}
