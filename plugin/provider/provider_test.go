package provider

import (
	"net/netip"
	"testing"
)

type countingLoader struct {
	calls int
	addr  netip.Addr
}

func (c *countingLoader) LoadSource() netip.Addr { c.calls++; return c.addr }

// TestClientAddrLoadsOnce: the loader runs on the first ClientAddr only,
// and a request without a loader returns Source as set.
func TestClientAddrLoadsOnce(t *testing.T) {
	l := &countingLoader{addr: netip.MustParseAddr("192.0.2.7")}
	r := &Request{SourceLoader: l}
	for i := 0; i < 3; i++ {
		if got := r.ClientAddr(); got != l.addr {
			t.Fatalf("call %d: got %v, want %v", i, got, l.addr)
		}
	}
	if l.calls != 1 {
		t.Fatalf("loader ran %d times, want 1", l.calls)
	}
	plain := &Request{Source: netip.MustParseAddr("2001:db8::1")}
	if got := plain.ClientAddr(); got != plain.Source {
		t.Fatalf("got %v, want %v", got, plain.Source)
	}
	if got := (&Request{}).ClientAddr(); got.IsValid() {
		t.Fatalf("unknown source reads as %v", got)
	}
}
