// Package shared puts the provider.SharedData store interface on proxy-wasm
// shared data, through the plugin's host facade (plugin/internal/proxywasm).
//
// The store is the one map every VM of a proxy with the same vm_id sees,
// with compare-and-swap; see provider.SharedData for the semantics. This
// package only translates: host status NotFound becomes
// provider.ErrNotFound, CasMismatch becomes provider.ErrCasMismatch, and
// every other failure becomes a *HostError, which callers treat as a
// failure (they fail closed: rate limits refuse, replay guards refuse).
//
// It is the only place that ties the replay guard, the rate limiter and
// the key caches to the host, so those stay pure Go, natively tested over
// provider.MemSharedData.
package shared

import (
	"errors"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
	"github.com/tokengate/tokengate/plugin/provider"
)

// Data is provider.SharedData backed by the proxy-wasm host. The zero
// value is ready. Valid in every callback after the VM has started.
type Data struct{}

var _ provider.SharedData = Data{}

// HostError is a shared-data failure other than not-found or cas mismatch
// (bad argument, an unexpected status, a buffer the guest cannot claim).
// It never contains the key or the value.
type HostError struct {
	Op  string // "get" or "set"
	Err error  // the facade's error
}

func (e *HostError) Error() string { return "shared data " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the facade's error.
func (e *HostError) Unwrap() error { return e.Err }

// Get returns the value of key and its cas. The returned slice belongs to
// the caller.
func (Data) Get(key string) ([]byte, uint32, error) {
	v, cas, err := proxywasm.GetSharedData(key)
	if err != nil {
		return nil, 0, mapError("get", err)
	}
	return own(v), cas, nil
}

// Set stores value under key; with cas != 0 only if key's cas is still
// cas (or key is absent). The host copies value.
func (Data) Set(key string, value []byte, cas uint32) error {
	if err := proxywasm.SetSharedData(key, value, cas); err != nil {
		return mapError("set", err)
	}
	return nil
}

func mapError(op string, err error) error {
	switch {
	case errors.Is(err, types.ErrorStatusNotFound):
		return provider.ErrNotFound
	case errors.Is(err, types.ErrorStatusCasMismatch):
		return provider.ErrCasMismatch
	}
	return &HostError{Op: op, Err: err}
}
