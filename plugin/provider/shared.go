package provider

import "errors"

// SharedData is the proxy-wasm shared-data store: one key-value map shared
// by every VM (worker) of a proxy, with compare-and-swap. Providers use it
// for state that must hold across workers (replay caches, rate-limit
// buckets, fetched key sets).
//
// Semantics follow Envoy: Get of a missing key returns ErrNotFound; Set of an
// absent key always succeeds; Set with cas != 0 on a present key whose
// current cas differs returns ErrCasMismatch; every successful Set gives the
// key a fresh cas. There is no delete: expire entries by overwriting them.
//
// In the wasm build this is backed by proxy_get/set_shared_data; natively
// tests use [MemSharedData].
type SharedData interface {
	Get(key string) (value []byte, cas uint32, err error)
	Set(key string, value []byte, cas uint32) error
}

// Errors of SharedData.
var (
	ErrNotFound    = errors.New("shared data: not found")
	ErrCasMismatch = errors.New("shared data: cas mismatch")
)

// Callout is an HTTP request a provider needs the filter to make through
// proxy_http_call before it can decide.
type Callout struct {
	// Cluster is the Envoy cluster name.
	Cluster string
	// Headers must include :method, :path and :authority.
	Headers []Header
	Body    []byte
	// TimeoutMillis is the per-call timeout; 0 is not allowed (always bound).
	TimeoutMillis uint32
}

// CalloutResponse is what came back. Status 0 means the call failed without
// a response (reset, unknown cluster, dispatch error).
type CalloutResponse struct {
	Status  int
	Headers []Header
	Body    []byte
}

// NeedCallout is returned (as an error) by Provider.Verify when the provider
// must consult a remote service. The filter dispatches Call, pauses the
// request, and on the response calls Resume, which returns the final verdict
// (or another *NeedCallout). Resume is also called with a zero
// CalloutResponse when the call could not be made or timed out.
type NeedCallout struct {
	Call   Callout
	Resume func(resp *CalloutResponse) (Identity, error)
}

func (n *NeedCallout) Error() string { return "callout needed to " + n.Call.Cluster }
