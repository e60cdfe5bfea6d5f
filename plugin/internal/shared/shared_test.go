//go:build !wasip1

// The SDK emulator (proxytest) only serves native builds; under wasip1 the
// facade goes to the real host ABI, which needs a proxy-wasm host.

package shared

import (
	"errors"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/ratelimit"
)

// emulate runs f with the SDK's host emulator installed. proxytest keeps
// its host in a process-wide variable, so these tests are not parallel.
func emulate(t *testing.T, f func()) {
	t.Helper()
	_, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().WithVMContext(&types.DefaultVMContext{}))
	defer reset()
	f()
}

func TestGetSetCas(t *testing.T) {
	emulate(t, func() {
		var d Data
		if _, _, err := d.Get("k"); !errors.Is(err, provider.ErrNotFound) {
			t.Fatalf("absent key: %v, want provider.ErrNotFound", err)
		}
		if err := d.Set("k", []byte("v1"), 0); err != nil {
			t.Fatal(err)
		}
		v, cas, err := d.Get("k")
		if err != nil || string(v) != "v1" {
			t.Fatalf("get = (%q, %v)", v, err)
		}
		if err := d.Set("k", []byte("v2"), cas); err != nil {
			t.Fatalf("set with current cas: %v", err)
		}
		if err := d.Set("k", []byte("v3"), cas); !errors.Is(err, provider.ErrCasMismatch) {
			t.Fatalf("set with stale cas: %v, want provider.ErrCasMismatch", err)
		}
		v, _, _ = d.Get("k")
		if string(v) != "v2" {
			t.Fatalf("value after refused set = %q", v)
		}
	})
}

func TestGetReturnsCallerOwnedSlice(t *testing.T) {
	emulate(t, func() {
		var d Data
		_ = d.Set("k", []byte("abc"), 0)
		v, _, _ := d.Get("k")
		v[0] = 'X'
		again, _, _ := d.Get("k")
		if string(again) != "abc" {
			t.Fatalf("editing the returned slice changed the store: %q", again)
		}
	})
}

func TestMapError(t *testing.T) {
	cases := []struct {
		name string
		in   error
		want error
	}{
		{"not found", types.ErrorStatusNotFound, provider.ErrNotFound},
		{"cas mismatch", types.ErrorStatusCasMismatch, provider.ErrCasMismatch},
		{"bad argument", types.ErrorStatusBadArgument, types.ErrorStatusBadArgument},
		{"unknown", errors.New("error status returned by host: unknown status code"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mapError("get", c.in)
			if c.want == provider.ErrNotFound || c.want == provider.ErrCasMismatch {
				if got != c.want {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				return
			}
			var he *HostError
			if !errors.As(got, &he) || !errors.Is(got, c.in) {
				t.Fatalf("got %v, want a *HostError wrapping %v", got, c.in)
			}
			if errors.Is(got, provider.ErrNotFound) || errors.Is(got, provider.ErrCasMismatch) {
				t.Fatal("a host failure must not look like not-found or a cas mismatch")
			}
		})
	}
}

// TestRateLimiterOverHost runs the real limiter on the emulated host: the
// create-with-cas trick and the retry loop must work with the SDK
// emulator's cas semantics too (it numbers cas per key, unlike Envoy).
func TestRateLimiterOverHost(t *testing.T) {
	emulate(t, func() {
		vm1, vm2 := ratelimit.New(Data{}, "r"), ratelimit.New(Data{}, "r")
		lim := ratelimit.Limit{PerSecond: 1, Burst: 2}
		now := int64(1795392000) * 1e9
		got := []bool{}
		for _, l := range []*ratelimit.Limiter{vm1, vm2, vm1, vm2} {
			ok, _ := l.Take("subject:ci", lim, now)
			got = append(got, ok)
		}
		if !got[0] || !got[1] || got[2] || got[3] {
			t.Fatalf("admissions = %v, want [true true false false]", got)
		}
		if ok, _ := vm2.Take("subject:ci", lim, now+1e9); !ok {
			t.Fatal("refill after one second")
		}
	})
}
