//go:build wasip1 && !tinygo

// This file forwards the SDK's names to our own ABI binding (plugin/internal/abi) for the
// standard-Go wasip1 build; see the package doc. Behaviour follows SDK v0.24 (empty map or
// buffer → types.ErrorStatusNotFound, Define*Metric panics on a refused definition), except that
// metric updates never panic.

package proxywasm

import (
	"fmt"
	"math"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tokengate/tokengate/plugin/internal/abi"
)

// SetVMContext registers the VM context. Call it from init(): a Go reactor runs init in _initialize.
func SetVMContext(ctx types.VMContext) { abi.SetVMContext(ctx) }

// GetVMConfiguration returns vm_config.configuration. Valid in OnVMStart.
func GetVMConfiguration() ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeVMConfiguration, 0, math.MaxInt32)
}

// GetPluginConfiguration returns the plugin configuration. Valid in OnPluginStart.
func GetPluginConfiguration() ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypePluginConfiguration, 0, math.MaxInt32)
}

// SetTickPeriodMilliSeconds sets the OnTick period. Valid in plugin contexts.
func SetTickPeriodMilliSeconds(millSec uint32) error { return abi.SetTickPeriodMilliseconds(millSec) }

// SetEffectiveContext makes contextID the target of following calls (e.g. resuming an HTTP
// context from a root callback).
func SetEffectiveContext(contextID uint32) error { return abi.SetEffectiveContext(contextID) }

// RegisterSharedQueue registers a queue owned by this plugin context.
func RegisterSharedQueue(name string) (uint32, error) { return abi.RegisterSharedQueue(name) }

// ResolveSharedQueue finds a queue by VM id and name.
func ResolveSharedQueue(vmID, queueName string) (uint32, error) {
	return abi.ResolveSharedQueue(vmID, queueName)
}

// EnqueueSharedQueue appends data to a queue.
func EnqueueSharedQueue(queueID uint32, data []byte) error {
	return abi.EnqueueSharedQueue(queueID, data)
}

// DequeueSharedQueue pops the oldest item of a queue.
func DequeueSharedQueue(queueID uint32) ([]byte, error) { return abi.DequeueSharedQueue(queueID) }

// PluginDone tells the host a plugin that returned false from OnPluginDone is finished.
func PluginDone() { _ = abi.Done() }

// DispatchHttpCall sends an HTTP request to an upstream cluster. The callback runs on the root
// (plugin) context that owns the call; use SetEffectiveContext there to act on an HTTP stream.
func DispatchHttpCall(cluster string, headers [][2]string, body []byte, trailers [][2]string,
	timeoutMillisecond uint32, callBack func(numHeaders, bodySize, numTrailers int)) (uint32, error) {
	return abi.HttpCall(cluster, headers, body, trailers, timeoutMillisecond, callBack)
}

// GetHttpCallResponseHeaders is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseHeaders() ([][2]string, error) {
	return abi.GetMap(abi.MapTypeHttpCallResponseHeaders)
}

// GetHttpCallResponseBody is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseBody(start, maxSize int) ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeHttpCallResponseBody, start, maxSize)
}

// GetHttpCallResponseTrailers is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseTrailers() ([][2]string, error) {
	return abi.GetMap(abi.MapTypeHttpCallResponseTrailers)
}

// GetDownstreamData is valid in OnDownstreamData (TCP).
func GetDownstreamData(start, maxSize int) ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeDownstreamData, start, maxSize)
}

// AppendDownstreamData is valid in OnDownstreamData (TCP).
func AppendDownstreamData(data []byte) error {
	return abi.AppendBuffer(abi.BufferTypeDownstreamData, data)
}

// PrependDownstreamData is valid in OnDownstreamData (TCP).
func PrependDownstreamData(data []byte) error {
	return abi.PrependBuffer(abi.BufferTypeDownstreamData, data)
}

// ReplaceDownstreamData is valid in OnDownstreamData (TCP).
func ReplaceDownstreamData(data []byte) error {
	return abi.ReplaceBuffer(abi.BufferTypeDownstreamData, data)
}

// GetUpstreamData is valid in OnUpstreamData (TCP).
func GetUpstreamData(start, maxSize int) ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeUpstreamData, start, maxSize)
}

// AppendUpstreamData is valid in OnUpstreamData (TCP).
func AppendUpstreamData(data []byte) error { return abi.AppendBuffer(abi.BufferTypeUpstreamData, data) }

// PrependUpstreamData is valid in OnUpstreamData (TCP).
func PrependUpstreamData(data []byte) error {
	return abi.PrependBuffer(abi.BufferTypeUpstreamData, data)
}

// ReplaceUpstreamData is valid in OnUpstreamData (TCP).
func ReplaceUpstreamData(data []byte) error {
	return abi.ReplaceBuffer(abi.BufferTypeUpstreamData, data)
}

// ContinueTcpStream resumes a paused TCP stream.
func ContinueTcpStream() error { return abi.ContinueStream(abi.StreamTypeDownstream) }

// CloseDownstream closes the downstream TCP connection.
func CloseDownstream() error { return abi.CloseStream(abi.StreamTypeDownstream) }

// CloseUpstream closes the upstream TCP connection.
func CloseUpstream() error { return abi.CloseStream(abi.StreamTypeUpstream) }

// GetHttpRequestHeaders is valid in OnHttpRequestHeaders and later request callbacks.
func GetHttpRequestHeaders() ([][2]string, error) { return abi.GetMap(abi.MapTypeHttpRequestHeaders) }

// GetHttpRequestHeadersInto is GetHttpRequestHeaders into dst's storage
// when it is large enough, so a filter reusing one slice allocates no
// header list per request. Not in the SDK (its build ignores dst).
func GetHttpRequestHeadersInto(dst [][2]string) ([][2]string, error) {
	return abi.GetMapInto(abi.MapTypeHttpRequestHeaders, dst)
}

// ReplaceHttpRequestHeaders is valid in OnHttpRequestHeaders.
func ReplaceHttpRequestHeaders(headers [][2]string) error {
	return abi.SetMap(abi.MapTypeHttpRequestHeaders, headers)
}

// GetHttpRequestHeader is valid in OnHttpRequestHeaders and later request callbacks.
func GetHttpRequestHeader(key string) (string, error) {
	return abi.GetMapValue(abi.MapTypeHttpRequestHeaders, key)
}

// RemoveHttpRequestHeader is valid in OnHttpRequestHeaders.
func RemoveHttpRequestHeader(key string) error {
	return abi.RemoveMapValue(abi.MapTypeHttpRequestHeaders, key)
}

// ReplaceHttpRequestHeader is valid in OnHttpRequestHeaders.
func ReplaceHttpRequestHeader(key, value string) error {
	return abi.ReplaceMapValue(abi.MapTypeHttpRequestHeaders, key, value)
}

// AddHttpRequestHeader is valid in OnHttpRequestHeaders.
func AddHttpRequestHeader(key, value string) error {
	return abi.AddMapValue(abi.MapTypeHttpRequestHeaders, key, value)
}

// GetHttpRequestBody is valid in OnHttpRequestBody.
func GetHttpRequestBody(start, maxSize int) ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeHttpRequestBody, start, maxSize)
}

// AppendHttpRequestBody is valid in OnHttpRequestBody.
func AppendHttpRequestBody(data []byte) error {
	return abi.AppendBuffer(abi.BufferTypeHttpRequestBody, data)
}

// PrependHttpRequestBody is valid in OnHttpRequestBody.
func PrependHttpRequestBody(data []byte) error {
	return abi.PrependBuffer(abi.BufferTypeHttpRequestBody, data)
}

// ReplaceHttpRequestBody is valid in OnHttpRequestBody.
func ReplaceHttpRequestBody(data []byte) error {
	return abi.ReplaceBuffer(abi.BufferTypeHttpRequestBody, data)
}

// GetHttpRequestTrailers is valid in OnHttpRequestTrailers.
func GetHttpRequestTrailers() ([][2]string, error) {
	return abi.GetMap(abi.MapTypeHttpRequestTrailers)
}

// ReplaceHttpRequestTrailers is valid in OnHttpRequestTrailers.
func ReplaceHttpRequestTrailers(trailers [][2]string) error {
	return abi.SetMap(abi.MapTypeHttpRequestTrailers, trailers)
}

// GetHttpRequestTrailer is valid in OnHttpRequestTrailers.
func GetHttpRequestTrailer(key string) (string, error) {
	return abi.GetMapValue(abi.MapTypeHttpRequestTrailers, key)
}

// RemoveHttpRequestTrailer is valid in OnHttpRequestTrailers.
func RemoveHttpRequestTrailer(key string) error {
	return abi.RemoveMapValue(abi.MapTypeHttpRequestTrailers, key)
}

// ReplaceHttpRequestTrailer is valid in OnHttpRequestTrailers.
func ReplaceHttpRequestTrailer(key, value string) error {
	return abi.ReplaceMapValue(abi.MapTypeHttpRequestTrailers, key, value)
}

// AddHttpRequestTrailer is valid in OnHttpRequestTrailers.
func AddHttpRequestTrailer(key, value string) error {
	return abi.AddMapValue(abi.MapTypeHttpRequestTrailers, key, value)
}

// ResumeHttpRequest continues a request paused by a callback; call it after SetEffectiveContext
// when running on the root context (e.g. in a DispatchHttpCall callback).
func ResumeHttpRequest() error { return abi.ContinueStream(abi.StreamTypeRequest) }

// GetHttpResponseHeaders is valid in OnHttpResponseHeaders and later response callbacks.
func GetHttpResponseHeaders() ([][2]string, error) {
	return abi.GetMap(abi.MapTypeHttpResponseHeaders)
}

// ReplaceHttpResponseHeaders is valid in OnHttpResponseHeaders.
func ReplaceHttpResponseHeaders(headers [][2]string) error {
	return abi.SetMap(abi.MapTypeHttpResponseHeaders, headers)
}

// GetHttpResponseHeader is valid in OnHttpResponseHeaders and later response callbacks.
func GetHttpResponseHeader(key string) (string, error) {
	return abi.GetMapValue(abi.MapTypeHttpResponseHeaders, key)
}

// RemoveHttpResponseHeader is valid in OnHttpResponseHeaders.
func RemoveHttpResponseHeader(key string) error {
	return abi.RemoveMapValue(abi.MapTypeHttpResponseHeaders, key)
}

// ReplaceHttpResponseHeader is valid in OnHttpResponseHeaders.
func ReplaceHttpResponseHeader(key, value string) error {
	return abi.ReplaceMapValue(abi.MapTypeHttpResponseHeaders, key, value)
}

// AddHttpResponseHeader is valid in OnHttpResponseHeaders.
func AddHttpResponseHeader(key, value string) error {
	return abi.AddMapValue(abi.MapTypeHttpResponseHeaders, key, value)
}

// GetHttpResponseBody is valid in OnHttpResponseBody.
func GetHttpResponseBody(start, maxSize int) ([]byte, error) {
	return abi.GetBuffer(abi.BufferTypeHttpResponseBody, start, maxSize)
}

// AppendHttpResponseBody is valid in OnHttpResponseBody.
func AppendHttpResponseBody(data []byte) error {
	return abi.AppendBuffer(abi.BufferTypeHttpResponseBody, data)
}

// PrependHttpResponseBody is valid in OnHttpResponseBody.
func PrependHttpResponseBody(data []byte) error {
	return abi.PrependBuffer(abi.BufferTypeHttpResponseBody, data)
}

// ReplaceHttpResponseBody is valid in OnHttpResponseBody.
func ReplaceHttpResponseBody(data []byte) error {
	return abi.ReplaceBuffer(abi.BufferTypeHttpResponseBody, data)
}

// GetHttpResponseTrailers is valid in OnHttpResponseTrailers.
func GetHttpResponseTrailers() ([][2]string, error) {
	return abi.GetMap(abi.MapTypeHttpResponseTrailers)
}

// ReplaceHttpResponseTrailers is valid in OnHttpResponseTrailers.
func ReplaceHttpResponseTrailers(trailers [][2]string) error {
	return abi.SetMap(abi.MapTypeHttpResponseTrailers, trailers)
}

// GetHttpResponseTrailer is valid in OnHttpResponseTrailers.
func GetHttpResponseTrailer(key string) (string, error) {
	return abi.GetMapValue(abi.MapTypeHttpResponseTrailers, key)
}

// RemoveHttpResponseTrailer is valid in OnHttpResponseTrailers.
func RemoveHttpResponseTrailer(key string) error {
	return abi.RemoveMapValue(abi.MapTypeHttpResponseTrailers, key)
}

// ReplaceHttpResponseTrailer is valid in OnHttpResponseTrailers.
func ReplaceHttpResponseTrailer(key, value string) error {
	return abi.ReplaceMapValue(abi.MapTypeHttpResponseTrailers, key, value)
}

// AddHttpResponseTrailer is valid in OnHttpResponseTrailers.
func AddHttpResponseTrailer(key, value string) error {
	return abi.AddMapValue(abi.MapTypeHttpResponseTrailers, key, value)
}

// ResumeHttpResponse continues a paused response.
func ResumeHttpResponse() error { return abi.ContinueStream(abi.StreamTypeResponse) }

// SendHttpResponse sends a local reply from an HTTP context (or from the root context after
// SetEffectiveContext). Return types.ActionPause afterwards. gRPCStatus -1 means "not gRPC".
func SendHttpResponse(statusCode uint32, headers [][2]string, body []byte, gRPCStatus int32) error {
	return abi.SendLocalResponse(statusCode, "", body, headers, gRPCStatus)
}

// GetSharedData reads a key of the VM-id-wide store with its CAS token.
func GetSharedData(key string) ([]byte, uint32, error) { return abi.GetSharedData(key) }

// SetSharedData writes a key; cas 0 writes unconditionally, otherwise a stale cas gives
// types.ErrorStatusCasMismatch.
func SetSharedData(key string, data []byte, cas uint32) error {
	return abi.SetSharedData(key, data, cas)
}

// GetProperty reads a host property by path segments.
func GetProperty(path []string) ([]byte, error) { return abi.GetProperty(path) }

// GetPropertyMap reads a map-typed host property. A value that is not a pairs map is an error
// (the SDK would panic).
func GetPropertyMap(path []string) ([][2]string, error) {
	b, err := abi.GetProperty(path)
	if err != nil {
		return nil, err
	}
	return abi.DeserializePairs(b)
}

// SetProperty writes a host property.
func SetProperty(path []string, data []byte) error {
	if len(data) == 0 {
		return types.ErrorStatusBadArgument // the SDK refuses empty values too
	}
	return abi.SetProperty(path, data)
}

// CallForeignFunction calls a host-specific function.
func CallForeignFunction(funcName string, param []byte) ([]byte, error) {
	return abi.CallForeignFunction(funcName, param)
}

// LogTrace logs at trace level. Never pass secrets.
func LogTrace(msg string) { abi.Log(abi.LogLevelTrace, msg) }

// LogDebug logs at debug level. Never pass secrets.
func LogDebug(msg string) { abi.Log(abi.LogLevelDebug, msg) }

// LogInfo logs at info level. Never pass secrets.
func LogInfo(msg string) { abi.Log(abi.LogLevelInfo, msg) }

// LogWarn logs at warn level. Never pass secrets.
func LogWarn(msg string) { abi.Log(abi.LogLevelWarn, msg) }

// LogError logs at error level. Never pass secrets.
func LogError(msg string) { abi.Log(abi.LogLevelError, msg) }

// LogCritical logs at critical level. Never pass secrets.
func LogCritical(msg string) { abi.Log(abi.LogLevelCritical, msg) }

// LogTracef formats with fmt; keep it off the per-request path.
func LogTracef(format string, args ...any) { abi.Log(abi.LogLevelTrace, fmt.Sprintf(format, args...)) }

// LogDebugf formats with fmt; keep it off the per-request path.
func LogDebugf(format string, args ...any) { abi.Log(abi.LogLevelDebug, fmt.Sprintf(format, args...)) }

// LogInfof formats with fmt; keep it off the per-request path.
func LogInfof(format string, args ...any) { abi.Log(abi.LogLevelInfo, fmt.Sprintf(format, args...)) }

// LogWarnf formats with fmt; keep it off the per-request path.
func LogWarnf(format string, args ...any) { abi.Log(abi.LogLevelWarn, fmt.Sprintf(format, args...)) }

// LogErrorf formats with fmt; keep it off the per-request path.
func LogErrorf(format string, args ...any) { abi.Log(abi.LogLevelError, fmt.Sprintf(format, args...)) }

// LogCriticalf formats with fmt; keep it off the per-request path.
func LogCriticalf(format string, args ...any) {
	abi.Log(abi.LogLevelCritical, fmt.Sprintf(format, args...))
}

// Metric handles: per-VM ids from the host, same shape as the SDK's.
type (
	MetricCounter   uint32
	MetricGauge     uint32
	MetricHistogram uint32
)

// defineMetric panics on refusal like the SDK; it runs at plugin start, where the abi guard
// turns the panic into a failed start.
func defineMetric(t abi.MetricType, name string) uint32 {
	id, err := abi.DefineMetric(t, name)
	if err != nil {
		panic("proxywasm: define metric " + name + ": " + err.Error())
	}
	return id
}

// DefineCounterMetric defines (or finds) a counter. Call once at plugin start and keep the handle.
func DefineCounterMetric(name string) MetricCounter {
	return MetricCounter(defineMetric(abi.MetricTypeCounter, name))
}

// DefineGaugeMetric defines (or finds) a gauge. Call once at plugin start and keep the handle.
func DefineGaugeMetric(name string) MetricGauge {
	return MetricGauge(defineMetric(abi.MetricTypeGauge, name))
}

// DefineHistogramMetric defines (or finds) a histogram. Call once at plugin start.
func DefineHistogramMetric(name string) MetricHistogram {
	return MetricHistogram(defineMetric(abi.MetricTypeHistogram, name))
}

// Value returns the counter's value (0 if the host refuses).
func (m MetricCounter) Value() uint64 { v, _ := abi.GetMetric(uint32(m)); return v }

// Increment adds offset; a refusal is ignored (metrics never fail a request).
func (m MetricCounter) Increment(offset uint64) { _ = abi.IncrementMetric(uint32(m), int64(offset)) }

// Value returns the gauge's value (0 if the host refuses).
func (m MetricGauge) Value() int64 { v, _ := abi.GetMetric(uint32(m)); return int64(v) }

// Add adds offset (may be negative); a refusal is ignored.
func (m MetricGauge) Add(offset int64) { _ = abi.IncrementMetric(uint32(m), offset) }

// Value returns 0: Envoy cannot read histograms.
func (m MetricHistogram) Value() uint64 { v, _ := abi.GetMetric(uint32(m)); return v }

// Record records a sample; a refusal is ignored.
func (m MetricHistogram) Record(value uint64) { _ = abi.RecordMetric(uint32(m), value) }
