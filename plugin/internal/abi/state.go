package abi

//lint:file-ignore U1000 the callbacks without native callers are reached from the wasip1-only exports (exports.go)

import (
	"runtime"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// failHost is what the state machine needs from the host to fail closed. The wasm build binds it
// to real host calls (exports.go); native tests use a recorder.
type failHost interface {
	log(level LogLevel, msg string)
	// sendInternalError sends the local 500 {"reason":"internal_error"} reply on the stream the
	// host currently targets (the current context, or the effective one once set).
	sendInternalError()
	// setEffectiveContext redirects later host calls of this callback; false if the id is gone.
	setEffectiveContext(id uint32) bool
	// closeDownstream closes the TCP connection of the current context.
	closeDownstream()
}

// InternalErrorBody is the body of the local reply sent when plugin code panics.
const InternalErrorBody = `{"reason":"internal_error"}`

// InternalErrorStatus is the HTTP status of that reply.
const InternalErrorStatus = 500

type rootCtx struct {
	ctx      types.PluginContext
	callouts map[uint32]callout
}

// callout is a dispatched HTTP call waiting for its response on the root context.
type callout struct {
	cb func(numHeaders, bodySize, numTrailers int)
	// origin is the HTTP stream that dispatched the call (0 if a root did), so a panic in cb can
	// deny that stream instead of leaving it paused forever.
	origin uint32
}

type streamCtx struct {
	root uint32
	http types.HttpContext
	tcp  types.TcpContext
	// failed: plugin code panicked (or the context could not be built); the plugin is not called
	// for this stream again. replied: the internal-error reply has been sent.
	failed, replied bool
}

// machine is the guest-side context state machine. One per VM instance; the host never calls
// in concurrently (and Go's wasip1 has one thread), so it needs no locking.
type machine struct {
	host    failHost
	vm      types.VMContext
	roots   map[uint32]*rootCtx
	streams map[uint32]*streamCtx
	// current is the context of the callback being run; effective is the context set with
	// proxy_set_effective_context in this callback (0 = none). Both reset at every callback.
	current, effective uint32
}

func newMachine(h failHost) *machine {
	return &machine{host: h, roots: map[uint32]*rootCtx{}, streams: map[uint32]*streamCtx{}}
}

func (m *machine) enter(id uint32) { m.current, m.effective = id, 0 }

// target is the context host calls act on right now.
func (m *machine) target() uint32 {
	if m.effective != 0 {
		return m.effective
	}
	return m.current
}

// rootOf returns the root context id of id (itself for a root), or 0.
func (m *machine) rootOf(id uint32) uint32 {
	if _, ok := m.roots[id]; ok {
		return id
	}
	if s, ok := m.streams[id]; ok {
		return s.root
	}
	return 0
}

// registerCallout records a dispatched HTTP call. Envoy issues it on the root of the effective
// context, and delivers the response there.
func (m *machine) registerCallout(token uint32, cb func(int, int, int)) {
	t := m.target()
	root := m.roots[m.rootOf(t)]
	if root == nil || cb == nil {
		return
	}
	var origin uint32
	if _, ok := m.streams[t]; ok {
		origin = t
	}
	root.callouts[token] = callout{cb: cb, origin: origin}
}

// panicMessage describes a recovered value without ever echoing plugin data: only the runtime's
// own messages (types, indexes) are included.
func panicMessage(where string, p any) string {
	if re, ok := p.(runtime.Error); ok {
		return "tokengate: panic in " + where + ": " + re.Error()
	}
	return "tokengate: panic in " + where + " (value not logged)"
}

// --- lifecycle -------------------------------------------------------------------------------

func (m *machine) onContextCreate(id, parent uint32) {
	m.enter(id)
	if parent == 0 {
		defer func() {
			if p := recover(); p != nil {
				delete(m.roots, id) // configure will find no root and fail the start
				m.host.log(LogLevelCritical, panicMessage("proxy_on_context_create", p))
			}
		}()
		if m.vm == nil {
			m.host.log(LogLevelCritical, "tokengate: no VM context registered (SetVMContext must run in init)")
			return
		}
		if ctx := m.vm.NewPluginContext(id); ctx != nil {
			m.roots[id] = &rootCtx{ctx: ctx, callouts: map[uint32]callout{}}
		} else {
			m.host.log(LogLevelCritical, "tokengate: NewPluginContext returned nil")
		}
		return
	}
	// A stream is registered as failed first, so a panic or nil context below still leaves an
	// entry that denies the request.
	s := &streamCtx{root: parent, failed: true}
	m.streams[id] = s
	defer func() {
		if p := recover(); p != nil {
			s.failed = true
			m.host.log(LogLevelError, panicMessage("proxy_on_context_create", p))
		}
	}()
	root := m.roots[parent]
	if root == nil {
		m.host.log(LogLevelError, "tokengate: stream created under an unknown root context")
		return
	}
	if h := root.ctx.NewHttpContext(id); h != nil {
		s.http, s.failed = h, false
	} else if t := root.ctx.NewTcpContext(id); t != nil {
		s.tcp, s.failed = t, false
	} else {
		m.host.log(LogLevelError, "tokengate: plugin created no stream context")
	}
}

func (m *machine) onVMStart(rootID, size uint32) (ok uint32) {
	m.enter(rootID)
	defer func() {
		if p := recover(); p != nil {
			ok = 0
			m.host.log(LogLevelCritical, panicMessage("proxy_on_vm_start", p))
		}
	}()
	if m.vm == nil {
		m.host.log(LogLevelCritical, "tokengate: no VM context registered (SetVMContext must run in init)")
		return 0
	}
	return b2u(bool(m.vm.OnVMStart(int(size))))
}

func (m *machine) onConfigure(rootID, size uint32) (ok uint32) {
	m.enter(rootID)
	defer func() {
		if p := recover(); p != nil {
			ok = 0
			m.host.log(LogLevelCritical, panicMessage("proxy_on_configure", p))
		}
	}()
	root := m.roots[rootID]
	if root == nil {
		m.host.log(LogLevelCritical, "tokengate: configure for an unknown root context")
		return 0
	}
	return b2u(bool(root.ctx.OnPluginStart(int(size))))
}

func (m *machine) onTick(rootID uint32) {
	m.enter(rootID)
	defer m.logPanic("proxy_on_tick")
	if root := m.roots[rootID]; root != nil {
		root.ctx.OnTick()
	}
}

func (m *machine) onQueueReady(rootID, queueID uint32) {
	m.enter(rootID)
	defer m.logPanic("proxy_on_queue_ready")
	if root := m.roots[rootID]; root != nil {
		root.ctx.OnQueueReady(queueID)
	}
}

func (m *machine) onLog(id uint32) {
	m.enter(id)
	defer m.logPanic("proxy_on_log")
	s := m.streams[id]
	switch {
	case s == nil:
	case s.http != nil:
		s.http.OnHttpStreamDone()
	case s.tcp != nil:
		s.tcp.OnStreamDone()
	}
}

func (m *machine) onDone(id uint32) (done uint32) {
	m.enter(id)
	defer func() {
		if p := recover(); p != nil {
			done = 1
			m.host.log(LogLevelError, panicMessage("proxy_on_done", p))
		}
	}()
	if root := m.roots[id]; root != nil {
		return b2u(root.ctx.OnPluginDone())
	}
	return 1
}

func (m *machine) onDelete(id uint32) {
	m.enter(id)
	delete(m.roots, id)
	delete(m.streams, id)
}

func (m *machine) logPanic(where string) {
	if p := recover(); p != nil {
		m.host.log(LogLevelError, panicMessage(where, p))
	}
}

// --- HTTP ------------------------------------------------------------------------------------

const (
	actionContinue = uint32(types.ActionContinue)
	actionPause    = uint32(types.ActionPause)
)

// httpStream returns the live HTTP context for id, or nil after making sure a failed or unknown
// stream has been answered. request tells which direction the callback is on.
func (m *machine) httpStream(id uint32) types.HttpContext {
	s := m.streams[id]
	if s == nil {
		// Not created through proxy_on_context_create: a broken invariant. Deny.
		s = &streamCtx{failed: true}
		m.streams[id] = s
		m.host.log(LogLevelError, "tokengate: HTTP callback for an unknown context")
	}
	if !s.failed && s.http != nil {
		return s.http
	}
	s.failed = true
	if !s.replied {
		s.replied = true
		m.host.sendInternalError()
	}
	return nil
}

// failStream records a panic on stream id and answers it.
func (m *machine) failStream(id uint32, where string, p any) {
	m.host.log(LogLevelError, panicMessage(where, p))
	s := m.streams[id]
	if s == nil {
		s = &streamCtx{}
		m.streams[id] = s
	}
	s.failed = true
	if !s.replied {
		s.replied = true
		m.host.sendInternalError()
	}
}

// guardHTTP is deferred by every HTTP callback: a panic fails the stream and pauses it.
func (m *machine) guardHTTP(id uint32, where string, action *uint32) {
	if p := recover(); p != nil {
		m.failStream(id, where, p)
		*action = actionPause
	}
}

// failedAction is what a callback of an already failed stream returns: hold the request side,
// let the response side carry our own reply out.
func failedAction(request bool) uint32 {
	if request {
		return actionPause
	}
	return actionContinue
}

func (m *machine) onRequestHeaders(id, n, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_request_headers", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(true)
	}
	return uint32(h.OnHttpRequestHeaders(int(n), eos != 0))
}

func (m *machine) onRequestBody(id, size, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_request_body", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(true)
	}
	return uint32(h.OnHttpRequestBody(int(size), eos != 0))
}

func (m *machine) onRequestTrailers(id, n uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_request_trailers", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(true)
	}
	return uint32(h.OnHttpRequestTrailers(int(n)))
}

func (m *machine) onResponseHeaders(id, n, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_response_headers", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(false)
	}
	return uint32(h.OnHttpResponseHeaders(int(n), eos != 0))
}

func (m *machine) onResponseBody(id, size, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_response_body", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(false)
	}
	return uint32(h.OnHttpResponseBody(int(size), eos != 0))
}

func (m *machine) onResponseTrailers(id, n uint32) (action uint32) {
	m.enter(id)
	defer m.guardHTTP(id, "proxy_on_response_trailers", &action)
	h := m.httpStream(id)
	if h == nil {
		return failedAction(false)
	}
	return uint32(h.OnHttpResponseTrailers(int(n)))
}

func (m *machine) onHttpCallResponse(rootID, token, nh, bs, nt uint32) {
	m.enter(rootID)
	root := m.roots[rootID]
	if root == nil {
		m.host.log(LogLevelWarn, "tokengate: HTTP call response for an unknown root context")
		return
	}
	c, ok := root.callouts[token]
	if !ok {
		m.host.log(LogLevelWarn, "tokengate: HTTP call response with an unknown token")
		return
	}
	delete(root.callouts, token)
	defer func() {
		if p := recover(); p != nil {
			m.host.log(LogLevelError, panicMessage("proxy_on_http_call_response", p))
			// Deny the stream that is waiting for this call, if it still exists.
			if c.origin != 0 && m.streams[c.origin] != nil && m.host.setEffectiveContext(c.origin) {
				m.effective = c.origin
				s := m.streams[c.origin]
				s.failed = true
				if !s.replied {
					s.replied = true
					m.host.sendInternalError()
				}
			}
		}
	}()
	c.cb(int(nh), int(bs), int(nt))
}

// --- TCP -------------------------------------------------------------------------------------

func (m *machine) tcpStream(id uint32) types.TcpContext {
	if s := m.streams[id]; s != nil && !s.failed && s.tcp != nil {
		return s.tcp
	}
	m.host.closeDownstream()
	return nil
}

func (m *machine) guardTCP(id uint32, where string, action *uint32) {
	if p := recover(); p != nil {
		m.host.log(LogLevelError, panicMessage(where, p))
		if s := m.streams[id]; s != nil {
			s.failed = true
		}
		m.host.closeDownstream()
		*action = actionPause
	}
}

func (m *machine) onNewConnection(id uint32) (action uint32) {
	m.enter(id)
	defer m.guardTCP(id, "proxy_on_new_connection", &action)
	t := m.tcpStream(id)
	if t == nil {
		return actionPause
	}
	return uint32(t.OnNewConnection())
}

func (m *machine) onDownstreamData(id, size, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardTCP(id, "proxy_on_downstream_data", &action)
	t := m.tcpStream(id)
	if t == nil {
		return actionPause
	}
	return uint32(t.OnDownstreamData(int(size), eos != 0))
}

func (m *machine) onUpstreamData(id, size, eos uint32) (action uint32) {
	m.enter(id)
	defer m.guardTCP(id, "proxy_on_upstream_data", &action)
	t := m.tcpStream(id)
	if t == nil {
		return actionPause
	}
	return uint32(t.OnUpstreamData(int(size), eos != 0))
}

func (m *machine) onDownstreamClose(id, peer uint32) {
	m.enter(id)
	defer m.logPanic("proxy_on_downstream_connection_close")
	if s := m.streams[id]; s != nil && !s.failed && s.tcp != nil {
		s.tcp.OnDownstreamClose(types.PeerType(peer))
	}
}

func (m *machine) onUpstreamClose(id, peer uint32) {
	m.enter(id)
	defer m.logPanic("proxy_on_upstream_connection_close")
	if s := m.streams[id]; s != nil && !s.failed && s.tcp != nil {
		s.tcp.OnUpstreamClose(types.PeerType(peer))
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
