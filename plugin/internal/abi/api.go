//go:build wasip1 && !tinygo

package abi

import (
	"math"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Go-level wrappers over the host calls; plugin/internal/proxywasm maps the SDK's names onto
// them. Conventions, kept identical to SDK v0.24 so filter code behaves the same natively and
// here: an empty map or buffer from the host is types.ErrorStatusNotFound; returned byte slices
// and strings are owned by the caller (see "Memory" in the package doc).

// ret receives the host's out-parameters. The address of a local handed
// to a //go:wasmimport function moves the local to the heap: an
// allocation per host call, several per request. A VM runs one callback
// at a time and host calls do not nest (the host's
// proxy_on_memory_allocate, the only guest code it runs inside a call,
// touches none of these), so one set of slots serves every call; each
// wrapper reads them right after its call.
var ret struct {
	ptr, size, cas, u32 uint32
	u64                 uint64
}

// strPtr is the address of s's bytes for the host (nil for ""; the host reads 0 bytes).
func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

// bytesPtr is the address of b's bytes for the host (nil for an empty slice).
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Log sends msg to the host log at level. Errors are dropped: logging must never fail a request.
func Log(level LogLevel, msg string) {
	proxy_log(uint32(level), strPtr(msg), uint32(len(msg)))
}

// GetLogLevel returns the host's current log level (ABI 0.2.1 only; it can change at any time).
func GetLogLevel() (LogLevel, error) {
	if st := proxy_get_log_level(&ret.u32); st != StatusOK {
		return 0, StatusToError(st)
	}
	return LogLevel(ret.u32), nil
}

// GetCurrentTimeNanoseconds is the host's wall clock in ns since the epoch.
func GetCurrentTimeNanoseconds() (int64, error) {
	if st := proxy_get_current_time_nanoseconds(&ret.u64); st != StatusOK {
		return 0, StatusToError(st)
	}
	return int64(ret.u64), nil
}

// SetTickPeriodMilliseconds sets the tick period of the root of the effective context.
func SetTickPeriodMilliseconds(ms uint32) error {
	return StatusToError(proxy_set_tick_period_milliseconds(ms))
}

// SetEffectiveContext redirects the following host calls of this callback to contextID.
func SetEffectiveContext(contextID uint32) error {
	if st := proxy_set_effective_context(contextID); st != StatusOK {
		return StatusToError(st)
	}
	vm.effective = contextID
	return nil
}

// Done tells the host a root context that returned false from OnPluginDone has finished.
func Done() error { return StatusToError(proxy_done()) }

// GetBuffer copies up to maxSize bytes of a host buffer starting at start.
func GetBuffer(t BufferType, start, maxSize int) ([]byte, error) {
	if start < 0 || maxSize < 0 {
		return nil, types.ErrorStatusBadArgument
	}
	if start > math.MaxUint32 {
		start = math.MaxUint32
	}
	if maxSize > math.MaxUint32 {
		maxSize = math.MaxUint32
	}
	if st := proxy_get_buffer_bytes(uint32(t), uint32(start), uint32(maxSize), &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return nil, StatusToError(st)
	}
	b, err := claim(ret.ptr, ret.size)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, types.ErrorStatusNotFound
	}
	return b, nil
}

// Buffer writes, with Envoy's meaning of (start, size): start 0 / size 0 prepends, start 0 /
// size ≥ length replaces, start ≥ length appends.

// AppendBuffer appends data to a writable buffer.
func AppendBuffer(t BufferType, data []byte) error {
	return StatusToError(proxy_set_buffer_bytes(uint32(t), math.MaxInt32, 0, bytesPtr(data), uint32(len(data))))
}

// PrependBuffer inserts data at the front of a writable buffer.
func PrependBuffer(t BufferType, data []byte) error {
	return StatusToError(proxy_set_buffer_bytes(uint32(t), 0, 0, bytesPtr(data), uint32(len(data))))
}

// ReplaceBuffer replaces the whole content of a writable buffer.
func ReplaceBuffer(t BufferType, data []byte) error {
	return StatusToError(proxy_set_buffer_bytes(uint32(t), 0, math.MaxInt32, bytesPtr(data), uint32(len(data))))
}

// GetMap returns every entry of a header map in host order (duplicates kept).
//
// # Notes
//
// Keys and values point into one host-filled buffer owned by the result (zero-copy).
func GetMap(t MapType) ([][2]string, error) { return GetMapInto(t, nil) }

// GetMapInto is GetMap into dst's storage when it is large enough (see
// DeserializePairsInto).
func GetMapInto(t MapType, dst [][2]string) ([][2]string, error) {
	if st := proxy_get_header_map_pairs(uint32(t), &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return nil, StatusToError(st)
	}
	b, err := claim(ret.ptr, ret.size)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, types.ErrorStatusNotFound
	}
	return DeserializePairsInto(dst, b)
}

// SetMap replaces every entry of a header map.
func SetMap(t MapType, pairs [][2]string) error {
	b := SerializePairs(pairs)
	return StatusToError(proxy_set_header_map_pairs(uint32(t), unsafe.Pointer(&b[0]), uint32(len(b))))
}

// GetMapValue returns the first value of key (keys are case-insensitive in Envoy).
func GetMapValue(t MapType, key string) (string, error) {
	if st := proxy_get_header_map_value(uint32(t), strPtr(key), uint32(len(key)), &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return "", StatusToError(st)
	}
	b, err := claim(ret.ptr, ret.size)
	if err != nil {
		return "", err
	}
	return bytesToString(b), nil
}

// AddMapValue appends an entry.
func AddMapValue(t MapType, key, value string) error {
	return StatusToError(proxy_add_header_map_value(uint32(t), strPtr(key), uint32(len(key)), strPtr(value), uint32(len(value))))
}

// ReplaceMapValue sets key to exactly one value.
func ReplaceMapValue(t MapType, key, value string) error {
	return StatusToError(proxy_replace_header_map_value(uint32(t), strPtr(key), uint32(len(key)), strPtr(value), uint32(len(value))))
}

// RemoveMapValue removes every entry of key (OK if absent).
func RemoveMapValue(t MapType, key string) error {
	return StatusToError(proxy_remove_header_map_value(uint32(t), strPtr(key), uint32(len(key))))
}

// ContinueStream resumes a paused stream direction.
func ContinueStream(t StreamType) error { return StatusToError(proxy_continue_stream(uint32(t))) }

// CloseStream resets the stream or closes the connection.
func CloseStream(t StreamType) error { return StatusToError(proxy_close_stream(uint32(t))) }

// SendLocalResponse answers the stream of the effective context from the plugin. grpcStatus -1
// means "not gRPC".
func SendLocalResponse(status uint32, details string, body []byte, headers [][2]string, grpcStatus int32) error {
	h := SerializePairs(headers)
	return StatusToError(proxy_send_local_response(status, strPtr(details), uint32(len(details)),
		bytesPtr(body), uint32(len(body)), unsafe.Pointer(&h[0]), uint32(len(h)), grpcStatus))
}

// HttpCall dispatches an HTTP request to cluster; cb runs on the root context when the response
// (or a reset, as (0,0,0)) arrives. On error cb is never called.
func HttpCall(cluster string, headers [][2]string, body []byte, trailers [][2]string, timeoutMs uint32,
	cb func(numHeaders, bodySize, numTrailers int)) (uint32, error) {
	h := SerializePairs(headers)
	t := SerializePairs(trailers)
	st := proxy_http_call(strPtr(cluster), uint32(len(cluster)), unsafe.Pointer(&h[0]), uint32(len(h)),
		bytesPtr(body), uint32(len(body)), unsafe.Pointer(&t[0]), uint32(len(t)), timeoutMs, &ret.u32)
	if st != StatusOK {
		return 0, StatusToError(st)
	}
	token := ret.u32
	vm.registerCallout(token, cb)
	return token, nil
}

// GetSharedData reads key with its CAS token.
func GetSharedData(key string) ([]byte, uint32, error) {
	if st := proxy_get_shared_data(strPtr(key), uint32(len(key)), &ret.ptr, &ret.size, &ret.cas); st != StatusOK {
		unpin()
		return nil, 0, StatusToError(st)
	}
	cas := ret.cas
	b, err := claim(ret.ptr, ret.size)
	if err != nil {
		return nil, 0, err
	}
	return b, cas, nil
}

// SetSharedData writes key; cas 0 is unconditional.
func SetSharedData(key string, value []byte, cas uint32) error {
	return StatusToError(proxy_set_shared_data(strPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value)), cas))
}

// RegisterSharedQueue registers (or takes over) a queue for the current root context.
func RegisterSharedQueue(name string) (uint32, error) {
	st := proxy_register_shared_queue(strPtr(name), uint32(len(name)), &ret.u32)
	return ret.u32, StatusToError(st)
}

// ResolveSharedQueue finds a queue; an empty vmID means this VM's.
func ResolveSharedQueue(vmID, name string) (uint32, error) {
	st := proxy_resolve_shared_queue(strPtr(vmID), uint32(len(vmID)), strPtr(name), uint32(len(name)), &ret.u32)
	return ret.u32, StatusToError(st)
}

// EnqueueSharedQueue appends data to a queue.
func EnqueueSharedQueue(id uint32, data []byte) error {
	return StatusToError(proxy_enqueue_shared_queue(id, bytesPtr(data), uint32(len(data))))
}

// DequeueSharedQueue pops the oldest item (types.ErrorStatusEmpty when none).
func DequeueSharedQueue(id uint32) ([]byte, error) {
	if st := proxy_dequeue_shared_queue(id, &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return nil, StatusToError(st)
	}
	return claim(ret.ptr, ret.size)
}

// GetProperty reads a property by path segments.
func GetProperty(path []string) ([]byte, error) {
	if len(path) == 0 {
		return nil, ErrEmptyPath
	}
	raw := SerializePropertyPath(path)
	if st := proxy_get_property(unsafe.Pointer(&raw[0]), uint32(len(raw)), &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return nil, StatusToError(st)
	}
	return claim(ret.ptr, ret.size)
}

// SetProperty writes a property (filter state wasm.<path> in Envoy).
func SetProperty(path []string, value []byte) error {
	if len(path) == 0 {
		return ErrEmptyPath
	}
	raw := SerializePropertyPath(path)
	return StatusToError(proxy_set_property(unsafe.Pointer(&raw[0]), uint32(len(raw)), bytesPtr(value), uint32(len(value))))
}

// CallForeignFunction calls a host extension by name.
func CallForeignFunction(name string, args []byte) ([]byte, error) {
	if st := proxy_call_foreign_function(strPtr(name), uint32(len(name)), bytesPtr(args), uint32(len(args)), &ret.ptr, &ret.size); st != StatusOK {
		unpin()
		return nil, StatusToError(st)
	}
	return claim(ret.ptr, ret.size)
}

// DefineMetric defines a metric and returns its per-VM id.
func DefineMetric(t MetricType, name string) (uint32, error) {
	if st := proxy_define_metric(uint32(t), strPtr(name), uint32(len(name)), &ret.u32); st != StatusOK {
		return 0, StatusToError(st)
	}
	return ret.u32, nil
}

// IncrementMetric adds delta (counters need delta > 0).
func IncrementMetric(id uint32, delta int64) error {
	return StatusToError(proxy_increment_metric(id, delta))
}

// RecordMetric records a value (histogram sample, gauge set, counter add).
func RecordMetric(id uint32, value uint64) error {
	return StatusToError(proxy_record_metric(id, value))
}

// GetMetric reads a counter or gauge.
func GetMetric(id uint32) (uint64, error) {
	if st := proxy_get_metric(id, &ret.u64); st != StatusOK {
		return 0, StatusToError(st)
	}
	return ret.u64, nil
}

// GetBufferStatus returns a buffer's current length and flags (Envoy reports flags as 0).
func GetBufferStatus(t BufferType) (size, flags uint32, err error) {
	err = StatusToError(proxy_get_buffer_status(uint32(t), &ret.size, &ret.u32))
	return ret.size, ret.u32, err
}

// GetMapSize returns Envoy's byte size of a header map (sum of key and value lengths).
func GetMapSize(t MapType) (uint32, error) {
	err := StatusToError(proxy_get_header_map_size(uint32(t), &ret.u32))
	return ret.u32, err
}
