package abi

import (
	"errors"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Status is a proxy_status_t (WasmResult) returned by every host call.
type Status uint32

// Status codes as Envoy returns them (host doc §4).
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusBadExpression        Status = 5
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCasMismatch          Status = 8
	StatusResultMismatch       Status = 9
	StatusInternalFailure      Status = 10
	StatusBrokenConnection     Status = 11
	StatusUnimplemented        Status = 12
)

// Errors for the codes the SDK's types package has no sentinel for. The codes the SDK names map
// to the SDK's own sentinels, so errors.Is(err, types.ErrorStatusNotFound) works in every build.
var (
	ErrSerializationFailure = errors.New("error status returned by host: serialization failure")
	ErrParseFailure         = errors.New("error status returned by host: parse failure")
	ErrBadExpression        = errors.New("error status returned by host: bad expression")
	ErrInvalidMemoryAccess  = errors.New("error status returned by host: invalid memory access")
	ErrResultMismatch       = errors.New("error status returned by host: result mismatch")
	ErrBrokenConnection     = errors.New("error status returned by host: broken connection")
	ErrUnknownStatus        = errors.New("error status returned by host: unknown status code")

	// ErrHostBuffer: the host reported a result buffer the guest allocator never handed out.
	ErrHostBuffer = errors.New("abi: host returned a buffer the guest did not allocate")
	// ErrMalformedPairs: a pairs (header map) buffer from the host did not decode exactly.
	ErrMalformedPairs = errors.New("abi: malformed pairs buffer from host")
	// ErrEmptyPath: GetProperty/SetProperty need at least one path segment.
	ErrEmptyPath = errors.New("abi: property path must not be empty")
)

// StatusToError is the one table from host status to Go error; StatusOK is nil.
func StatusToError(s Status) error {
	switch s {
	case StatusOK:
		return nil
	case StatusNotFound:
		return types.ErrorStatusNotFound
	case StatusBadArgument:
		return types.ErrorStatusBadArgument
	case StatusSerializationFailure:
		return ErrSerializationFailure
	case StatusParseFailure:
		return ErrParseFailure
	case StatusBadExpression:
		return ErrBadExpression
	case StatusInvalidMemoryAccess:
		return ErrInvalidMemoryAccess
	case StatusEmpty:
		return types.ErrorStatusEmpty
	case StatusCasMismatch:
		return types.ErrorStatusCasMismatch
	case StatusResultMismatch:
		return ErrResultMismatch
	case StatusInternalFailure:
		return types.ErrorInternalFailure
	case StatusBrokenConnection:
		return ErrBrokenConnection
	case StatusUnimplemented:
		return types.ErrorUnimplemented
	}
	return ErrUnknownStatus
}

// Enumerations of the ABI (host doc §4).
type (
	LogLevel   uint32
	BufferType uint32
	MapType    uint32
	StreamType uint32
	MetricType uint32
)

const (
	LogLevelTrace    LogLevel = 0
	LogLevelDebug    LogLevel = 1
	LogLevelInfo     LogLevel = 2
	LogLevelWarn     LogLevel = 3
	LogLevelError    LogLevel = 4
	LogLevelCritical LogLevel = 5
)

const (
	BufferTypeHttpRequestBody          BufferType = 0
	BufferTypeHttpResponseBody         BufferType = 1
	BufferTypeDownstreamData           BufferType = 2
	BufferTypeUpstreamData             BufferType = 3
	BufferTypeHttpCallResponseBody     BufferType = 4
	BufferTypeGrpcCallMessage          BufferType = 5
	BufferTypeVMConfiguration          BufferType = 6
	BufferTypePluginConfiguration      BufferType = 7
	BufferTypeForeignFunctionArguments BufferType = 8
)

const (
	MapTypeHttpRequestHeaders       MapType = 0
	MapTypeHttpRequestTrailers      MapType = 1
	MapTypeHttpResponseHeaders      MapType = 2
	MapTypeHttpResponseTrailers     MapType = 3
	MapTypeGrpcCallInitialMetadata  MapType = 4
	MapTypeGrpcCallTrailingMetadata MapType = 5
	MapTypeHttpCallResponseHeaders  MapType = 6
	MapTypeHttpCallResponseTrailers MapType = 7
)

const (
	StreamTypeRequest    StreamType = 0
	StreamTypeResponse   StreamType = 1
	StreamTypeDownstream StreamType = 2
	StreamTypeUpstream   StreamType = 3
)

const (
	MetricTypeCounter   MetricType = 0
	MetricTypeGauge     MetricType = 1
	MetricTypeHistogram MetricType = 2
)
