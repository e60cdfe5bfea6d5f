// Package serve is a small real HTTP proxy around hostsim: every request
// goes through the plugin running in a simulated Envoy, callouts
// (proxy_http_call) go to real HTTP clusters, allowed requests are
// forwarded to one upstream, and refused ones get the plugin's local
// reply. `hostsim serve` and the `make run` demo are built on it.
//
//	srv, err := serve.New(ctx, wasm, serve.Options{
//		PluginConfig: cfg, Upstream: "http://127.0.0.1:9000",
//		Clusters: map[string]string{"auth": "http://127.0.0.1:9100"}})
//	defer srv.Close(ctx)
//	http.ListenAndServe("127.0.0.1:8080", srv)
//
// # How a request is handled
//
// A wasm VM is single-threaded, so each request takes one worker VM from a
// pool (Options.Workers, default 1) and holds it until the plugin is done:
// concurrent requests wait for a free VM. hostsim's test clock follows the
// real time: a background loop moves it every Options.ClockInterval and
// each request moves it first, so the plugin's ticks arrive close to when
// Envoy would deliver them. The request as the plugin sees it: :method, :path (path and
// query), :authority (Host), :scheme (https over TLS), then the headers
// lower-cased in sorted order (Go's server does not keep the wire order),
// hop-by-hop headers removed; the source address is the TCP peer and the
// destination the local address.
//
// Outcomes: forwarded requests go to Options.Upstream with the headers the
// plugin left, its :path (so a rewrite takes effect), :authority as Host
// and its body; local replies are sent as Envoy sends them; a trap, a
// request the plugin never resumed, and a VM that failed earlier give 503
// with no body; a reset (proxy_close_stream) aborts the connection.
//
// # Limits
//
// The plugin's response callbacks run against hostsim's simulated
// upstream answer (200, no body), not the real upstream response, so
// response-header edits by the plugin are not applied to forwarded
// traffic. Callouts block the VM while the real cluster answers (bounded
// by Options.CalloutTimeout); a timeout becomes Envoy's 504 "upstream
// request timeout", a connection failure Envoy's 503.
package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/hostsim"
)

// Options configure a Server.
type Options struct {
	// Upstream is the base URL allowed requests are forwarded to
	// (required); the plugin's :path is appended to its path.
	Upstream string
	// Clusters maps cluster names the plugin calls (proxy_http_call) to
	// base URLs. A cluster not listed is unknown, as in Envoy.
	Clusters map[string]string
	// Name is the plugin name (Envoy's plugin_name: log prefix and the
	// plugin_name property). PluginConfig is the plugin configuration
	// (buffer 7), VMConfig the VM configuration, RootID the root id, Env
	// the VM's environment.
	Name         string
	PluginConfig []byte
	VMConfig     []byte
	RootID       string
	Env          map[string]string
	// Profile is the Envoy profile (default: hostsim's, envoy-1.33).
	Profile hostsim.Profile
	// Workers is the number of worker VMs (default 1).
	Workers int
	// FailurePolicy is what happens after a VM traps (default fail closed).
	FailurePolicy hostsim.FailurePolicy
	// AllowOnHeadersStopIteration is Envoy's Wasm filter option of that
	// name (hostsim.PluginConfig has the details): when true, a plugin that
	// pauses in on_request_headers still gets the body callbacks and can
	// resume from them, so rules that read the body before deciding
	// complete. When false (Envoy's default) such a request is never
	// resumed and gets 503.
	AllowOnHeadersStopIteration bool
	// Config is the base host configuration (log level, properties…).
	// Profile, clusters and the clock are applied on top.
	Config hostsim.Config
	// MaxRequestBytes bounds a request body (default 1 MiB); larger
	// requests get 413 without reaching the plugin.
	MaxRequestBytes int64
	// CalloutTimeout bounds one callout to a real cluster (default 5 s).
	CalloutTimeout time.Duration
	// ClockInterval is how often the clock loop moves hostsim's clock to
	// the real time, delivering due ticks (default 100 ms).
	ClockInterval time.Duration
	// Transport carries upstream and cluster traffic (default
	// http.DefaultTransport).
	Transport http.RoundTripper
	// Logger receives the plugin's log records and one line per request
	// (method, path without query, outcome, status — never header values).
	// Nil discards them.
	Logger *log.Logger
}

// Server is an http.Handler that runs every request through the plugin.
type Server struct {
	ctx      context.Context
	host     *hostsim.Host
	plugin   *hostsim.Plugin
	pool     chan *hostsim.VM
	upstream *httputil.ReverseProxy
	target   *url.URL
	maxBody  int64
	logger   *log.Logger
	clockMu  sync.Mutex
	stop     chan struct{}
	stopped  chan struct{}
}

// New loads wasm, starts the plugin with o.Workers worker VMs and returns
// the handler. A plugin that refuses its configuration is an error
// (*hostsim.StartError), its logs go to o.Logger.
func New(ctx context.Context, wasm []byte, o Options) (*Server, error) {
	if o.Upstream == "" {
		return nil, errors.New("serve: no upstream URL")
	}
	target, err := parseBase(o.Upstream)
	if err != nil {
		return nil, fmt.Errorf("serve: upstream: %w", err)
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 1 << 20
	}
	if o.CalloutTimeout <= 0 {
		o.CalloutTimeout = 5 * time.Second
	}
	if o.ClockInterval <= 0 {
		o.ClockInterval = 100 * time.Millisecond
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	cfg := o.Config.WithStartTime(time.Now())
	if o.Profile != "" {
		cfg = cfg.WithProfile(o.Profile)
	}
	names := make([]string, 0, len(o.Clusters))
	for name := range o.Clusters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u, err := parseBase(o.Clusters[name])
		if err != nil {
			return nil, fmt.Errorf("serve: cluster %q: %w", name, err)
		}
		cfg = cfg.WithCluster(name, clusterHandler(u, o.Transport, o.CalloutTimeout))
	}
	// The VMs outlive the ctx of this call; they stop with Close.
	base := context.WithoutCancel(ctx)
	host, err := hostsim.New(base, wasm, cfg)
	if err != nil {
		return nil, err
	}
	plugin, err := host.StartPlugin(base, hostsim.PluginConfig{
		Name: o.Name, RootID: o.RootID, Configuration: o.PluginConfig, VMConfiguration: o.VMConfig,
		Env: o.Env, Workers: o.Workers, FailurePolicy: o.FailurePolicy,
		AllowOnHeadersStopIteration: o.AllowOnHeadersStopIteration,
	})
	s := &Server{ctx: base, host: host, plugin: plugin, target: target, maxBody: o.MaxRequestBytes, logger: o.Logger}
	s.logEntries(host.Logs())
	if err != nil {
		host.Close(base)
		return nil, err
	}
	s.pool = make(chan *hostsim.VM, o.Workers)
	for _, vm := range plugin.Workers() {
		s.pool <- vm
	}
	s.upstream = &httputil.ReverseProxy{
		Transport:    o.Transport,
		Rewrite:      func(*httputil.ProxyRequest) {}, // set per request in forward
		ErrorHandler: upstreamError,
	}
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.clockLoop(o.ClockInterval)
	return s, nil
}

// clockLoop keeps the test clock on the real time between requests.
func (s *Server) clockLoop(every time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.syncClock()
		}
	}
}

// Host is the simulated Envoy behind the server, for metrics, shared data
// and logs (tests, admin pages).
func (s *Server) Host() *hostsim.Host { return s.host }

// Close stops the plugin (proxy_on_done on every worker) and releases the
// VMs. Requests still running finish first. Call it once, after the HTTP
// server stopped sending requests.
func (s *Server) Close(ctx context.Context) error {
	close(s.stop)
	<-s.stopped
	for range cap(s.pool) {
		<-s.pool // wait for every VM to be idle
	}
	s.plugin.Stop(ctx)
	return s.host.Close(ctx)
}

// ServeHTTP runs r through the plugin.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > s.maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	req := hostsimRequest(r, body)

	vm := <-s.pool
	s.syncClock()
	res := vm.HTTP(s.ctx, req)
	s.pool <- vm

	s.logEntries(res.Logs)
	s.logf("request %s %s: %s %d", r.Method, r.URL.Path, res.Outcome, res.Status)
	switch res.Outcome {
	case hostsim.OutcomeForwarded:
		s.forward(w, r, res)
	case hostsim.OutcomeLocalReply:
		reply := &hostsim.Response{Status: res.Status, Headers: res.Headers, Body: res.Body}
		if res.Response != nil {
			reply = res.Response // after the plugin's own response callbacks
		}
		writeReply(w, reply)
	case hostsim.OutcomeReset:
		panic(http.ErrAbortHandler) // net/http closes the connection quietly
	default: // trap, paused_forever: Envoy ends the stream with a 503
		writeReply(w, &hostsim.Response{Status: http.StatusServiceUnavailable})
	}
}

// syncClock moves hostsim's test clock to the real time, delivering due
// ticks. One goroutine at a time; others skip (the clock is nearly current).
func (s *Server) syncClock() {
	if !s.clockMu.TryLock() {
		return
	}
	defer s.clockMu.Unlock()
	if d := time.Until(s.host.Now()); d < 0 {
		s.host.Advance(s.ctx, -d)
	}
}

// hopByHop are connection-level headers a proxy does not pass on.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"upgrade": true, "te": true, "trailer": true,
}

// hostsimRequest is r as Envoy would hand it to the plugin.
func hostsimRequest(r *http.Request, body []byte) hostsim.Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var headers [][2]string
	for _, k := range keys {
		lk := strings.ToLower(k)
		if hopByHop[lk] || lk == "host" {
			continue
		}
		for _, v := range r.Header[k] {
			headers = append(headers, [2]string{lk, v})
		}
	}
	dst := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		dst = a.String()
	}
	return hostsim.Request{
		Method: r.Method, Path: r.URL.RequestURI(), Authority: r.Host, Scheme: scheme,
		Headers: headers, Body: body, SourceAddress: r.RemoteAddr, DestinationAddress: dst, Protocol: r.Proto,
	}
}

// forward sends the request, as the plugin left it, to the upstream.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, res *hostsim.Result) {
	method, path, authority := r.Method, r.URL.RequestURI(), r.Host
	header := http.Header{}
	for _, kv := range res.Headers {
		switch kv[0] {
		case ":method":
			method = kv[1]
		case ":path":
			path = kv[1]
		case ":authority":
			authority = kv[1]
		default:
			if strings.HasPrefix(kv[0], ":") || hopByHop[kv[0]] || kv[0] == "content-length" {
				continue
			}
			header.Add(kv[0], kv[1])
		}
	}
	pu, err := url.ParseRequestURI(path)
	if err != nil {
		s.logf("request %s %s: plugin left an unusable :path", r.Method, r.URL.Path)
		writeReply(w, &hostsim.Response{Status: http.StatusBadRequest})
		return
	}
	body := res.Body
	rp := *s.upstream
	rp.Rewrite = func(pr *httputil.ProxyRequest) {
		pr.Out.Method = method
		pr.Out.URL = &url.URL{Path: pu.Path, RawPath: pu.RawPath, RawQuery: pu.RawQuery}
		pr.SetURL(s.target)
		pr.Out.Host = authority
		pr.Out.Header = header
		pr.Out.ContentLength = int64(len(body))
		pr.Out.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) == 0 {
			pr.Out.Body = nil
		}
	}
	rp.ServeHTTP(w, r)
}

// writeReply sends a local reply: its headers in order (":status" and
// content-length are the host's), no Date header added.
func writeReply(w http.ResponseWriter, resp *hostsim.Response) {
	h := w.Header()
	for _, kv := range resp.Headers {
		if strings.HasPrefix(kv[0], ":") || kv[0] == "content-length" || hopByHop[kv[0]] {
			continue
		}
		h.Add(kv[0], kv[1])
	}
	h["Date"] = nil
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	status := resp.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
}

// clusterHandler answers the plugin's callouts by proxying them to base,
// keeping the plugin's :authority as Host (Envoy does not rewrite it).
func clusterHandler(base *url.URL, tr http.RoundTripper, timeout time.Duration) http.Handler {
	rp := &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(base)
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: upstreamError,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rp.ServeHTTP(w, r.WithContext(ctx))
	})
}

// upstreamError answers as Envoy does when an upstream cannot be reached.
func upstreamError(w http.ResponseWriter, _ *http.Request, err error) {
	status, body := http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	if errors.Is(err, context.DeadlineExceeded) {
		status, body = http.StatusGatewayTimeout, "upstream request timeout"
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL with a host", s)
	}
	return u, nil
}

func (s *Server) logEntries(es []hostsim.LogEntry) {
	for _, e := range es {
		s.logf("wasm %s: %s", e.Level, e.Message)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.logger != nil {
		s.logger.Printf(format, args...)
	}
}
