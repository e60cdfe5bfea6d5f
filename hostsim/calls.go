package hostsim

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
)

// callResponse is what the plugin may read during on_http_call_response.
type callResponse struct {
	headers, trailers [][2]string
	body              []byte
}

// pendingCall is an http call in flight, due at a test-clock time.
type pendingCall struct {
	token   uint32
	root    uint32
	due     int64
	cluster cluster
	out     *Callout
	timeout bool
}

const timeoutBody = "upstream request timeout"

// schedule decides when a call completes and whether it times out.
func (v *VM) schedule(c *Callout, cl cluster, root uint32) {
	now := v.host.nowNanos()
	pc := &pendingCall{token: c.Token, root: root, cluster: cl, out: c, due: now + int64(cl.delay)}
	if c.Timeout > 0 && cl.delay > c.Timeout {
		pc.due = now + int64(c.Timeout)
		pc.timeout = true
	}
	v.calls = append(v.calls, pc)
	// Stable order: by due time, then issue order.
	sort.SliceStable(v.calls, func(i, j int) bool { return v.calls[i].due < v.calls[j].due })
}

// answer produces the upstream's response for a call.
func (pc *pendingCall) answer() (resp *Response, reset bool) {
	if pc.timeout {
		return &Response{Status: 504, Headers: [][2]string{{":status", "504"},
			{"content-length", strconv.Itoa(len(timeoutBody))}, {"content-type", "text/plain"}},
			Body: []byte(timeoutBody)}, false
	}
	cl := pc.cluster
	if cl.canned != nil {
		if cl.canned.Reset {
			return nil, true
		}
		st := cl.canned.Status
		if st == 0 {
			st = 200
		}
		h := append([][2]string{{":status", strconv.Itoa(st)}}, lowerPairs(cl.canned.Headers)...)
		return &Response{Status: st, Headers: h, Body: append([]byte(nil), cl.canned.Body...),
			Trailers: lowerPairs(cl.canned.Trailers)}, false
	}
	if cl.handler == nil {
		return nil, true
	}
	resp, ok := serveHandler(cl.handler, pc.out.Headers, pc.out.Body)
	if !ok {
		// A request Go cannot represent would not have left Envoy either;
		// treat it as a reset rather than guessing.
		return nil, true
	}
	return resp, false
}

// serveHandler runs h on a request built from proxy-wasm headers
// (pseudo-headers give method, path, authority and scheme) and returns its
// answer as a Response with ":status" first and the other headers
// lower-cased, sorted by name.
func serveHandler(h http.Handler, headers [][2]string, body []byte) (*Response, bool) {
	var method, path, authority, scheme string
	hdr := http.Header{}
	for _, kv := range headers {
		switch kv[0] {
		case ":method":
			method = kv[1]
		case ":path":
			path = kv[1]
		case ":authority":
			authority = kv[1]
		case ":scheme":
			scheme = kv[1]
		default:
			hdr.Add(kv[0], kv[1])
		}
	}
	if scheme == "" {
		scheme = "http"
	}
	req, err := http.NewRequest(method, scheme+"://"+authority+path, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	req.Header = hdr
	req.Host = authority
	req.RequestURI = path
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := rec.Result()
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := [][2]string{{":status", strconv.Itoa(r.StatusCode)}}
	for _, k := range keys {
		for _, val := range r.Header[k] {
			out = append(out, [2]string{lower(k), val})
		}
	}
	b := rec.Body.Bytes()
	if len(b) > 0 && r.Header.Get("Content-Length") == "" {
		out = append(out, [2]string{"content-length", strconv.Itoa(len(b))})
	}
	var trailers [][2]string
	for k, vals := range r.Trailer {
		for _, val := range vals {
			trailers = append(trailers, [2]string{lower(k), val})
		}
	}
	return &Response{Status: r.StatusCode, Headers: out, Body: append([]byte(nil), b...), Trailers: trailers}, true
}

// nextDue is the earliest pending event on this VM: a queue notification
// (due now), a callout response or a tick. v.mu must be held.
func (v *VM) nextDue() (int64, bool) {
	if v.failed || v.closed {
		return 0, false
	}
	best, ok := int64(0), false
	consider := func(t int64) {
		if !ok || t < best {
			best, ok = t, true
		}
	}
	if v.hasQueueNotes() {
		consider(v.host.nowNanos())
	}
	if len(v.calls) > 0 {
		consider(v.calls[0].due)
	}
	for _, c := range v.contexts {
		if c.root == nil && c.tickPeriod > 0 && !c.deleted {
			consider(c.nextTick)
		}
	}
	return best, ok
}

// runNext delivers the earliest event due at or before at.
func (v *VM) runNext(ctx context.Context, at int64) bool {
	if v.failed || v.closed {
		return false
	}
	if n, ok := v.popQueueNote(); ok {
		if r, ok := v.contexts[n.root]; ok && !r.deleted {
			v.callback(ctx, "proxy_on_queue_ready", n.root, uint64(n.root), uint64(n.queueID))
		}
		return true
	}
	var tickRoot *vmContext
	for _, c := range v.contexts {
		if c.root == nil && c.tickPeriod > 0 && !c.deleted && c.nextTick <= at {
			if tickRoot == nil || c.nextTick < tickRoot.nextTick || (c.nextTick == tickRoot.nextTick && c.id < tickRoot.id) {
				tickRoot = c
			}
		}
	}
	if len(v.calls) > 0 && v.calls[0].due <= at && (tickRoot == nil || v.calls[0].due <= tickRoot.nextTick) {
		pc := v.calls[0]
		v.calls = v.calls[1:]
		v.deliverCall(ctx, pc)
		return true
	}
	if tickRoot != nil {
		// Re-armed one period after this tick; the callback may change it.
		tickRoot.nextTick += tickRoot.tickPeriod
		v.callback(ctx, "proxy_on_tick", tickRoot.id, uint64(tickRoot.id))
		return true
	}
	return false
}

// runDue delivers every event due at or before now.
func (v *VM) runDue(ctx context.Context, now int64) {
	for i := 0; i < 1_000_000; i++ { // bound: a tick period of 0 cannot loop, but be safe
		at, ok := v.nextDue()
		if !ok || at > now {
			return
		}
		if !v.runNext(ctx, now) {
			return
		}
	}
}

// deliverCall calls proxy_on_http_call_response on the call's root.
func (v *VM) deliverCall(ctx context.Context, pc *pendingCall) {
	root, ok := v.contexts[pc.root]
	if !ok || root.deleted {
		return
	}
	resp, reset := pc.answer()
	c := pc.out
	c.Delivered = true
	c.TimedOut = pc.timeout
	if reset {
		c.Reset = true
		root.statusCode, root.statusMsg = 11, "reset"
		v.callback(ctx, "proxy_on_http_call_response", root.id, uint64(root.id), uint64(pc.token), 0, 0, 0)
		root.statusCode, root.statusMsg = 0, ""
		return
	}
	c.Response = resp
	v.callResp = &callResponse{headers: resp.Headers, body: resp.Body, trailers: resp.Trailers}
	v.callback(ctx, "proxy_on_http_call_response", root.id, uint64(root.id), uint64(pc.token),
		uint64(len(resp.Headers)), uint64(len(resp.Body)), uint64(len(resp.Trailers)))
	v.callResp = nil
}

// PendingCallouts returns the calls this VM has in flight.
func (v *VM) PendingCallouts() []*Callout {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]*Callout, 0, len(v.calls))
	for _, pc := range v.calls {
		out = append(out, pc.out)
	}
	return out
}
