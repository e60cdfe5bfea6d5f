package hostsim

import (
	"context"
	"strconv"
)

// Step-by-step stream control, for tests that need to see each callback:
// body chunks, pauses across callouts, the response path and the end of
// the stream. VM.HTTP does all of this in one call.
//
//	s := vm.NewStream(hostsim.Request{Path: "/upload"})
//	s.SendRequestHeaders(ctx, false)        // ActionPause if the plugin waits
//	s.RunPending(ctx)                       // deliver its callouts; it resumes
//	s.SendRequestBody(ctx, chunk1, false)
//	s.SendRequestBody(ctx, chunk2, true)
//	s.SendResponseHeaders(ctx, 200, nil, true)
//	s.Complete(ctx)                         // on_log, on_done, on_delete
//	st := s.State()

// maxBufferedBody is Envoy's default connection buffer limit: a paused body
// above it is answered 413 (request) or 500 (response) by Envoy itself.
const maxBufferedBody = 1 << 20

// StreamState is a snapshot of a stream driven with the step API.
type StreamState struct {
	ContextID      uint32
	RequestPaused  bool
	ResponsePaused bool
	// Ended is set once the stream finished early: local reply, reset, trap
	// or buffer overflow. Result then says how, as VM.HTTP would.
	Ended  bool
	Result *Result
	// What the upstream has received so far, and the response so far.
	RequestHeaders  [][2]string
	ForwardedBody   []byte
	RequestTrailers [][2]string
	ResponseHeaders [][2]string
	ResponseBody    []byte
}

// State returns a snapshot of the stream.
func (s *Stream) State() StreamState {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	st := StreamState{RequestPaused: s.reqPaused, ResponsePaused: s.respPaused, Ended: s.final != nil, Result: s.final,
		RequestHeaders: append([][2]string(nil), s.reqHeaders...), ForwardedBody: append([]byte(nil), s.fwdBody...),
		RequestTrailers: append([][2]string(nil), s.reqTrailers...), ResponseHeaders: append([][2]string(nil), s.respHeaders...),
		ResponseBody: append([]byte(nil), s.respBody...)}
	if s.c != nil {
		st.ContextID = s.c.id
	}
	return st
}

func pausedAction(p bool) Action {
	if p {
		return ActionPause
	}
	return ActionContinue
}

// check ends the stream if the last callback replied, reset or trapped.
func (s *Stream) check(ctx context.Context) bool {
	if s.final != nil {
		return true
	}
	res := &Result{GRPCStatus: -1}
	if s.stopped(ctx, res) {
		res.Callouts = s.callouts
		res.ContextID = s.c.id
		s.final = res
		return true
	}
	return false
}

func (s *Stream) usable() bool { return s.final == nil && !s.vm.failed && !s.vm.closed }

// SendRequestHeaders delivers the request headers (pseudo-headers from the
// Request fields, then Request.Headers). eos says no body follows.
func (s *Stream) SendRequestHeaders(ctx context.Context, eos bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if !s.usable() {
		return ActionPause
	}
	s.reqHeaders = requestHeaderList(s.req)
	s.ensureContext(ctx)
	s.reqHeadersAvail = true
	a := s.call(ctx, "proxy_on_request_headers", ActionContinue, uint64(len(s.reqHeaders)), b2u(eos))
	s.afterRequest(a, true)
	if s.check(ctx) {
		return ActionPause
	}
	if s.softStop(a, eos) {
		s.reqPaused = false // body chunks reach the plugin; headers stay readable
		return ActionPause
	}
	if !s.reqPaused {
		s.reqHeadersAvail = false
	}
	return pausedAction(s.reqPaused)
}

// SendRequestBody delivers one body chunk. While the plugin is paused in
// request headers, chunks are held (no callback) until it resumes. When a
// body callback pauses, Envoy buffers and the next call carries the
// cumulative size; over 1 MiB buffered, Envoy answers 413.
func (s *Stream) SendRequestBody(ctx context.Context, chunk []byte, eos bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	return s.requestBody(ctx, chunk, eos)
}

func (s *Stream) requestBody(ctx context.Context, chunk []byte, eos bool) Action {
	if !s.usable() {
		return ActionPause
	}
	if s.reqPaused && s.reqHeadersAvail {
		s.heldBody = append(s.heldBody, chunk...)
		s.heldEOS, s.heldSet = eos, true
		return ActionPause
	}
	s.reqBody = append(s.reqBody, chunk...)
	s.reqBodyAvail, s.reqTrailersAvail = true, eos
	a := s.call(ctx, "proxy_on_request_body", ActionContinue, uint64(len(s.reqBody)), b2u(eos))
	s.reqPaused = false
	switch {
	case s.contReq || a == 0:
		s.fwdBody = append(s.fwdBody, s.reqBody...)
		s.reqBody = nil
	case a == 1 || a == 2: // StopIterationAndBuffer / AndWatermark
		s.reqPaused = true
	default: // StopIterationNoBuffer: the data is dropped
		s.reqBody = nil
		s.reqPaused = true
	}
	if s.reply != nil || s.reset || s.trapped {
		s.reqPaused = true
	}
	if s.check(ctx) {
		return ActionPause
	}
	if len(s.reqBody) > maxBufferedBody {
		s.final = s.envoyReply(ctx, 413, "request_payload_too_large")
		return ActionPause
	}
	if !s.reqPaused {
		s.reqHeadersAvail, s.reqBodyAvail, s.reqTrailersAvail = false, false, false
	}
	return pausedAction(s.reqPaused)
}

// SendRequestTrailers delivers request trailers (the body then ended with
// eos false).
func (s *Stream) SendRequestTrailers(ctx context.Context, trailers [][2]string) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if !s.usable() {
		return ActionPause
	}
	s.reqTrailers = lowerPairs(trailers)
	s.reqTrailersAvail = true
	a := s.call(ctx, "proxy_on_request_trailers", ActionContinue, uint64(len(s.reqTrailers)))
	s.afterRequest(a, false)
	if s.check(ctx) {
		return ActionPause
	}
	if !s.reqPaused {
		s.reqTrailersAvail = false
	}
	return pausedAction(s.reqPaused)
}

// SendResponseHeaders delivers the upstream's response headers.
func (s *Stream) SendResponseHeaders(ctx context.Context, status int, headers [][2]string, eos bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if !s.usable() {
		return ActionPause
	}
	s.reqHeadersAvail, s.reqBodyAvail, s.reqTrailersAvail = false, false, false
	s.responseStatus = status
	s.respHeaders = append([][2]string{{":status", strconv.Itoa(status)}}, lowerPairs(headers)...)
	s.respHeadersAvail = true
	a := s.call(ctx, "proxy_on_response_headers", ActionContinue, uint64(len(s.respHeaders)), b2u(eos))
	s.afterResponse(a, true)
	if s.check(ctx) {
		return ActionPause
	}
	if !s.respPaused {
		s.respHeadersAvail = false
	}
	return pausedAction(s.respPaused)
}

// SendResponseBody delivers one response body chunk (buffering as for the
// request; over 1 MiB buffered, Envoy answers 500).
func (s *Stream) SendResponseBody(ctx context.Context, chunk []byte, eos bool) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if !s.usable() {
		return ActionPause
	}
	s.respBody = append(s.respBody, chunk...)
	s.respBodyAvail, s.respTrailersAvail = true, eos
	a := s.call(ctx, "proxy_on_response_body", ActionContinue, uint64(len(s.respBody)), b2u(eos))
	s.afterResponse(a, false)
	if s.check(ctx) {
		return ActionPause
	}
	if s.respPaused && len(s.respBody) > maxBufferedBody {
		s.final = s.envoyReply(ctx, 500, "response_payload_too_large")
		return ActionPause
	}
	if !s.respPaused {
		s.respBodyAvail, s.respTrailersAvail = false, false
	}
	return pausedAction(s.respPaused)
}

// SendResponseTrailers delivers response trailers.
func (s *Stream) SendResponseTrailers(ctx context.Context, trailers [][2]string) Action {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if !s.usable() {
		return ActionPause
	}
	s.respTrailers = lowerPairs(trailers)
	s.respTrailersAvail = true
	a := s.call(ctx, "proxy_on_response_trailers", ActionContinue, uint64(len(s.respTrailers)))
	s.afterResponse(a, false)
	if s.check(ctx) {
		return ActionPause
	}
	if !s.respPaused {
		s.respTrailersAvail = false
	}
	return pausedAction(s.respPaused)
}

// RunPending delivers this VM's pending events in time order (callout
// responses, ticks, queue notifications), advancing the test clock, until
// the stream is no longer paused, nothing is left, or StreamIdleTimeout of
// test-clock time has passed. Body chunks held while
// the plugin was paused in headers are delivered once it resumes.
func (s *Stream) RunPending(ctx context.Context) {
	v := s.vm
	v.mu.Lock()
	defer v.mu.Unlock()
	deadline := v.host.nowNanos() + int64(StreamIdleTimeout)
	for (s.reqPaused || s.respPaused) && s.usable() && !s.finishedEarly() {
		at, ok := v.nextDue()
		if !ok || at > deadline {
			break
		}
		v.host.setClock(at)
		v.runNext(ctx, at)
		if v.failed {
			s.trapped = true
		}
		if s.contReq {
			s.reqPaused, s.contReq = false, false
			s.reqHeadersAvail = false
		}
		if s.contResp {
			s.respPaused, s.contResp = false, false
		}
	}
	if s.check(ctx) {
		return
	}
	if !s.reqPaused && s.heldSet {
		body, eos := s.heldBody, s.heldEOS
		s.heldBody, s.heldSet = nil, false
		s.requestBody(ctx, body, eos)
	}
}

// Complete ends the stream as Envoy does: on_log, on_done, on_delete.
func (s *Stream) Complete(ctx context.Context) {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.c == nil || s.vm.failed || s.vm.closed {
		return
	}
	s.complete(ctx)
}

// envoyReply is a local reply Envoy sends itself (not the plugin's).
func (s *Stream) envoyReply(ctx context.Context, status int, details string) *Result {
	h := [][2]string{{":status", strconv.Itoa(status)}}
	res := &Result{Outcome: OutcomeLocalReply, Status: status, Details: details, GRPCStatus: -1, Headers: h,
		Response: &Response{Status: status, Headers: h}, Callouts: s.callouts, ContextID: s.c.id}
	s.complete(ctx)
	return res
}
