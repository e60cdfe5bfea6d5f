package iprule

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// linear is the obvious implementation the range set must agree with.
func linear(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func TestRangeSetEdges(t *testing.T) {
	ps := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("10.1.0.0/16"), // nested
		netip.MustParsePrefix("11.0.0.0/8"),  // adjacent to 10/8: merged
		netip.MustParsePrefix("255.255.255.255/32"),
		netip.MustParsePrefix("0.0.0.0/32"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("2001:db8:1::/48"), // nested
		netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("2001:db9::/64"),
		netip.MustParsePrefix("192.0.2.0/32"), // one-address gap before the next
		netip.MustParsePrefix("192.0.2.2/31"),
		netip.MustParsePrefix("2001:db9:0:1::/128"),  // right after 2001:db9::/64: merged
		netip.MustParsePrefix("2001:db9:0:1::2/128"), // one-address gap
	}
	s := newRangeSet(append([]netip.Prefix(nil), ps...))
	if len(s.v4) != 5 {
		t.Fatalf("v4 ranges = %v, want 5 after merging", s.v4)
	}
	for _, a := range []string{
		"9.255.255.255", "10.0.0.0", "10.1.2.3", "11.255.255.255", "12.0.0.0", "0.0.0.0", "0.0.0.1",
		"255.255.255.254", "255.255.255.255",
		"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db9::1", "2001:db9:0:1::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1", "fec0::", "::",
		"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
		"2001:db9:0:1::", "2001:db9:0:1::1", "2001:db9:0:1::2", "2001:db9:0:1::3",
	} {
		addr := netip.MustParseAddr(a)
		if got, want := s.contains(addr), linear(ps, addr); got != want {
			t.Errorf("contains(%s) = %v, want %v", a, got, want)
		}
	}
	whole := newRangeSet([]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"), netip.MustParsePrefix("1.2.3.0/24")})
	if len(whole.v4) != 1 || len(whole.v6) != 1 || !whole.contains(netip.MustParseAddr("255.0.0.1")) || !whole.contains(netip.MustParseAddr("::1")) {
		t.Fatalf("everything: %+v", whole)
	}
	var none rangeSet
	if none.contains(netip.MustParseAddr("1.2.3.4")) || !none.empty() {
		t.Fatal("empty set")
	}
}

// TestRangeSetMatchesLinear compares the range set with a linear scan on
// random prefix lists and addresses drawn near the prefix boundaries.
func TestRangeSetMatchesLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var ps []netip.Prefix
		for i := 0; i < 1+r.IntN(40); i++ {
			ps = append(ps, randomPrefix(r))
		}
		s := newRangeSet(append([]netip.Prefix(nil), ps...))
		for i := 0; i < 200; i++ {
			a := nearBoundary(r, ps[r.IntN(len(ps))])
			if got, want := s.contains(a), linear(ps, a); got != want {
				t.Fatalf("round %d: contains(%v) = %v, want %v; prefixes %v", round, a, got, want, ps)
			}
		}
	}
}

func randomPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(2) == 0 {
		var b [4]byte
		for i := range b {
			b[i] = byte(r.IntN(4)) // small alphabet: lots of overlap
		}
		p, _ := netip.AddrFrom4(b).Prefix(max(0, 32-r.IntN(40))) // often /32
		return p
	}
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(3)) * 0x7f
	}
	p, _ := netip.AddrFrom16(b).Prefix(r.IntN(129))
	return p
}

// nearBoundary returns an address at, just inside or just outside an end
// of p.
func nearBoundary(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr()
	if r.IntN(2) == 0 { // the last address of p
		for i := p.Bits(); i < a.BitLen(); i++ {
			a = setBit(a, i)
		}
	}
	switch r.IntN(3) {
	case 0:
		if n := a.Next(); n.IsValid() {
			a = n
		}
	case 1:
		if n := a.Prev(); n.IsValid() {
			a = n
		}
	}
	return a
}

func setBit(a netip.Addr, i int) netip.Addr {
	if a.Is4() {
		b := a.As4()
		b[i/8] |= 0x80 >> (i % 8)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	b[i/8] |= 0x80 >> (i % 8)
	return netip.AddrFrom16(b)
}

func BenchmarkVerifyLargeDenyList(b *testing.B) {
	var ps []netip.Prefix
	for i := 0; i < MaxPrefixes; i++ {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 8), byte(i), 0}), 25)) // not adjacent: no merging
	}
	p := &Provider{name: "b", subject: "b", deny: newRangeSet(ps)}
	req := requestFrom("203.0.113.9")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(req); err != nil {
			b.Fatal(err)
		}
	}
}
