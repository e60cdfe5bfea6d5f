package hostsim

import (
	"context"
	"math"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/hostsim/internal/abi"
)

// Host functions of module "env", with Envoy's semantics. Every function
// follows the generic rules of the ABI: an enum argument above its maximum
// is BadArgument (2) before anything else; a pointer or length outside
// linear memory is InvalidMemoryAccess (6); outputs are little-endian.
// Spec: https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
// (Envoy's departures from it are noted per function).

type envFunc struct {
	params, results []api.ValueType
	fn              hostFn
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func ps(n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = i32
	}
	return out
}

var status1 = []api.ValueType{i32}

func set(s []uint64, code abi.Status) { s[0] = uint64(code) }

func a32(s []uint64, i int) uint32 { return uint32(s[i]) }

// envFuncs returns the env functions Envoy links for an ABI version.
func envFuncs(abiVersion string) map[string]envFunc {
	m := map[string]envFunc{
		// proxy_log(level, msg_ptr, msg_size) → status
		"proxy_log": {ps(3), status1, hcLog},
		// proxy_get_current_time_nanoseconds(out_u64_ptr) → status
		"proxy_get_current_time_nanoseconds": {ps(1), status1, hcGetTime},
		// proxy_set_tick_period_milliseconds(period_ms) → status; always OK.
		"proxy_set_tick_period_milliseconds": {ps(1), status1, hcSetTick},
		// proxy_get_status(out_code_ptr, out_msg_ptr_ptr, out_msg_size_ptr)
		"proxy_get_status": {ps(3), status1, hcGetStatus},
		// proxy_done() → OK if the root was waiting after on_done, else 1.
		"proxy_done": {nil, status1, hcDone},
		// proxy_set_effective_context(context_id) → 2 if unknown.
		"proxy_set_effective_context": {ps(1), status1, hcSetEffective},

		"proxy_get_buffer_bytes":  {ps(5), status1, hcGetBufferBytes},
		"proxy_get_buffer_status": {ps(3), status1, hcGetBufferStatus},
		"proxy_set_buffer_bytes":  {ps(5), status1, hcSetBufferBytes},

		"proxy_get_header_map_value":     {ps(5), status1, hcGetMapValue},
		"proxy_add_header_map_value":     {ps(5), status1, hcAddMapValue},
		"proxy_replace_header_map_value": {ps(5), status1, hcReplaceMapValue},
		"proxy_remove_header_map_value":  {ps(3), status1, hcRemoveMapValue},
		"proxy_get_header_map_pairs":     {ps(3), status1, hcGetMapPairs},
		"proxy_set_header_map_pairs":     {ps(3), status1, hcSetMapPairs},
		"proxy_get_header_map_size":      {ps(2), status1, hcGetMapSize},

		"proxy_send_local_response": {ps(8), status1, hcSendLocalResponse},
		"proxy_http_call":           {ps(10), status1, hcHTTPCall},

		"proxy_grpc_call":   {ps(12), status1, hcGRPCCall},
		"proxy_grpc_stream": {ps(9), status1, hcGRPCStream},
		"proxy_grpc_send":   {ps(4), status1, hcGRPCSend},
		"proxy_grpc_cancel": {ps(1), status1, hcGRPCCancelClose},
		"proxy_grpc_close":  {ps(1), status1, hcGRPCCancelClose},

		"proxy_get_shared_data": {ps(5), status1, hcGetSharedData},
		"proxy_set_shared_data": {ps(5), status1, hcSetSharedData},

		"proxy_register_shared_queue": {ps(3), status1, hcRegisterQueue},
		"proxy_resolve_shared_queue":  {ps(5), status1, hcResolveQueue},
		"proxy_enqueue_shared_queue":  {ps(3), status1, hcEnqueue},
		"proxy_dequeue_shared_queue":  {ps(3), status1, hcDequeue},

		"proxy_define_metric":    {ps(4), status1, hcDefineMetric},
		"proxy_increment_metric": {[]api.ValueType{i32, i64}, status1, hcIncrementMetric},
		"proxy_record_metric":    {[]api.ValueType{i32, i64}, status1, hcRecordMetric},
		"proxy_get_metric":       {ps(2), status1, hcGetMetric},

		"proxy_get_property": {ps(4), status1, hcGetProperty},
		"proxy_set_property": {ps(4), status1, hcSetProperty},

		"proxy_call_foreign_function": {ps(6), status1, hcCallForeign},

		"pthread_equal": {ps(2), status1, func(_ context.Context, _ *VM, _ api.Module, s []uint64) {
			if a32(s, 0) == a32(s, 1) {
				s[0] = 1
				return
			}
			s[0] = 0
		}},
		"emscripten_notify_memory_growth": {ps(1), nil, func(context.Context, *VM, api.Module, []uint64) {}},
		// envoy_resolve_dns(addr_ptr, addr_size, out_token): DNS is not
		// simulated; the explicit answer is Unimplemented (12).
		"envoy_resolve_dns": {ps(3), status1, func(_ context.Context, _ *VM, _ api.Module, s []uint64) {
			set(s, abi.Unimplemented)
		}},
	}
	switch abiVersion {
	case "0_1_0":
		m["proxy_get_configuration"] = envFunc{ps(2), status1, hcGetConfiguration}
		m["proxy_continue_request"] = envFunc{nil, status1, func(ctx context.Context, v *VM, md api.Module, s []uint64) {
			s[0] = abi.StreamHTTPRequest
			hcContinueStream(ctx, v, md, s)
		}}
		m["proxy_continue_response"] = envFunc{nil, status1, func(ctx context.Context, v *VM, md api.Module, s []uint64) {
			s[0] = abi.StreamHTTPResponse
			hcContinueStream(ctx, v, md, s)
		}}
		m["proxy_clear_route_cache"] = envFunc{nil, status1, func(_ context.Context, _ *VM, _ api.Module, s []uint64) {
			set(s, abi.OK)
		}}
	default:
		m["proxy_continue_stream"] = envFunc{ps(1), status1, hcContinueStream}
		m["proxy_close_stream"] = envFunc{ps(1), status1, hcCloseStream}
		if abiVersion == "0_2_1" {
			m["proxy_get_log_level"] = envFunc{ps(1), status1, hcGetLogLevel}
		}
	}
	return m
}

type signature struct{ params, results []api.ValueType }

// exportSignature is the type Envoy checks for each export it knows.
func exportSignature(abiVersion, name string) (signature, bool) {
	v := func(n int) signature { return signature{ps(n), nil} }
	r := func(n int) signature { return signature{ps(n), status1} }
	switch name {
	case "malloc", "proxy_on_memory_allocate":
		return r(1), true
	case "_initialize", "_start":
		return v(0), true
	case "main":
		return r(2), true
	case "__main_void":
		return r(0), true
	case "proxy_on_context_create", "proxy_on_queue_ready", "proxy_on_downstream_connection_close",
		"proxy_on_upstream_connection_close":
		return v(2), true
	case "proxy_on_vm_start", "proxy_on_configure", "proxy_validate_configuration",
		"proxy_on_request_trailers", "proxy_on_response_trailers",
		"proxy_on_request_metadata", "proxy_on_response_metadata":
		return r(2), true
	case "proxy_on_tick", "proxy_on_log", "proxy_on_delete":
		return v(1), true
	case "proxy_on_done", "proxy_on_new_connection":
		return r(1), true
	case "proxy_on_request_headers", "proxy_on_response_headers":
		if abiVersion == "0_1_0" {
			return r(2), true
		}
		return r(3), true
	case "proxy_on_request_body", "proxy_on_response_body", "proxy_on_downstream_data", "proxy_on_upstream_data":
		return r(3), true
	case "proxy_on_http_call_response":
		return v(5), true
	case "proxy_on_grpc_receive", "proxy_on_grpc_close", "proxy_on_grpc_receive_initial_metadata",
		"proxy_on_grpc_receive_trailing_metadata", "proxy_on_foreign_function":
		return v(3), true
	}
	return signature{}, false
}

// ---- logging, time, status ----

func hcLog(_ context.Context, v *VM, m api.Module, s []uint64) {
	level := a32(s, 0)
	if level > abi.MaxLogLevel {
		set(s, abi.BadArgument)
		return
	}
	msg, ok := readString(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	v.log(LogLevel(level), msg)
	set(s, abi.OK)
}

func hcGetLogLevel(_ context.Context, v *VM, m api.Module, s []uint64) {
	if !m.Memory().WriteUint32Le(a32(s, 0), uint32(v.host.cfg.logLevel)) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

func hcGetTime(_ context.Context, v *VM, m api.Module, s []uint64) {
	if !m.Memory().WriteUint64Le(a32(s, 0), uint64(v.host.nowNanos())) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

func hcSetTick(_ context.Context, v *VM, _ api.Module, s []uint64) {
	if c := v.effective(); c != nil {
		r := c.rootCtx()
		r.tickPeriod = int64(a32(s, 0)) * 1e6
		r.nextTick = v.host.nowNanos() + r.tickPeriod
	}
	set(s, abi.OK)
}

func hcGetStatus(ctx context.Context, v *VM, m api.Module, s []uint64) {
	var code uint32
	var msg string
	if c := v.effective(); c != nil {
		code, msg = c.rootCtx().statusCode, c.rootCtx().statusMsg
	}
	if !m.Memory().WriteUint32Le(a32(s, 0), code) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, v.writeOut(ctx, m, a32(s, 1), a32(s, 2), []byte(msg)))
}

func hcDone(_ context.Context, v *VM, _ api.Module, s []uint64) {
	c := v.effective()
	if c == nil || !c.rootCtx().waitingDone {
		set(s, abi.NotFound)
		return
	}
	v.pendingDelete = c.rootCtx()
	set(s, abi.OK)
}

func hcSetEffective(_ context.Context, v *VM, _ api.Module, s []uint64) {
	id := a32(s, 0)
	if _, ok := v.contexts[id]; !ok {
		set(s, abi.BadArgument)
		return
	}
	v.eff, v.effSet = id, true
	set(s, abi.OK)
}

func hcGetConfiguration(ctx context.Context, v *VM, m api.Module, s []uint64) {
	data := v.plugin.cfg.VMConfiguration
	if v.inConfigure {
		data = v.curPlugin().cfg.Configuration
	}
	set(s, v.writeOut(ctx, m, a32(s, 0), a32(s, 1), data))
}

// ---- stream control ----

// stream returns the HTTP stream of the effective context, or nil.
func (v *VM) stream() *Stream {
	if c := v.effective(); c != nil {
		return c.stream
	}
	return nil
}

func hcContinueStream(_ context.Context, v *VM, _ api.Module, s []uint64) {
	t := a32(s, 0)
	switch {
	case t > abi.MaxStreamType:
		set(s, abi.BadArgument)
		return
	case t == abi.StreamUpstream:
		set(s, abi.Unimplemented)
		return
	}
	if st := v.stream(); st != nil && t <= abi.StreamHTTPResponse {
		if t == abi.StreamHTTPRequest {
			st.contReq = true
		} else {
			st.contResp = true
		}
		// Envoy forgets the request pointers as soon as either direction
		// continues.
		st.reqHeadersAvail, st.reqBodyAvail, st.reqTrailersAvail = false, false, false
	}
	set(s, abi.OK)
}

func hcCloseStream(_ context.Context, v *VM, _ api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxStreamType {
		set(s, abi.BadArgument)
		return
	}
	if st := v.stream(); st != nil && t <= abi.StreamHTTPResponse {
		st.reset = true
	}
	set(s, abi.OK)
}

// hcSendLocalResponse: (status, details_ptr, details_size, body_ptr,
// body_size, headers_ptr, headers_size, grpc_status). Always OK; acts only
// in an HTTP stream; deferred until the callback returns.
func hcSendLocalResponse(_ context.Context, v *VM, m api.Module, s []uint64) {
	details, ok1 := readString(m, a32(s, 1), a32(s, 2))
	body, ok2 := read(m, a32(s, 3), a32(s, 4))
	hb, ok3 := read(m, a32(s, 5), a32(s, 6))
	if !ok1 || !ok2 || !ok3 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	st := v.stream()
	if st != nil && st.reply == nil && !st.inReplyPath {
		pairs, _ := abi.DecodePairs(hb)
		g := int(int32(a32(s, 7)))
		if g < 0 || g > 16 {
			g = -1
		}
		st.reply = &localReply{status: int(a32(s, 0)), details: strings.ReplaceAll(details, " ", "_"),
			body: body, headers: lowerPairs(pairs), grpcStatus: g}
	}
	set(s, abi.OK)
}

// ---- http call ----

// hcHTTPCall: (upstream_ptr, upstream_size, headers_ptr, headers_size,
// body_ptr, body_size, trailers_ptr, trailers_size, timeout_ms, out_token).
func hcHTTPCall(_ context.Context, v *VM, m api.Module, s []uint64) {
	tokenPtr := a32(s, 9)
	if !m.Memory().WriteUint32Le(tokenPtr, 0) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	upstream, ok1 := readString(m, a32(s, 0), a32(s, 1))
	hb, ok2 := read(m, a32(s, 2), a32(s, 3))
	body, ok3 := read(m, a32(s, 4), a32(s, 5))
	tb, ok4 := read(m, a32(s, 6), a32(s, 7))
	if !ok1 || !ok2 || !ok3 || !ok4 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	timeout := a32(s, 8)
	if timeout > math.MaxInt32 {
		set(s, abi.BadArgument)
		return
	}
	cl, known := v.host.cfg.clusters[upstream]
	if !known {
		set(s, abi.BadArgument)
		return
	}
	headers, _ := abi.DecodePairs(hb)
	headers = lowerPairs(headers)
	trailers, _ := abi.DecodePairs(tb)
	var hasPath, hasMethod, hasAuthority bool
	for _, kv := range headers {
		switch kv[0] {
		case ":path":
			hasPath = true
		case ":method":
			hasMethod = true
		case ":authority":
			hasAuthority = true
		}
	}
	if !hasPath || !hasMethod || !hasAuthority {
		set(s, abi.BadArgument)
		return
	}
	if len(body) > 0 {
		headers = replaceHeader(headers, "content-length", itoa(len(body)))
	}
	c := v.effective()
	if c == nil {
		set(s, abi.BadArgument)
		return
	}
	v.nextToken += 4
	call := &Callout{Cluster: upstream, Headers: headers, Body: body, Trailers: lowerPairs(trailers),
		Timeout: msDuration(timeout), Token: v.nextToken}
	if c.stream != nil {
		c.stream.callouts = append(c.stream.callouts, call)
	}
	v.schedule(call, cl, c.rootCtx().id)
	if !m.Memory().WriteUint32Le(tokenPtr, call.Token) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

// ---- gRPC: not simulated; explicit answers ----

func hcGRPCCall(_ context.Context, v *VM, m api.Module, s []uint64) {
	grpcStart(v, m, s, [][2]uint32{{a32(s, 0), a32(s, 1)}, {a32(s, 2), a32(s, 3)}, {a32(s, 4), a32(s, 5)},
		{a32(s, 6), a32(s, 7)}, {a32(s, 8), a32(s, 9)}})
}

func hcGRPCStream(_ context.Context, v *VM, m api.Module, s []uint64) {
	grpcStart(v, m, s, [][2]uint32{{a32(s, 0), a32(s, 1)}, {a32(s, 2), a32(s, 3)}, {a32(s, 4), a32(s, 5)},
		{a32(s, 6), a32(s, 7)}})
}

// grpcStart answers ParseFailure (4) for an unknown cluster as Envoy does,
// and Unimplemented (12) for a known one: hostsim does not run gRPC.
func grpcStart(v *VM, m api.Module, s []uint64, ranges [][2]uint32) {
	var upstream string
	for i, r := range ranges {
		b, ok := read(m, r[0], r[1])
		if !ok {
			set(s, abi.InvalidMemoryAccess)
			return
		}
		if i == 0 {
			upstream = string(b)
		}
	}
	if _, ok := v.host.cfg.clusters[upstream]; !ok {
		set(s, abi.ParseFailure)
		return
	}
	set(s, abi.Unimplemented)
}

func hcGRPCSend(_ context.Context, _ *VM, m api.Module, s []uint64) {
	if _, ok := read(m, a32(s, 1), a32(s, 2)); !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	if a32(s, 0)&3 != 2 {
		set(s, abi.BadArgument)
		return
	}
	set(s, abi.NotFound) // no gRPC stream is ever open
}

func hcGRPCCancelClose(_ context.Context, _ *VM, _ api.Module, s []uint64) {
	if k := a32(s, 0) & 3; k != 1 && k != 2 {
		set(s, abi.BadArgument)
		return
	}
	set(s, abi.NotFound)
}

// ---- shared data ----

func (v *VM) vmID() string { return v.plugin.cfg.VMID }

// hcGetSharedData: (key_ptr, key_size, out_value_ptr, out_value_size, out_cas).
func hcGetSharedData(ctx context.Context, v *VM, m api.Module, s []uint64) {
	key, ok := readString(m, a32(s, 0), a32(s, 1))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	val, cas, found := v.host.SharedData(v.vmID(), key)
	if !found {
		set(s, abi.NotFound)
		return
	}
	if st := v.writeOut(ctx, m, a32(s, 2), a32(s, 3), val); st != abi.OK {
		set(s, st)
		return
	}
	if !m.Memory().WriteUint32Le(a32(s, 4), cas) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

// hcSetSharedData: (key_ptr, key_size, value_ptr, value_size, cas). A set
// on an absent key ignores cas; CasMismatch (8) only when the key exists.
func hcSetSharedData(_ context.Context, v *VM, m api.Module, s []uint64) {
	key, ok1 := readString(m, a32(s, 0), a32(s, 1))
	val, ok2 := read(m, a32(s, 2), a32(s, 3))
	if !ok1 || !ok2 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	cas := a32(s, 4)
	h := v.host
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, exists := h.shared[v.vmID()][key]; exists && cas != 0 && cas != e.cas {
		set(s, abi.CasMismatch)
		return
	}
	h.setSharedLocked(v.vmID(), key, val)
	set(s, abi.OK)
}

// ---- queues ----

func hcRegisterQueue(_ context.Context, v *VM, m api.Module, s []uint64) {
	name, ok := readString(m, a32(s, 0), a32(s, 1))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	c := v.effective()
	if c == nil {
		set(s, abi.BadArgument)
		return
	}
	h := v.host
	h.mu.Lock()
	k := queueKey{v.vmID(), name}
	q := h.queues[k]
	if q == nil {
		h.nextQueue++
		if h.nextQueue == 0 {
			h.nextQueue = 1
		}
		q = &queue{id: h.nextQueue, key: k}
		h.queues[k] = q
		h.queueByID[q.id] = q
	}
	q.owner, q.root = v, c.rootCtx().id // the last registrant owns notifications
	id := q.id
	h.mu.Unlock()
	if !m.Memory().WriteUint32Le(a32(s, 2), id) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

func hcResolveQueue(_ context.Context, v *VM, m api.Module, s []uint64) {
	vmID, ok1 := readString(m, a32(s, 0), a32(s, 1))
	name, ok2 := readString(m, a32(s, 2), a32(s, 3))
	if !ok1 || !ok2 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	if vmID == "" {
		vmID = v.vmID()
	}
	h := v.host
	h.mu.Lock()
	q := h.queues[queueKey{vmID, name}]
	h.mu.Unlock()
	if q == nil {
		set(s, abi.NotFound)
		return
	}
	if !m.Memory().WriteUint32Le(a32(s, 4), q.id) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

func hcEnqueue(_ context.Context, v *VM, m api.Module, s []uint64) {
	data, ok := read(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	h := v.host
	h.mu.Lock()
	q := h.queueByID[a32(s, 0)]
	if q == nil {
		h.mu.Unlock()
		set(s, abi.NotFound)
		return
	}
	q.items = append(q.items, data)
	owner, root, id := q.owner, q.root, q.id
	h.mu.Unlock()
	// Always posted to the owner's event loop, never delivered inline.
	if owner != nil {
		owner.postQueueNote(queueNote{root: root, queueID: id})
	}
	set(s, abi.OK)
}

func hcDequeue(ctx context.Context, v *VM, m api.Module, s []uint64) {
	h := v.host
	h.mu.Lock()
	q := h.queueByID[a32(s, 0)]
	if q == nil {
		h.mu.Unlock()
		set(s, abi.NotFound)
		return
	}
	if len(q.items) == 0 {
		h.mu.Unlock()
		set(s, abi.Empty)
		return
	}
	item := q.items[0]
	q.items = q.items[1:]
	h.mu.Unlock()
	set(s, v.writeOut(ctx, m, a32(s, 1), a32(s, 2), item))
}

// ---- metrics ----

func hcDefineMetric(_ context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxMetricType {
		set(s, abi.BadArgument)
		return
	}
	name, ok := readString(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	h := v.host
	h.mu.Lock()
	k := metricKey(MetricType(t), name)
	mt := h.metrics[k]
	if mt == nil {
		mt = &metric{name: name, typ: MetricType(t)}
		h.metrics[k] = mt
	}
	h.mu.Unlock()
	// A new id per define, even for an existing name: type in the low bits.
	v.metricSeq[t]++
	id := v.metricSeq[t]<<2 | t
	v.metricIDs[id] = mt
	if !m.Memory().WriteUint32Le(a32(s, 3), id) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

func hcIncrementMetric(_ context.Context, v *VM, _ api.Module, s []uint64) {
	mt := v.metricIDs[a32(s, 0)]
	if mt == nil {
		set(s, abi.NotFound)
		return
	}
	delta := int64(s[1])
	h := v.host
	h.mu.Lock()
	defer h.mu.Unlock()
	switch mt.typ {
	case MetricCounter:
		if delta <= 0 {
			set(s, abi.BadArgument)
			return
		}
		mt.value += uint64(delta)
	case MetricGauge:
		mt.value += uint64(delta)
	default:
		set(s, abi.BadArgument)
		return
	}
	set(s, abi.OK)
}

func hcRecordMetric(_ context.Context, v *VM, _ api.Module, s []uint64) {
	mt := v.metricIDs[a32(s, 0)]
	if mt == nil {
		set(s, abi.NotFound)
		return
	}
	val := s[1]
	h := v.host
	h.mu.Lock()
	defer h.mu.Unlock()
	switch mt.typ {
	case MetricCounter:
		mt.value += val // record on a counter adds
	case MetricGauge:
		mt.value = val
	default:
		mt.samples = append(mt.samples, val)
	}
	set(s, abi.OK)
}

func hcGetMetric(_ context.Context, v *VM, m api.Module, s []uint64) {
	mt := v.metricIDs[a32(s, 0)]
	if mt == nil {
		set(s, abi.NotFound)
		return
	}
	if mt.typ == MetricHistogram {
		set(s, abi.BadArgument)
		return
	}
	v.host.mu.Lock()
	val := mt.value
	v.host.mu.Unlock()
	if !m.Memory().WriteUint64Le(a32(s, 1), val) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

// ---- foreign functions ----

func hcCallForeign(ctx context.Context, v *VM, m api.Module, s []uint64) {
	name, ok1 := readString(m, a32(s, 0), a32(s, 1))
	args, ok2 := read(m, a32(s, 2), a32(s, 3))
	if !ok1 || !ok2 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	out, st := v.foreign(name, args)
	if st != abi.OK {
		set(s, st)
		return
	}
	if a32(s, 4) == 0 {
		set(s, abi.OK)
		return
	}
	set(s, v.writeOut(ctx, m, a32(s, 4), a32(s, 5), out))
}

func replaceHeader(h [][2]string, k, val string) [][2]string {
	out := h[:0:0]
	for _, kv := range h {
		if kv[0] != k {
			out = append(out, kv)
		}
	}
	return append(out, [2]string{k, val})
}
