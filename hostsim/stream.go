package hostsim

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request is one downstream HTTP request.
type Request struct {
	Method    string // :method (default GET)
	Path      string // :path including the query (default /)
	Authority string // :authority
	Scheme    string // :scheme (default http)
	// Headers follow the pseudo-headers; names are lower-cased on the way in.
	Headers  [][2]string
	Body     []byte // empty: the stream ends with the headers
	Trailers [][2]string
	// SourceAddress and DestinationAddress are "ip:port" (IPv6 bracketed).
	SourceAddress      string
	DestinationAddress string
	Protocol           string // request.protocol (default HTTP/1.1)
	// Upstream overrides the plugin's upstream answer for this request.
	Upstream *CannedResponse
	// UpstreamHandler, when set, is the upstream: it receives the request
	// as the plugin left it (method, path, authority from the
	// pseudo-headers) and its answer goes through the response callbacks.
	// It takes precedence over Upstream.
	UpstreamHandler http.Handler
}

// StreamIdleTimeout is Envoy's default stream_idle_timeout: how long the
// driver lets test-clock time pass for a paused stream (delivering ticks
// and callout responses) before it reports OutcomePausedForever.
const StreamIdleTimeout = 5 * time.Minute

// Outcome says what happened to a request.
type Outcome string

const (
	// OutcomeForwarded: the request reached the upstream.
	OutcomeForwarded Outcome = "forwarded"
	// OutcomeLocalReply: the proxy answered (the plugin's reply, or Envoy's
	// 503 wasm_fail_stream for a VM that failed earlier).
	OutcomeLocalReply Outcome = "local_reply"
	// OutcomePausedForever: the plugin paused and nothing it waited for can
	// resume it.
	OutcomePausedForever Outcome = "paused_forever"
	// OutcomeTrap: the module trapped while handling this request. Envoy
	// answers 503 with an empty body; Result.Body holds the trap text.
	OutcomeTrap Outcome = "trap"
	// OutcomeReset: the plugin closed the stream (proxy_close_stream).
	OutcomeReset Outcome = "reset"
)

// Response is an HTTP response as the client receives it.
type Response struct {
	Status   int
	Headers  [][2]string // ":status" first
	Body     []byte
	Trailers [][2]string
}

// Callout is one proxy_http_call the plugin made, and how it ended.
type Callout struct {
	Cluster  string
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	Timeout  time.Duration
	Token    uint32
	// Response is what the plugin was given; nil while pending or on reset.
	Response  *Response
	TimedOut  bool
	Reset     bool
	Delivered bool
}

// Result is what happened to one request.
type Result struct {
	Outcome Outcome
	// Forwarded: Status is the upstream status, Headers/Body/Trailers are
	// the request as the upstream received it. Local reply: the reply as
	// Envoy sends it (":status" first, the plugin's headers, then
	// content-length and content-type when the body is not empty).
	Status   int
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	// Details is the response-code details of a local reply or reset
	// ("wasm_fail_stream", "wasm_close_stream", the plugin's text).
	Details string
	// GRPCStatus of a local reply; -1 when none.
	GRPCStatus int
	// Response is what the client got after the plugin's response
	// callbacks (forwarded and local-reply outcomes).
	Response *Response
	Logs     []LogEntry
	Callouts []*Callout
	Trap     string
	// ContextID is the stream's context id (0 if no context was created).
	ContextID uint32
}

// Action is a callback's return value as Envoy interprets it.
type Action uint32

const (
	// ActionContinue: the stream goes on (the plugin returned Continue, or
	// resumed).
	ActionContinue Action = 0
	// ActionPause: the stream is held (any stop value, a local reply, a
	// reset or a trap).
	ActionPause Action = 1
)

type localReply struct {
	status     int
	details    string
	body       []byte
	headers    [][2]string
	grpcStatus int
}

// Stream is one HTTP stream through one worker VM. HTTP drives it from
// start to end; the methods exist for tests that need finer control.
type Stream struct {
	vm   *VM
	root *vmContext // the plugin root this stream belongs to
	c    *vmContext
	req  Request

	reqHeaders, reqTrailers, respHeaders, respTrailers [][2]string
	reqBody, respBody                                  []byte
	fwdBody                                            []byte // request body that went upstream
	heldBody                                           []byte // arrived while paused in headers
	heldEOS, heldSet                                   bool
	final                                              *Result // set once the step API saw the stream end
	haveReqTrailers, haveRespTrailers                  bool

	reqHeadersAvail, reqTrailersAvail, reqBodyAvail    bool
	respHeadersAvail, respTrailersAvail, respBodyAvail bool
	inLog                                              bool

	reqPaused, respPaused bool
	contReq, contResp     bool // continue_stream called in this callback
	reset                 bool
	reply                 *localReply
	inReplyPath           bool
	trapped               bool

	filterState    map[string][]byte
	start          int64 // request.time, unix ns
	callouts       []*Callout
	responseStatus int
	completed      bool
}

// NewStream prepares a stream for req on this VM. Its context is created
// when the request headers are delivered.
func (v *VM) NewStream(req Request) *Stream {
	return v.newStream(v.root, req)
}

func (v *VM) newStream(root *vmContext, req Request) *Stream {
	return &Stream{vm: v, root: root, req: req, filterState: map[string][]byte{}, start: v.host.nowNanos()}
}

func (s *Stream) ensureContext(ctx context.Context) {
	if s.c != nil {
		return
	}
	v := s.vm
	s.c = v.newContext(s.root)
	s.c.stream = s
	v.callback(ctx, "proxy_on_context_create", s.c.id, uint64(s.c.id), uint64(s.root.id))
}

// requestHeaderList builds the header map a request carries into the
// filter: pseudo-headers first, then the request headers lower-cased.
func requestHeaderList(r Request) [][2]string {
	method, path, scheme := r.Method, r.Path, r.Scheme
	if method == "" {
		method = "GET"
	}
	if path == "" {
		path = "/"
	}
	if scheme == "" {
		scheme = "http"
	}
	h := [][2]string{{":authority", r.Authority}, {":path", path}, {":method", method}, {":scheme", scheme}}
	for _, kv := range r.Headers {
		h = append(h, [2]string{lower(kv[0]), kv[1]})
	}
	return h
}

// HTTP sends req through the plugin and reports what happened: request
// headers, body and trailers; callouts delivered while the plugin waits
// (the test clock advances to each response, or to the timeout); the
// upstream answer and the response callbacks; then on_log, on_done,
// on_delete.
func (v *VM) HTTP(ctx context.Context, req Request) *Result {
	return v.http(ctx, v.plugin, req)
}

// http runs req through plugin p's filter on this VM.
func (v *VM) http(ctx context.Context, p *Plugin, req Request) *Result {
	v.mu.Lock()
	defer v.mu.Unlock()
	res := &Result{GRPCStatus: -1}
	v.capture = &res.Logs
	defer func() { v.capture = nil }()
	if v.closed {
		res.Outcome, res.Status, res.Details = OutcomeLocalReply, 503, "wasm_fail_stream"
		return res
	}
	if v.failed {
		if p.cfg.FailurePolicy == FailReload && v.host.nowNanos()-v.failedAt >= int64(time.Second) {
			v.reloadLocked(ctx)
		}
	}
	if v.failed {
		res.Trap = v.trap
		if p.cfg.FailurePolicy == FailOpen {
			s := v.newStream(p.rootOn(v), req)
			s.reqHeaders = requestHeaderList(req)
			s.fwdBody = req.Body
			s.reqTrailers = req.Trailers
			s.forwardResult(res)
			return res
		}
		res.Outcome, res.Status, res.Details = OutcomeLocalReply, 503, "wasm_fail_stream"
		res.Headers = [][2]string{{":status", "503"}}
		res.Response = &Response{Status: 503, Headers: res.Headers}
		return res
	}
	s := v.newStream(p.rootOn(v), req)
	s.run(ctx, res)
	v.runDue(ctx, v.host.nowNanos())
	if v.failed && res.Trap == "" {
		res.Trap = v.trap // trapped after the outcome was settled (e.g. in on_log)
	}
	return res
}

// run drives the whole stream.
func (s *Stream) run(ctx context.Context, res *Result) {
	defer func() {
		res.Callouts = s.callouts
		if s.c != nil {
			res.ContextID = s.c.id
		}
	}()
	s.reqHeaders = requestHeaderList(s.req)
	body, trailers := s.req.Body, s.req.Trailers
	s.ensureContext(ctx)
	if s.stopped(ctx, res) {
		return
	}
	eos := len(body) == 0 && len(trailers) == 0
	s.reqHeadersAvail = true
	a := s.call(ctx, "proxy_on_request_headers", ActionContinue, uint64(len(s.reqHeaders)), b2u(eos))
	s.afterRequest(a, true)
	if s.softStop(a, eos) {
		// allow_on_headers_stop_iteration: the body still reaches this
		// filter, with the headers readable, and a body Continue resumes.
		s.reqPaused = false
	} else {
		if s.wait(ctx, res, &s.reqPaused) {
			return
		}
		s.reqHeadersAvail = false
	}
	if len(body) > 0 {
		s.reqBody = append([]byte(nil), body...)
		s.reqBodyAvail = true
		last := len(trailers) == 0
		s.reqTrailersAvail = last
		a = s.call(ctx, "proxy_on_request_body", ActionContinue, uint64(len(s.reqBody)), b2u(last))
		s.afterRequest(a, false)
		if s.wait(ctx, res, &s.reqPaused) {
			return
		}
		s.reqHeadersAvail, s.reqBodyAvail, s.reqTrailersAvail = false, false, false
		s.fwdBody = s.reqBody
	}
	if len(trailers) > 0 {
		s.reqTrailers = lowerPairs(trailers)
		s.haveReqTrailers = true
		s.reqTrailersAvail = true
		a = s.call(ctx, "proxy_on_request_trailers", ActionContinue, uint64(len(s.reqTrailers)))
		s.afterRequest(a, false)
		if s.wait(ctx, res, &s.reqPaused) {
			return
		}
		s.reqTrailersAvail = false
	}
	// The request reached the upstream.
	s.forwardResult(res)
	up := s.root.plugin.cfg.Upstream
	if s.req.Upstream != nil {
		up = s.req.Upstream
	}
	status := 200
	var hdrs, tr [][2]string
	var rbody []byte
	if up != nil {
		if up.Status != 0 {
			status = up.Status
		}
		hdrs, rbody, tr = lowerPairs(up.Headers), up.Body, lowerPairs(up.Trailers)
	}
	if hdl := s.upstreamHandler(); hdl != nil {
		if r, ok := serveHandler(hdl, s.reqHeaders, s.fwdBody); ok {
			status, hdrs, rbody, tr = r.Status, r.Headers[1:], r.Body, r.Trailers
		} else {
			status, hdrs, rbody, tr = 400, nil, nil, nil
		}
	}
	res.Status = status
	s.responsePath(ctx, res, status, hdrs, rbody, tr)
	if s.trapped || s.reset {
		return
	}
	s.complete(ctx)
}

func (s *Stream) upstreamHandler() http.Handler {
	if s.req.UpstreamHandler != nil {
		return s.req.UpstreamHandler
	}
	return s.root.plugin.cfg.UpstreamHandler
}

// forwardResult records the request as the upstream sees it.
func (s *Stream) forwardResult(res *Result) {
	res.Outcome = OutcomeForwarded
	res.Status = 200
	res.Headers = append([][2]string(nil), s.reqHeaders...)
	res.Body = append([]byte(nil), s.fwdBody...)
	if len(s.reqTrailers) > 0 {
		res.Trailers = append([][2]string(nil), s.reqTrailers...)
	}
}

// responsePath runs the response callbacks for an upstream answer or a
// local reply, and fills res.Response.
func (s *Stream) responsePath(ctx context.Context, res *Result, status int, headers [][2]string, body []byte, trailers [][2]string) {
	s.responseStatus = status
	s.respHeaders = append([][2]string{{":status", strconv.Itoa(status)}}, headers...)
	s.respBody = append([]byte(nil), body...)
	// A copy: hcReplaceMapValue and hcRemoveMapValue edit maps in place.
	s.respTrailers = append([][2]string(nil), trailers...)
	s.haveRespTrailers = len(trailers) > 0
	if !s.vm.failed {
		eos := len(body) == 0 && len(trailers) == 0
		s.respHeadersAvail = true
		a := s.call(ctx, "proxy_on_response_headers", ActionContinue, uint64(len(s.respHeaders)), b2u(eos))
		s.afterResponse(a, true)
		if s.wait(ctx, res, &s.respPaused) {
			return
		}
		s.respHeadersAvail = false
		if len(body) > 0 {
			s.respBodyAvail = true
			last := len(trailers) == 0
			s.respTrailersAvail = last
			a = s.call(ctx, "proxy_on_response_body", ActionContinue, uint64(len(s.respBody)), b2u(last))
			s.afterResponse(a, false)
			if s.wait(ctx, res, &s.respPaused) {
				return
			}
			s.respBodyAvail, s.respTrailersAvail = false, false
		}
		if len(trailers) > 0 {
			s.respTrailersAvail = true
			a = s.call(ctx, "proxy_on_response_trailers", ActionContinue, uint64(len(s.respTrailers)))
			s.afterResponse(a, false)
			if s.wait(ctx, res, &s.respPaused) {
				return
			}
			s.respTrailersAvail = false
		}
	}
	res.Response = &Response{Status: s.responseStatus, Headers: append([][2]string(nil), s.respHeaders...),
		Body: append([]byte(nil), s.respBody...)}
	if len(s.respTrailers) > 0 {
		res.Response.Trailers = append([][2]string(nil), s.respTrailers...)
	}
}

// call runs a stream callback; def is the action when the export is absent.
func (s *Stream) call(ctx context.Context, name string, def Action, args ...uint64) Action {
	s.contReq, s.contResp = false, false
	if s.vm.host.abiVersion == "0_1_0" && (name == "proxy_on_request_headers" || name == "proxy_on_response_headers") {
		args = args[:1] // ABI 0.1.0: (context, num_headers), no end_of_stream
	}
	r, ok := s.vm.callback(ctx, name, s.c.id, append([]uint64{uint64(s.c.id)}, args...)...)
	if s.vm.failed && !ok {
		s.trapped = true
		return ActionPause
	}
	if !ok {
		return def
	}
	return Action(uint32(r))
}

// softStop reports whether a headers callback's 1 is Envoy's plain
// StopIteration (allow_on_headers_stop_iteration set, more data to come,
// nothing else stopped the stream) rather than StopAllIteration.
func (s *Stream) softStop(a Action, eos bool) bool {
	return a == 1 && !eos && s.root.plugin.cfg.AllowOnHeadersStopIteration && !s.contReq &&
		s.reply == nil && !s.reset && !s.trapped
}

// stops reports whether a callback's return value holds the stream. For
// headers, 2 is Continue in Envoy's mapping (0 Continue, 1 and ≥4
// StopAllIterationAndWatermark, 2 Continue, 3 StopAllIterationAndBuffer);
// for body (1 buffer, 2 watermark, ≥3 no buffer) and trailers every
// non-zero value stops.
func stops(a Action, headers bool) bool {
	if headers {
		return a != 0 && a != 2
	}
	return a != 0
}

// afterRequest applies a request callback's result and deferred actions.
func (s *Stream) afterRequest(a Action, headers bool) {
	s.reqPaused = stops(a, headers)
	if s.contReq {
		s.reqPaused = false
	}
	if s.reply != nil || s.reset || s.trapped {
		s.reqPaused = true
	}
}

func (s *Stream) afterResponse(a Action, headers bool) {
	s.respPaused = stops(a, headers)
	if s.contResp {
		s.respPaused = false
	}
	if (s.reply != nil && !s.inReplyPath) || s.reset || s.trapped {
		s.respPaused = true
	}
}

// wait resolves a paused direction: it delivers this VM's due events
// (callout responses, ticks, queue notifications) in time order, advancing
// the test clock, until the plugin resumes, replies or nothing is left.
// It returns true when the stream is finished (res is filled).
func (s *Stream) wait(ctx context.Context, res *Result, paused *bool) bool {
	v := s.vm
	// Envoy resets a stream that sees no activity for stream_idle_timeout;
	// waiting longer (e.g. on a periodic tick that never resumes it) would
	// never end.
	deadline := v.host.nowNanos() + int64(StreamIdleTimeout)
	for *paused && !s.finishedEarly() {
		at, ok := v.nextDue()
		if !ok || at > deadline {
			break
		}
		v.host.setClock(at)
		v.runNext(ctx, at)
		if v.failed {
			s.trapped = true
		}
		// continue_stream called through the effective context.
		if s.contReq {
			s.reqPaused, s.contReq = false, false
		}
		if s.contResp {
			s.respPaused, s.contResp = false, false
		}
	}
	return s.stopped(ctx, res) || s.pausedForever(ctx, res, *paused)
}

func (s *Stream) finishedEarly() bool {
	return s.reply != nil && !s.inReplyPath || s.reset || s.trapped
}

func (s *Stream) pausedForever(ctx context.Context, res *Result, paused bool) bool {
	if !paused {
		return false
	}
	res.Outcome = OutcomePausedForever
	res.Status = 0
	// Envoy would eventually destroy the stream (client or idle timeout).
	s.complete(ctx)
	return true
}

// stopped handles trap, reset and local reply after a callback.
func (s *Stream) stopped(ctx context.Context, res *Result) bool {
	v := s.vm
	switch {
	case s.trapped || v.failed:
		s.trapped = true
		res.Trap = v.trap
		if s.root.plugin.cfg.FailurePolicy == FailOpen {
			// Legacy fail_open: the stream continues without the filter.
			s.forwardResult(res)
			res.Trap = v.trap
			return true
		}
		res.Outcome, res.Status, res.Details = OutcomeTrap, 503, "wasm_fail_stream"
		res.Headers = [][2]string{{":status", "503"}}
		res.Body = []byte(v.trap)
		res.Response = &Response{Status: 503, Headers: res.Headers}
		return true
	case s.reset:
		res.Outcome, res.Status, res.Details = OutcomeReset, 0, "wasm_close_stream"
		s.complete(ctx)
		return true
	case s.reply != nil && !s.inReplyPath:
		r := s.reply
		s.inReplyPath = true
		s.reqHeadersAvail, s.reqBodyAvail, s.reqTrailersAvail = false, false, false
		hdrs := replyHeaders(r, s.isGRPC())
		res.Outcome, res.Status, res.Details, res.GRPCStatus = OutcomeLocalReply, r.status, r.details, r.grpcStatus
		res.Headers = append([][2]string{{":status", strconv.Itoa(r.status)}}, hdrs...)
		res.Body = append([]byte(nil), r.body...)
		// The reply passes this plugin's response callbacks, as in Envoy.
		s.respPaused = false
		s.responsePath(ctx, res, r.status, hdrs, r.body, nil)
		if s.trapped {
			return true
		}
		s.complete(ctx)
		return true
	}
	return false
}

// replyHeaders are the plugin's headers plus what Envoy adds to a local
// reply with a body.
func replyHeaders(r *localReply, grpc bool) [][2]string {
	h := append([][2]string(nil), r.headers...)
	if len(r.body) > 0 {
		h = append(h, [2]string{"content-length", strconv.Itoa(len(r.body))})
		hasType := false
		for _, kv := range r.headers {
			if kv[0] == "content-type" {
				hasType = true
			}
		}
		if !hasType {
			h = append(h, [2]string{"content-type", "text/plain"})
		}
	}
	// Envoy uses grpc_status only when the request is a gRPC one.
	if r.grpcStatus >= 0 && grpc {
		h = append(h, [2]string{"grpc-status", strconv.Itoa(r.grpcStatus)})
	}
	return h
}

// isGRPC reports whether the request is gRPC (content-type application/grpc…).
func (s *Stream) isGRPC() bool {
	for _, kv := range s.reqHeaders {
		if kv[0] == "content-type" && strings.HasPrefix(kv[1], "application/grpc") {
			return true
		}
	}
	return false
}

// complete ends the stream: on_log, on_done, on_delete (Envoy's order).
func (s *Stream) complete(ctx context.Context) {
	if s.completed || s.vm.failed {
		return
	}
	s.completed = true
	s.ensureContext(ctx)
	s.reqHeadersAvail, s.reqBodyAvail, s.reqTrailersAvail = false, false, false
	s.respHeadersAvail, s.respBodyAvail, s.respTrailersAvail = false, false, false
	id := uint64(s.c.id)
	s.inLog = true
	s.vm.callback(ctx, "proxy_on_log", s.c.id, id)
	s.inLog = false
	s.vm.callback(ctx, "proxy_on_done", s.c.id, id)
	s.vm.callback(ctx, "proxy_on_delete", s.c.id, id)
	delete(s.vm.contexts, s.c.id)
}

// reloadLocked replaces a failed VM in place (FailReload).
func (v *VM) reloadLocked(ctx context.Context) {
	nv, err := v.plugin.newVM(ctx, v.index, true)
	if err != nil {
		v.failedAt = v.host.nowNanos()
		return
	}
	v.host.removeVM(nv)
	nv.mu.Lock()
	_ = v.mod.Close(ctx)
	v.mod, v.mallocFn, v.exports = nv.mod, nv.mallocFn, nil // the cached functions belong to the old instance
	v.failed, v.trap = false, ""
	v.nextID, v.contexts, v.root = nv.nextID, nv.contexts, nv.root
	v.nextToken, v.calls = nv.nextToken, nil
	v.metricIDs, v.metricSeq = nv.metricIDs, nv.metricSeq
	v.stats.Initialize += nv.stats.Initialize
	nv.mu.Unlock()
	v.plugin.roots[v.index] = v.root
	// Plugins that shared the failed VM get their roots back too.
	for _, p2 := range v.sharers {
		root, _, _ := v.startRoot(ctx, p2)
		p2.roots[v.index] = root
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func lowerPairs(in [][2]string) [][2]string {
	if len(in) == 0 {
		return nil
	}
	out := make([][2]string, len(in))
	for i, kv := range in {
		out[i] = [2]string{lower(kv[0]), kv[1]}
	}
	return out
}
