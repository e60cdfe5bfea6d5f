package filter

import (
	"net/netip"
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
	"github.com/tokengate/tokengate/plugin/policy"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/iprule"
)

// httpContext is one request. Proxy-wasm VMs are single-threaded, so the
// fields need no locking; the evaluation survives across a callout.
type httpContext struct {
	types.DefaultHttpContext
	plugin  *pluginContext
	id      uint32
	req     provider.Request
	ev      *policy.Evaluation
	ended   bool // OnHttpStreamDone ran: the stream is gone
	replied bool // a local reply was sent
	// waitBody: the rule needs the body; headers are held until it is complete.
	waitBody bool
	// forwarded: the verdict let the request through. Until then every
	// body and trailer callback holds the stream, so nothing reaches the
	// upstream while a decision is pending (Envoy delivers body callbacks
	// to a paused filter when allow_on_headers_stop_iteration is on).
	forwarded bool

	// Per-stream storage that would otherwise be one allocation each per
	// request: the evaluation, the header view of ordinary requests and
	// the credential-stripping edits.
	evalStore  policy.Evaluation
	headerBuf  [16]provider.Header
	editsStore provider.Edits
	removeBuf  [4]string
}

var (
	errNotConfigured = provider.NewError(provider.ReasonInternal, "plugin is not configured")
	errHeaders       = provider.NewError(provider.ReasonInternal, "request headers unavailable")
	errPseudo        = provider.NewError(provider.ReasonBadRequest, "missing or repeated :method, :path or :authority")
	errForwarded     = provider.NewError(provider.ReasonBadRequest, "x-forwarded-for does not carry the trusted hops")
	errHeaderValue   = provider.NewError(provider.ReasonClaims, "identity cannot be represented as a header value")
	errPanic         = provider.NewError(provider.ReasonInternal, "internal error")
	errBodyTooLarge  = provider.NewError(provider.ReasonOversize, "request body larger than the rule's max_body_bytes")
	errBodyMissing   = provider.NewError(provider.ReasonInternal, "request body unavailable")
)

// OnHttpRequestHeaders decides the request, or holds it until the body is
// complete when the matched rule buffers bodies.
func (h *httpContext) OnHttpRequestHeaders(_ int, endOfStream bool) (act types.Action) {
	defer h.recoverDeny("on_request_headers", &act)
	cfg := h.plugin.cfg
	if cfg == nil {
		return h.refuse(&policy.Verdict{Reason: provider.ReasonInternal, Err: errNotConfigured})
	}
	hs, err := proxywasm.GetHttpRequestHeadersInto(h.plugin.headerPairs)
	if err != nil {
		return h.refuse(&policy.Verdict{Reason: provider.ReasonInternal, Err: errHeaders})
	}
	r := &h.req
	if len(hs) <= len(h.headerBuf) {
		r.Headers = h.headerBuf[:len(hs)]
	} else {
		r.Headers = make([]provider.Header, len(hs))
	}
	var nMethod, nPath, nAuthority int
	var xff []string
	for i, kv := range hs {
		r.Headers[i] = provider.Header{Name: kv[0], Value: kv[1]}
		switch kv[0] {
		case ":method":
			r.Method = kv[1]
			nMethod++
		case ":path":
			r.RawPath = kv[1]
			nPath++
		case ":authority":
			r.Authority = kv[1]
			nAuthority++
		case "x-forwarded-for":
			xff = append(xff, kv[1])
		}
	}
	// Copied into r.Headers: keep the list's storage for the next request
	// (one allocation less per request), not this request's strings.
	clear(hs)
	h.plugin.headerPairs = hs[:0]
	if nMethod != 1 || nPath != 1 || nAuthority > 1 {
		return h.refuse(&policy.Verdict{Reason: provider.ReasonBadRequest, Err: errPseudo})
	}
	if cfg.TrustedXFFHops > 0 {
		src, err := iprule.ClientAddress(peerAddress(), xff, cfg.TrustedXFFHops)
		if err != nil {
			// The request did not come through the trusted proxies: refuse
			// rather than fall back to a less trusted address.
			return h.refuse(&policy.Verdict{Reason: provider.ReasonBadRequest, Err: errForwarded})
		}
		r.Source = src
	} else {
		// Only rules and providers that look at the address pay for it.
		r.SourceLoader = h
	}
	r.Now = h.plugin.opts.Now()
	h.ev = &h.evalStore
	cfg.Policy.BeginInto(h.ev, r)
	if h.ev.WantsBody() && !endOfStream {
		// Hold the headers (StopIteration) and collect the body. Envoy
		// only delivers body callbacks to a filter paused in headers when
		// allow_on_headers_stop_iteration is true (see config warnings).
		h.waitBody = true
		return types.ActionPause
	}
	h.ev.Run()
	return h.drive()
}

// LoadSource implements provider.SourceLoader: Envoy's source.address,
// invalid when the host has none or it does not parse. Properties are
// readable in every stream callback (a callout answer first makes the
// stream the effective context).
func (h *httpContext) LoadSource() netip.Addr {
	a, err := iprule.ClientAddress(peerAddress(), nil, 0)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

var sourceAddressPath = []string{"source", "address"}

// peerAddress is Envoy's source.address property, "" when unavailable.
func peerAddress() string {
	peer, _ := proxywasm.GetProperty(sourceAddressPath)
	return string(peer)
}

// OnHttpRequestBody buffers the body for rules that need it, then decides.
func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) (act types.Action) {
	defer h.recoverDeny("on_request_body", &act)
	if !h.waitBody {
		return h.holdUntilForwarded()
	}
	if bodySize > h.ev.Rule().MaxBodyBytes {
		h.waitBody = false
		return h.refuse(&policy.Verdict{Rule: h.ev.Rule(), Reason: provider.ReasonOversize, Err: errBodyTooLarge})
	}
	if !endOfStream {
		return types.ActionPause // keep buffering; called again with the total
	}
	return h.decideWithBody(bodySize)
}

// OnHttpRequestTrailers ends a body that was followed by trailers.
func (h *httpContext) OnHttpRequestTrailers(int) (act types.Action) {
	defer h.recoverDeny("on_request_trailers", &act)
	if !h.waitBody {
		return h.holdUntilForwarded()
	}
	size := 0
	if b, err := proxywasm.GetHttpRequestBody(0, h.ev.Rule().MaxBodyBytes+1); err == nil {
		size = len(b)
	}
	if size > h.ev.Rule().MaxBodyBytes {
		h.waitBody = false
		return h.refuse(&policy.Verdict{Rule: h.ev.Rule(), Reason: provider.ReasonOversize, Err: errBodyTooLarge})
	}
	return h.decideWithBody(size)
}

func (h *httpContext) holdUntilForwarded() types.Action {
	if h.forwarded {
		return types.ActionContinue
	}
	return types.ActionPause
}

func (h *httpContext) decideWithBody(size int) types.Action {
	h.waitBody = false
	if size > 0 {
		b, err := proxywasm.GetHttpRequestBody(0, size)
		if err != nil {
			return h.refuse(&policy.Verdict{Rule: h.ev.Rule(), Reason: provider.ReasonInternal, Err: errBodyMissing})
		}
		h.req.Body = b
	}
	h.ev.Run()
	return h.drive()
}

// drive dispatches callouts until the verdict is final, then applies it.
// It returns ActionPause while a callout is out or after a local reply.
func (h *httpContext) drive() types.Action {
	for !h.ev.Done() {
		call := h.ev.Callout()
		_, err := proxywasm.DispatchHttpCall(call.Cluster, pairs(call.Headers), call.Body, nil, boundTimeout(call.TimeoutMillis), h.onCalloutResponse)
		if err == nil {
			return types.ActionPause
		}
		// Unknown cluster, missing pseudo-headers, ...: the provider gets
		// the zero response and decides (normally callout_failed).
		h.ev.Resume(&provider.CalloutResponse{})
	}
	return h.apply(h.ev.Verdict())
}

// Callout timeouts: Envoy reads 0 as "no timeout", which would let a
// request wait forever, so 0 becomes the default and long ones are capped.
const (
	defaultCalloutTimeoutMs = 5000
	maxCalloutTimeoutMs     = 60000
)

func boundTimeout(ms uint32) uint32 {
	switch {
	case ms == 0:
		return defaultCalloutTimeoutMs
	case ms > maxCalloutTimeoutMs:
		return maxCalloutTimeoutMs
	}
	return ms
}

// onCalloutResponse resumes the paused request with the callout's answer.
func (h *httpContext) onCalloutResponse(numHeaders, bodySize, _ int) {
	act := types.ActionPause
	// Deferred in this order so the recover runs first (recover only works
	// directly in a deferred call) and a panic never resumes the request.
	defer func() {
		if act == types.ActionContinue && !h.ended {
			_ = proxywasm.ResumeHttpRequest()
		}
	}()
	defer h.recoverDeny("on_http_call_response", &act)
	if h.ended || h.ev == nil {
		return // the client went away; nothing to resume
	}
	if err := proxywasm.SetEffectiveContext(h.id); err != nil {
		return
	}
	h.ev.Resume(readCalloutResponse(numHeaders, bodySize))
	act = h.drive()
}

// OnHttpStreamDone marks the stream gone so a late callout answer is dropped.
func (h *httpContext) OnHttpStreamDone() { h.ended = true }

// apply forwards or refuses according to v.
func (h *httpContext) apply(v *policy.Verdict) types.Action {
	p, cfg := h.plugin, h.plugin.cfg
	if !v.Allow {
		return h.refuse(v)
	}
	rule := v.Rule
	if v.Shadow {
		h.logDenial("tokengate: shadow: would deny", v)
		p.count(rule, refusingProvider(v), "shadow_denied", v.Reason)
		h.removeForged(nil)
		h.forwarded = true
		return types.ActionContinue
	}
	switch v.Kind {
	case policy.KindAnonymous:
		h.removeForged(nil)
		p.count(rule, "_anonymous", "allowed", provider.ReasonOK)
		h.forwarded = true
		return types.ActionContinue
	case policy.KindPreflight:
		h.removeForged(nil)
		p.count(rule, "_preflight", "allowed", provider.ReasonOK)
		h.forwarded = true
		return types.ActionContinue
	}
	id := &v.Identity
	scopes := joinScopes(id.Scopes)
	if !headerSafe(id.Subject) || !headerSafe(id.Provider) || !headerSafe(scopes) || !headerSafe(id.Role) || !headersSafe(v.Headers) {
		return h.refuse(&policy.Verdict{Rule: v.Rule, Reason: provider.ReasonClaims, Err: errHeaderValue, Provider: id.Provider})
	}
	h.removeForged(v.Headers)
	if cfg.StripCredentials && !v.Rule.Shadow {
		h.strip(v.Verified)
	}
	ih := &cfg.Identity
	setHeader(ih.Subject, id.Subject)
	setHeader(ih.Provider, id.Provider)
	setHeader(ih.Scopes, scopes)
	setHeader(ih.Role, id.Role)
	for _, hd := range v.Headers {
		_ = proxywasm.AddHttpRequestHeader(hd.Name, hd.Value)
	}
	p.count(rule, id.Provider, "allowed", provider.ReasonOK)
	h.forwarded = true
	return types.ActionContinue
}

func setHeader(name, value string) {
	if name != "" && value != "" {
		_ = proxywasm.ReplaceHttpRequestHeader(name, value)
	}
}

func ruleName(v *policy.Verdict) string {
	if v.Rule == nil {
		return "_none"
	}
	return v.Rule.Name
}

func refusingProvider(v *policy.Verdict) string {
	if v.Provider == "" {
		return "_none"
	}
	return v.Provider
}

// removeForged deletes inbound headers that could pass for identity.
func (h *httpContext) removeForged(extra []provider.Header) {
	ih := &h.plugin.cfg.Identity
	removed := make([]string, 0, 4)
	for _, hd := range h.req.Headers {
		n := hd.Name
		if n == "" || n[0] == ':' || contains(removed, n) {
			continue
		}
		forged := n == ih.Subject || n == ih.Provider || n == ih.Scopes || n == ih.Role ||
			(ih.RemovePrefix != "" && len(n) >= len(ih.RemovePrefix) && n[:len(ih.RemovePrefix)] == ih.RemovePrefix) ||
			contains(ih.Remove, n)
		for i := 0; !forged && i < len(extra); i++ {
			forged = extra[i].Name == n
		}
		if forged {
			_ = proxywasm.RemoveHttpRequestHeader(n)
			removed = append(removed, n)
		}
	}
}

// strip removes the verified credentials from the request.
func (h *httpContext) strip(verified []provider.Provider) {
	ed := &h.editsStore
	ed.RemoveHeaders, ed.RemoveQueryParams = h.removeBuf[:0], nil
	for _, p := range verified {
		if s, ok := p.(provider.Stripper); ok {
			s.Strip(&h.req, ed)
		}
	}
	for _, n := range ed.RemoveHeaders {
		_ = proxywasm.RemoveHttpRequestHeader(n)
	}
	if len(ed.RemoveQueryParams) > 0 {
		if np, changed := RemoveQueryParams(h.req.RawPath, ed.RemoveQueryParams); changed {
			_ = proxywasm.ReplaceHttpRequestHeader(":path", np)
		}
	}
}

// refuse sends the local reply for a refusal, counts and logs it.
func (h *httpContext) refuse(v *policy.Verdict) types.Action {
	p := h.plugin
	status := v.Reason.Status()
	headers := make([][2]string, 0, 4)
	headers = append(headers, [2]string{"content-type", "application/json"})
	body := `{"error":"` + string(v.Reason) + `"`
	switch status {
	case 401:
		if v.Rule != nil {
			seen := make([]string, 0, 2)
			for _, pr := range v.Rule.Providers() {
				if c := pr.Challenge(); c != "" && !contains(seen, c) {
					seen = append(seen, c)
					headers = append(headers, [2]string{"www-authenticate", c})
				}
			}
		}
	case 429:
		ra := strconv.FormatInt(max64(v.RetryAfter, 1), 10)
		headers = append(headers, [2]string{"retry-after", ra})
		body += `,"retry_after":` + ra
	}
	body += "}"
	h.replied = true
	if p.cfg != nil {
		h.logDenial("tokengate: denied", v)
	} else {
		proxywasm.LogError("tokengate: denied status=" + strconv.Itoa(status) + " reason=" + string(v.Reason))
	}
	p.count(v.Rule, refusingProvider(v), "denied", v.Reason)
	_ = proxywasm.SendHttpResponse(uint32(status), headers, []byte(body), -1)
	return types.ActionPause
}

func (h *httpContext) logDenial(prefix string, v *policy.Verdict) {
	msg := prefix + " status=" + strconv.Itoa(v.Reason.Status()) + " rule=" + ruleName(v) +
		" reason=" + string(v.Reason) + " provider=" + refusingProvider(v)
	if e, ok := v.Err.(*provider.Error); ok && e.Detail != "" {
		msg += " detail=" + e.Detail
	}
	h.plugin.log(h.plugin.cfg.DenyLogLevel, msg)
}

// recoverDeny turns a panic into a 500 for the request in flight.
func (h *httpContext) recoverDeny(callback string, act *types.Action) {
	r := recover()
	if r == nil {
		return
	}
	*act = types.ActionPause
	proxywasm.LogCritical("tokengate: panic in " + callback + "; request denied")
	if h.replied || h.ended {
		return
	}
	defer func() { _ = recover() }() // the reply itself must not crash the VM
	v := &policy.Verdict{Reason: provider.ReasonInternal, Err: errPanic}
	if h.ev != nil {
		v.Rule = h.ev.Rule()
	}
	h.refuse(v)
}

// headerSafe refuses values Envoy would reject or that could split headers.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func headersSafe(hs []provider.Header) bool {
	for _, h := range hs {
		if h.Name == "" || h.Name[0] == ':' || !headerSafe(h.Name) || !headerSafe(h.Value) {
			return false
		}
	}
	return true
}

func joinScopes(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	n := len(s) - 1
	for _, v := range s {
		n += len(v)
	}
	b := make([]byte, 0, n)
	for i, v := range s {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, v...)
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
