//go:build tinygo || !wasip1

// This file re-exports the SDK for TinyGo and native builds; see the package doc.

package proxywasm

import (
	sdk "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// Metric handles are the SDK's own types, so proxytest can read them.
type (
	MetricCounter   = sdk.MetricCounter
	MetricGauge     = sdk.MetricGauge
	MetricHistogram = sdk.MetricHistogram
)

// SetVMContext registers the VM context. Call it from init(): a Go reactor runs init in _initialize.
func SetVMContext(ctx types.VMContext) { sdk.SetVMContext(ctx) }

// GetVMConfiguration returns vm_config.configuration. Valid in OnVMStart.
func GetVMConfiguration() ([]byte, error) { return sdk.GetVMConfiguration() }

// GetPluginConfiguration returns the plugin configuration. Valid in OnPluginStart.
func GetPluginConfiguration() ([]byte, error) { return sdk.GetPluginConfiguration() }

// SetTickPeriodMilliSeconds sets the OnTick period. Valid in plugin contexts.
func SetTickPeriodMilliSeconds(millSec uint32) error { return sdk.SetTickPeriodMilliSeconds(millSec) }

// SetEffectiveContext makes contextID the target of following calls (e.g. resuming an HTTP
// context from a root callback).
func SetEffectiveContext(contextID uint32) error { return sdk.SetEffectiveContext(contextID) }

// RegisterSharedQueue registers a queue owned by this plugin context.
func RegisterSharedQueue(name string) (uint32, error) { return sdk.RegisterSharedQueue(name) }

// ResolveSharedQueue finds a queue by VM id and name.
func ResolveSharedQueue(vmID, queueName string) (uint32, error) {
	return sdk.ResolveSharedQueue(vmID, queueName)
}

// EnqueueSharedQueue appends data to a queue.
func EnqueueSharedQueue(queueID uint32, data []byte) error {
	return sdk.EnqueueSharedQueue(queueID, data)
}

// DequeueSharedQueue pops the oldest item of a queue.
func DequeueSharedQueue(queueID uint32) ([]byte, error) { return sdk.DequeueSharedQueue(queueID) }

// PluginDone tells the host a plugin that returned false from OnPluginDone is finished.
func PluginDone() { sdk.PluginDone() }

// DispatchHttpCall sends an HTTP request to an upstream cluster. The callback runs on the root
// (plugin) context that owns the call; use SetEffectiveContext there to act on an HTTP stream.
func DispatchHttpCall(cluster string, headers [][2]string, body []byte, trailers [][2]string,
	timeoutMillisecond uint32, callBack func(numHeaders, bodySize, numTrailers int)) (uint32, error) {
	return sdk.DispatchHttpCall(cluster, headers, body, trailers, timeoutMillisecond, callBack)
}

// GetHttpCallResponseHeaders is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseHeaders() ([][2]string, error) { return sdk.GetHttpCallResponseHeaders() }

// GetHttpCallResponseBody is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseBody(start, maxSize int) ([]byte, error) {
	return sdk.GetHttpCallResponseBody(start, maxSize)
}

// GetHttpCallResponseTrailers is valid inside a DispatchHttpCall callback.
func GetHttpCallResponseTrailers() ([][2]string, error) { return sdk.GetHttpCallResponseTrailers() }

// GetDownstreamData is valid in OnDownstreamData (TCP).
func GetDownstreamData(start, maxSize int) ([]byte, error) {
	return sdk.GetDownstreamData(start, maxSize)
}

// AppendDownstreamData is valid in OnDownstreamData (TCP).
func AppendDownstreamData(data []byte) error { return sdk.AppendDownstreamData(data) }

// PrependDownstreamData is valid in OnDownstreamData (TCP).
func PrependDownstreamData(data []byte) error { return sdk.PrependDownstreamData(data) }

// ReplaceDownstreamData is valid in OnDownstreamData (TCP).
func ReplaceDownstreamData(data []byte) error { return sdk.ReplaceDownstreamData(data) }

// GetUpstreamData is valid in OnUpstreamData (TCP).
func GetUpstreamData(start, maxSize int) ([]byte, error) { return sdk.GetUpstreamData(start, maxSize) }

// AppendUpstreamData is valid in OnUpstreamData (TCP).
func AppendUpstreamData(data []byte) error { return sdk.AppendUpstreamData(data) }

// PrependUpstreamData is valid in OnUpstreamData (TCP).
func PrependUpstreamData(data []byte) error { return sdk.PrependUpstreamData(data) }

// ReplaceUpstreamData is valid in OnUpstreamData (TCP).
func ReplaceUpstreamData(data []byte) error { return sdk.ReplaceUpstreamData(data) }

// ContinueTcpStream resumes a paused TCP stream.
func ContinueTcpStream() error { return sdk.ContinueTcpStream() }

// CloseDownstream closes the downstream TCP connection.
func CloseDownstream() error { return sdk.CloseDownstream() }

// CloseUpstream closes the upstream TCP connection.
func CloseUpstream() error { return sdk.CloseUpstream() }

// GetHttpRequestHeaders is valid in OnHttpRequestHeaders and later request callbacks.
func GetHttpRequestHeaders() ([][2]string, error) { return sdk.GetHttpRequestHeaders() }

// GetHttpRequestHeadersInto is GetHttpRequestHeaders; the SDK has no way
// to reuse dst, so it is ignored here (see the wasip1 build).
func GetHttpRequestHeadersInto(dst [][2]string) ([][2]string, error) {
	return sdk.GetHttpRequestHeaders()
}

// ReplaceHttpRequestHeaders is valid in OnHttpRequestHeaders.
func ReplaceHttpRequestHeaders(headers [][2]string) error {
	return sdk.ReplaceHttpRequestHeaders(headers)
}

// GetHttpRequestHeader is valid in OnHttpRequestHeaders and later request callbacks.
func GetHttpRequestHeader(key string) (string, error) { return sdk.GetHttpRequestHeader(key) }

// RemoveHttpRequestHeader is valid in OnHttpRequestHeaders.
func RemoveHttpRequestHeader(key string) error { return sdk.RemoveHttpRequestHeader(key) }

// ReplaceHttpRequestHeader is valid in OnHttpRequestHeaders.
func ReplaceHttpRequestHeader(key, value string) error {
	return sdk.ReplaceHttpRequestHeader(key, value)
}

// AddHttpRequestHeader is valid in OnHttpRequestHeaders.
func AddHttpRequestHeader(key, value string) error { return sdk.AddHttpRequestHeader(key, value) }

// GetHttpRequestBody is valid in OnHttpRequestBody.
func GetHttpRequestBody(start, maxSize int) ([]byte, error) {
	return sdk.GetHttpRequestBody(start, maxSize)
}

// AppendHttpRequestBody is valid in OnHttpRequestBody.
func AppendHttpRequestBody(data []byte) error { return sdk.AppendHttpRequestBody(data) }

// PrependHttpRequestBody is valid in OnHttpRequestBody.
func PrependHttpRequestBody(data []byte) error { return sdk.PrependHttpRequestBody(data) }

// ReplaceHttpRequestBody is valid in OnHttpRequestBody.
func ReplaceHttpRequestBody(data []byte) error { return sdk.ReplaceHttpRequestBody(data) }

// GetHttpRequestTrailers is valid in OnHttpRequestTrailers.
func GetHttpRequestTrailers() ([][2]string, error) { return sdk.GetHttpRequestTrailers() }

// ReplaceHttpRequestTrailers is valid in OnHttpRequestTrailers.
func ReplaceHttpRequestTrailers(trailers [][2]string) error {
	return sdk.ReplaceHttpRequestTrailers(trailers)
}

// GetHttpRequestTrailer is valid in OnHttpRequestTrailers.
func GetHttpRequestTrailer(key string) (string, error) { return sdk.GetHttpRequestTrailer(key) }

// RemoveHttpRequestTrailer is valid in OnHttpRequestTrailers.
func RemoveHttpRequestTrailer(key string) error { return sdk.RemoveHttpRequestTrailer(key) }

// ReplaceHttpRequestTrailer is valid in OnHttpRequestTrailers.
func ReplaceHttpRequestTrailer(key, value string) error {
	return sdk.ReplaceHttpRequestTrailer(key, value)
}

// AddHttpRequestTrailer is valid in OnHttpRequestTrailers.
func AddHttpRequestTrailer(key, value string) error { return sdk.AddHttpRequestTrailer(key, value) }

// ResumeHttpRequest continues a request paused by a callback; call it after SetEffectiveContext
// when running on the root context (e.g. in a DispatchHttpCall callback).
func ResumeHttpRequest() error { return sdk.ResumeHttpRequest() }

// GetHttpResponseHeaders is valid in OnHttpResponseHeaders and later response callbacks.
func GetHttpResponseHeaders() ([][2]string, error) { return sdk.GetHttpResponseHeaders() }

// ReplaceHttpResponseHeaders is valid in OnHttpResponseHeaders.
func ReplaceHttpResponseHeaders(headers [][2]string) error {
	return sdk.ReplaceHttpResponseHeaders(headers)
}

// GetHttpResponseHeader is valid in OnHttpResponseHeaders and later response callbacks.
func GetHttpResponseHeader(key string) (string, error) { return sdk.GetHttpResponseHeader(key) }

// RemoveHttpResponseHeader is valid in OnHttpResponseHeaders.
func RemoveHttpResponseHeader(key string) error { return sdk.RemoveHttpResponseHeader(key) }

// ReplaceHttpResponseHeader is valid in OnHttpResponseHeaders.
func ReplaceHttpResponseHeader(key, value string) error {
	return sdk.ReplaceHttpResponseHeader(key, value)
}

// AddHttpResponseHeader is valid in OnHttpResponseHeaders.
func AddHttpResponseHeader(key, value string) error { return sdk.AddHttpResponseHeader(key, value) }

// GetHttpResponseBody is valid in OnHttpResponseBody.
func GetHttpResponseBody(start, maxSize int) ([]byte, error) {
	return sdk.GetHttpResponseBody(start, maxSize)
}

// AppendHttpResponseBody is valid in OnHttpResponseBody.
func AppendHttpResponseBody(data []byte) error { return sdk.AppendHttpResponseBody(data) }

// PrependHttpResponseBody is valid in OnHttpResponseBody.
func PrependHttpResponseBody(data []byte) error { return sdk.PrependHttpResponseBody(data) }

// ReplaceHttpResponseBody is valid in OnHttpResponseBody.
func ReplaceHttpResponseBody(data []byte) error { return sdk.ReplaceHttpResponseBody(data) }

// GetHttpResponseTrailers is valid in OnHttpResponseTrailers.
func GetHttpResponseTrailers() ([][2]string, error) { return sdk.GetHttpResponseTrailers() }

// ReplaceHttpResponseTrailers is valid in OnHttpResponseTrailers.
func ReplaceHttpResponseTrailers(trailers [][2]string) error {
	return sdk.ReplaceHttpResponseTrailers(trailers)
}

// GetHttpResponseTrailer is valid in OnHttpResponseTrailers.
func GetHttpResponseTrailer(key string) (string, error) { return sdk.GetHttpResponseTrailer(key) }

// RemoveHttpResponseTrailer is valid in OnHttpResponseTrailers.
func RemoveHttpResponseTrailer(key string) error { return sdk.RemoveHttpResponseTrailer(key) }

// ReplaceHttpResponseTrailer is valid in OnHttpResponseTrailers.
func ReplaceHttpResponseTrailer(key, value string) error {
	return sdk.ReplaceHttpResponseTrailer(key, value)
}

// AddHttpResponseTrailer is valid in OnHttpResponseTrailers.
func AddHttpResponseTrailer(key, value string) error { return sdk.AddHttpResponseTrailer(key, value) }

// ResumeHttpResponse continues a paused response.
func ResumeHttpResponse() error { return sdk.ResumeHttpResponse() }

// SendHttpResponse sends a local reply from an HTTP context (or from the root context after
// SetEffectiveContext). Return types.ActionPause afterwards. gRPCStatus -1 means "not gRPC".
func SendHttpResponse(statusCode uint32, headers [][2]string, body []byte, gRPCStatus int32) error {
	return sdk.SendHttpResponse(statusCode, headers, body, gRPCStatus)
}

// GetSharedData reads a key of the VM-id-wide store with its CAS token.
func GetSharedData(key string) ([]byte, uint32, error) { return sdk.GetSharedData(key) }

// SetSharedData writes a key; cas 0 writes unconditionally, otherwise a stale cas gives
// types.ErrorStatusCasMismatch.
func SetSharedData(key string, data []byte, cas uint32) error {
	return sdk.SetSharedData(key, data, cas)
}

// GetProperty reads a host property by path segments.
func GetProperty(path []string) ([]byte, error) { return sdk.GetProperty(path) }

// GetPropertyMap reads a map-typed host property.
func GetPropertyMap(path []string) ([][2]string, error) { return sdk.GetPropertyMap(path) }

// SetProperty writes a host property.
func SetProperty(path []string, data []byte) error { return sdk.SetProperty(path, data) }

// CallForeignFunction calls a host-specific function.
func CallForeignFunction(funcName string, param []byte) ([]byte, error) {
	return sdk.CallForeignFunction(funcName, param)
}

// LogTrace logs at trace level. Never pass secrets.
func LogTrace(msg string) { sdk.LogTrace(msg) }

// LogDebug logs at debug level. Never pass secrets.
func LogDebug(msg string) { sdk.LogDebug(msg) }

// LogInfo logs at info level. Never pass secrets.
func LogInfo(msg string) { sdk.LogInfo(msg) }

// LogWarn logs at warn level. Never pass secrets.
func LogWarn(msg string) { sdk.LogWarn(msg) }

// LogError logs at error level. Never pass secrets.
func LogError(msg string) { sdk.LogError(msg) }

// LogCritical logs at critical level. Never pass secrets.
func LogCritical(msg string) { sdk.LogCritical(msg) }

// LogTracef formats with fmt; keep it off the per-request path.
func LogTracef(format string, args ...any) { sdk.LogTracef(format, args...) }

// LogDebugf formats with fmt; keep it off the per-request path.
func LogDebugf(format string, args ...any) { sdk.LogDebugf(format, args...) }

// LogInfof formats with fmt; keep it off the per-request path.
func LogInfof(format string, args ...any) { sdk.LogInfof(format, args...) }

// LogWarnf formats with fmt; keep it off the per-request path.
func LogWarnf(format string, args ...any) { sdk.LogWarnf(format, args...) }

// LogErrorf formats with fmt; keep it off the per-request path.
func LogErrorf(format string, args ...any) { sdk.LogErrorf(format, args...) }

// LogCriticalf formats with fmt; keep it off the per-request path.
func LogCriticalf(format string, args ...any) { sdk.LogCriticalf(format, args...) }

// DefineCounterMetric defines (or finds) a counter. Call once at plugin start and keep the handle.
func DefineCounterMetric(name string) MetricCounter { return sdk.DefineCounterMetric(name) }

// DefineGaugeMetric defines (or finds) a gauge. Call once at plugin start and keep the handle.
func DefineGaugeMetric(name string) MetricGauge { return sdk.DefineGaugeMetric(name) }

// DefineHistogramMetric defines (or finds) a histogram. Call once at plugin start.
func DefineHistogramMetric(name string) MetricHistogram { return sdk.DefineHistogramMetric(name) }
