package hostsim

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/hostsim/internal/abi"
)

// headerMap finds map type t in the effective context. avail is false when
// Envoy has no pointer for it now; writable is false in the log phase.
func (v *VM) headerMap(t uint32) (hm *[][2]string, avail, writable, logPhase bool) {
	if t == abi.MapHTTPCallResponseHeaders || t == abi.MapHTTPCallResponseTrailers {
		if v.callResp == nil {
			return nil, false, false, false
		}
		if t == abi.MapHTTPCallResponseHeaders {
			return &v.callResp.headers, true, true, false
		}
		return &v.callResp.trailers, true, true, false
	}
	st := v.stream()
	if st == nil {
		return nil, false, false, false
	}
	if st.inLog {
		switch t {
		case abi.MapHTTPRequestHeaders:
			return &st.reqHeaders, true, false, true
		case abi.MapHTTPResponseHeaders:
			return &st.respHeaders, true, false, true
		case abi.MapHTTPResponseTrailers:
			return &st.respTrailers, true, false, true
		}
		return nil, false, false, true
	}
	switch t {
	case abi.MapHTTPRequestHeaders:
		return &st.reqHeaders, st.reqHeadersAvail, true, false
	case abi.MapHTTPRequestTrailers:
		return &st.reqTrailers, st.reqTrailersAvail, true, false
	case abi.MapHTTPResponseHeaders:
		return &st.respHeaders, st.respHeadersAvail, true, false
	case abi.MapHTTPResponseTrailers:
		return &st.respTrailers, st.respTrailersAvail, true, false
	}
	return nil, false, false, false // gRPC metadata: no gRPC callbacks
}

// hcGetMapValue: (map_type, key_ptr, key_size, out_value_ptr,
// out_value_size). First value of the lower-cased key; missing → 1;
// unavailable map → 2 (1 in the log phase; OK+empty for ABI 0.1.0).
func hcGetMapValue(ctx context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxMapType {
		set(s, abi.BadArgument)
		return
	}
	key, ok := readString(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	old := v.host.abiVersion == "0_1_0"
	hm, avail, _, logPhase := v.headerMap(t)
	if !avail {
		switch {
		case old:
			set(s, v.writeOut(ctx, m, a32(s, 3), a32(s, 4), nil))
		case logPhase:
			set(s, abi.NotFound)
		default:
			set(s, abi.BadArgument)
		}
		return
	}
	key = lower(key)
	for _, kv := range *hm {
		if kv[0] == key {
			set(s, v.writeOut(ctx, m, a32(s, 3), a32(s, 4), []byte(kv[1])))
			return
		}
	}
	if old {
		set(s, v.writeOut(ctx, m, a32(s, 3), a32(s, 4), nil))
		return
	}
	set(s, abi.NotFound)
}

// writableMap is the common prologue of the mutating map calls.
func (v *VM) writableMap(s []uint64) (*[][2]string, abi.Status) {
	t := a32(s, 0)
	if t > abi.MaxMapType {
		return nil, abi.BadArgument
	}
	hm, avail, writable, _ := v.headerMap(t)
	if !avail || !writable {
		return nil, abi.BadArgument
	}
	return hm, abi.OK
}

// keyValueArgs decodes (map_type, key_ptr, key_size, value_ptr, value_size)
// for add and replace, checking in Envoy's order: the map type (2), guest
// memory (6), then whether the map is writable now. On failure it has set
// the status and returns ok false.
func (v *VM) keyValueArgs(m api.Module, s []uint64) (hm *[][2]string, key, val string, ok bool) {
	if a32(s, 0) > abi.MaxMapType {
		set(s, abi.BadArgument)
		return nil, "", "", false
	}
	key, ok1 := readString(m, a32(s, 1), a32(s, 2))
	val, ok2 := readString(m, a32(s, 3), a32(s, 4))
	if !ok1 || !ok2 {
		set(s, abi.InvalidMemoryAccess)
		return nil, "", "", false
	}
	hm, st := v.writableMap(s)
	if st != abi.OK {
		set(s, st)
		return nil, "", "", false
	}
	return hm, key, val, true
}

// hcAddMapValue: (map_type, key_ptr, key_size, value_ptr, value_size).
func hcAddMapValue(_ context.Context, v *VM, m api.Module, s []uint64) {
	hm, key, val, ok := v.keyValueArgs(m, s)
	if !ok {
		return
	}
	*hm = append(*hm, [2]string{lower(key), val})
	set(s, abi.OK)
}

// hcReplaceMapValue sets one value: the first entry is replaced in place,
// the others removed; absent keys are added.
func hcReplaceMapValue(_ context.Context, v *VM, m api.Module, s []uint64) {
	hm, key, val, ok := v.keyValueArgs(m, s)
	if !ok {
		return
	}
	*hm = replaceKey(*hm, lower(key), val)
	set(s, abi.OK)
}

// replaceKey gives key exactly one entry, at its first position (appended
// when absent). The map is edited in place: every stream owns its maps
// (requestHeaderList and friends build them per stream, and results copy
// them out), so no caller sees a half-edited slice, and a guest that sets
// identity headers on every request costs no host allocation per call.
func replaceKey(h [][2]string, key, val string) [][2]string {
	first := -1
	out := h[:0]
	for _, kv := range h {
		if kv[0] == key {
			if first >= 0 {
				continue
			}
			first = len(out)
			kv[1] = val
		}
		out = append(out, kv)
	}
	clear(h[len(out):]) // drop references to removed strings
	if first < 0 {
		out = append(out, [2]string{key, val})
	}
	return out
}

// hcRemoveMapValue removes every entry of the key; OK even if absent.
func hcRemoveMapValue(_ context.Context, v *VM, m api.Module, s []uint64) {
	if a32(s, 0) > abi.MaxMapType {
		set(s, abi.BadArgument)
		return
	}
	key, ok := readString(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	hm, st := v.writableMap(s)
	if st != abi.OK {
		set(s, st)
		return
	}
	*hm = removeKey(*hm, lower(key))
	set(s, abi.OK)
}

// removeKey drops every entry of key, in place (see replaceKey).
func removeKey(h [][2]string, key string) [][2]string {
	out := h[:0]
	for _, kv := range h {
		if kv[0] != key {
			out = append(out, kv)
		}
	}
	clear(h[len(out):])
	return out
}

// hcGetMapPairs: (map_type, out_ptr, out_size). An unavailable map is OK
// with an empty list, unlike every other map call.
func hcGetMapPairs(ctx context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxMapType {
		set(s, abi.BadArgument)
		return
	}
	hm, avail, _, _ := v.headerMap(t)
	var data []byte
	if avail {
		data = abi.EncodePairs(*hm)
	}
	set(s, v.writeOut(ctx, m, a32(s, 1), a32(s, 2), data))
}

// hcSetMapPairs: (map_type, pairs_ptr, pairs_size). Malformed pairs count
// as an empty list, so the map is cleared and the call still returns OK.
func hcSetMapPairs(_ context.Context, v *VM, m api.Module, s []uint64) {
	if a32(s, 0) > abi.MaxMapType {
		set(s, abi.BadArgument)
		return
	}
	b, ok := read(m, a32(s, 1), a32(s, 2))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	hm, st := v.writableMap(s)
	if st != abi.OK {
		set(s, st)
		return
	}
	pairs, _ := abi.DecodePairs(b)
	*hm = lowerPairs(pairs)
	if *hm == nil {
		*hm = [][2]string{}
	}
	set(s, abi.OK)
}

// hcGetMapSize: (map_type, out_size) — Envoy's byte size of the map (sum
// of key and value lengths), not the entry count.
func hcGetMapSize(_ context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxMapType {
		set(s, abi.BadArgument)
		return
	}
	hm, avail, _, _ := v.headerMap(t)
	if !avail {
		set(s, abi.BadArgument)
		return
	}
	n := 0
	for _, kv := range *hm {
		n += len(kv[0]) + len(kv[1])
	}
	if !m.Memory().WriteUint32Le(a32(s, 1), uint32(n)) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

// ---- buffers ----

// buffer finds buffer type t: found is false where Envoy answers NotFound;
// writable only for the body buffers while their callback runs.
func (v *VM) buffer(t uint32) (b *[]byte, found, writable bool) {
	var empty []byte
	switch t {
	case abi.BufferHTTPRequestBody, abi.BufferHTTPResponseBody:
		st := v.stream()
		if st == nil {
			return nil, false, false
		}
		if t == abi.BufferHTTPRequestBody {
			if st.reqBodyAvail {
				return &st.reqBody, true, true
			}
		} else if st.respBodyAvail {
			return &st.respBody, true, true
		}
		return &empty, true, false
	case abi.BufferHTTPCallResponseBody:
		if v.callResp == nil {
			return nil, false, false
		}
		return &v.callResp.body, true, false
	case abi.BufferGRPCCallMessage, abi.BufferForeignFunctionArguments:
		return &empty, true, false
	case abi.BufferVMConfiguration:
		c := v.plugin.cfg.VMConfiguration
		return &c, true, false
	case abi.BufferPluginConfiguration:
		if !v.inConfigure {
			return nil, false, false
		}
		c := v.curPlugin().cfg.Configuration
		return &c, true, false
	}
	return nil, false, false // network buffers: no network filter here
}

// hcGetBufferBytes: (type, start, max, out_ptr, out_size). start past the
// end or max 0 → OK (0, 0); the range is clamped to the end.
func hcGetBufferBytes(ctx context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxBufferType {
		set(s, abi.BadArgument)
		return
	}
	b, found, _ := v.buffer(t)
	if !found {
		set(s, abi.NotFound)
		return
	}
	start, max := uint64(a32(s, 1)), uint64(a32(s, 2))
	var out []byte
	if start < uint64(len(*b)) && max > 0 {
		end := start + max
		if end > uint64(len(*b)) {
			end = uint64(len(*b))
		}
		out = (*b)[start:end]
	}
	set(s, v.writeOut(ctx, m, a32(s, 3), a32(s, 4), out))
}

// hcGetBufferStatus: (type, out_length, out_flags); flags are always 0.
func hcGetBufferStatus(_ context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxBufferType {
		set(s, abi.BadArgument)
		return
	}
	b, found, _ := v.buffer(t)
	if !found {
		set(s, abi.NotFound)
		return
	}
	if !m.Memory().WriteUint32Le(a32(s, 1), uint32(len(*b))) || !m.Memory().WriteUint32Le(a32(s, 2), 0) {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	set(s, abi.OK)
}

// hcSetBufferBytes: (type, start, length, data_ptr, data_size).
//
//	start 0, length L  → drop the first L bytes, then prepend data
//	start ≥ size       → append
//	0 < start < size   → BadArgument (no splice in the middle)
//
// Only body buffers are writable; other types → BadArgument. A body buffer
// outside its callback answers NotFound (nothing would carry the write).
func hcSetBufferBytes(_ context.Context, v *VM, m api.Module, s []uint64) {
	t := a32(s, 0)
	if t > abi.MaxBufferType {
		set(s, abi.BadArgument)
		return
	}
	data, ok := read(m, a32(s, 3), a32(s, 4))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	if t != abi.BufferHTTPRequestBody && t != abi.BufferHTTPResponseBody {
		if t == abi.BufferDownstreamData || t == abi.BufferUpstreamData {
			set(s, abi.NotFound)
			return
		}
		set(s, abi.BadArgument)
		return
	}
	b, found, writable := v.buffer(t)
	if !found || !writable {
		set(s, abi.NotFound)
		return
	}
	start, length := a32(s, 1), a32(s, 2)
	size := uint32(len(*b))
	switch {
	case start == 0:
		if length > size {
			length = size
		}
		*b = append(append([]byte(nil), data...), (*b)[length:]...)
	case start >= size:
		*b = append(*b, data...)
	default:
		set(s, abi.BadArgument)
		return
	}
	set(s, abi.OK)
}
