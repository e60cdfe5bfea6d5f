// Package abi holds the host side of the proxy-wasm ABI v0.2.1 vocabulary:
// status codes, enum ranges and the header-pairs codec, exactly as Envoy
// (through proxy-wasm-cpp-host) uses them.
//
// # Why a separate package
//
// The guest-side binding lives in plugin/internal/abi and is written
// independently; hostsim must not share code with it, so that when the two
// agree it is evidence rather than an echo. This package depends on the
// standard library only and has no knowledge of wazero.
package abi

import "strconv"

// Status is proxy_status_t (Envoy's WasmResult).
type Status uint32

// Status codes. The spec lists only a subset; Envoy uses all of them.
const (
	OK                   Status = 0
	NotFound             Status = 1
	BadArgument          Status = 2
	SerializationFailure Status = 3
	ParseFailure         Status = 4
	BadExpression        Status = 5
	InvalidMemoryAccess  Status = 6
	Empty                Status = 7
	CasMismatch          Status = 8
	ResultMismatch       Status = 9
	InternalFailure      Status = 10
	BrokenConnection     Status = 11
	Unimplemented        Status = 12
)

var statusNames = [...]string{
	"OK", "NotFound", "BadArgument", "SerializationFailure", "ParseFailure",
	"BadExpression", "InvalidMemoryAccess", "Empty", "CasMismatch",
	"ResultMismatch", "InternalFailure", "BrokenConnection", "Unimplemented",
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// Enum maxima: an argument above these is BadArgument before anything else.
const (
	MaxLogLevel   = 5 // trace 0 … critical 5
	MaxBufferType = 8 // FOREIGN_FUNCTION_ARGUMENTS
	MaxMapType    = 7 // HTTP_CALL_RESPONSE_TRAILERS
	MaxStreamType = 3 // UPSTREAM
	MaxMetricType = 2 // HISTOGRAM
)

// Buffer types (proxy_buffer_type_t).
const (
	BufferHTTPRequestBody          = 0
	BufferHTTPResponseBody         = 1
	BufferDownstreamData           = 2
	BufferUpstreamData             = 3
	BufferHTTPCallResponseBody     = 4
	BufferGRPCCallMessage          = 5
	BufferVMConfiguration          = 6
	BufferPluginConfiguration      = 7
	BufferForeignFunctionArguments = 8
)

// Map types (proxy_map_type_t).
const (
	MapHTTPRequestHeaders       = 0
	MapHTTPRequestTrailers      = 1
	MapHTTPResponseHeaders      = 2
	MapHTTPResponseTrailers     = 3
	MapGRPCInitialMetadata      = 4
	MapGRPCTrailingMetadata     = 5
	MapHTTPCallResponseHeaders  = 6
	MapHTTPCallResponseTrailers = 7
)

// Stream types (proxy_stream_type_t).
const (
	StreamHTTPRequest  = 0
	StreamHTTPResponse = 1
	StreamDownstream   = 2
	StreamUpstream     = 3
)

// Metric types.
const (
	MetricCounter   = 0
	MetricGauge     = 1
	MetricHistogram = 2
)

// Limits on guest-supplied pairs: above them the whole buffer is treated as
// an empty list (cpp-host pairs_util).
const (
	MaxPairsBytes = 1 << 20
	MaxPairs      = 1024
)
