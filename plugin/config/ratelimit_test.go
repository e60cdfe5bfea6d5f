package config

import (
	"net/netip"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Shared data has no delete: per-source buckets must not grow with the
// number of client addresses, however many a client rotates through.
func TestSourceBucketsAreBounded(t *testing.T) {
	doc := `{"providers": [], "rules": [{"name": "r", "anonymous": true,
	          "rate_limit": {"by": "source", "per_second": 1, "burst": 5}}]}`
	store := &provider.MemSharedData{}
	cfg, _, err := ParseKinds([]byte(doc), testEnv, provider.Deps{Shared: store}, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	const clients = 3 * sourceBuckets
	for i := 0; i < clients; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		r := &provider.Request{Method: "GET", Authority: "x", RawPath: "/", Source: a, Now: 1}
		if v := cfg.Policy.Start(r).Verdict(); !v.Allow {
			t.Fatalf("client %d refused on its first request: %v", i, v.Err)
		}
	}
	if n := store.Len(); n > sourceBuckets {
		t.Fatalf("%d clients made %d buckets; bound is %d", clients, n, sourceBuckets)
	}
	// The same client still hits its own bucket.
	a := netip.MustParseAddr("192.0.2.7")
	var last bool
	for i := 0; i < 7; i++ {
		r := &provider.Request{Method: "GET", Authority: "x", RawPath: "/", Source: a, Now: 1}
		last = cfg.Policy.Start(r).Verdict().Allow
	}
	if last {
		t.Fatal("seventh request inside one second passed a burst of 5")
	}
}
