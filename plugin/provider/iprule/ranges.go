package iprule

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// rangeSet is a list of prefixes turned, once at start, into sorted,
// disjoint, non-adjacent address ranges per family, so a lookup is a binary
// search (O(log n), no allocation) instead of a scan over every prefix. A
// deny list of a few thousand prefixes then costs a dozen comparisons.
type rangeSet struct {
	v4 []range4
	v6 []range6
}

type range4 struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

type range6 struct{ lo, hi u128 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// next returns a+1 and whether it did not wrap.
func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return u128{}, false
}

func v6Value(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// newRangeSet builds the set from canonical prefixes (masked, IPv4 in IPv4
// form), as ParsePrefix returns them.
func newRangeSet(prefixes []netip.Prefix) rangeSet {
	var s rangeSet
	for _, p := range prefixes {
		if p.Addr().Is4() {
			b := p.Addr().As4()
			lo := binary.BigEndian.Uint32(b[:])
			host := uint32(0)
			if p.Bits() < 32 {
				host = ^uint32(0) >> p.Bits()
			}
			s.v4 = append(s.v4, range4{lo, lo | host})
			continue
		}
		lo := v6Value(p.Addr())
		hi := lo
		switch bits := p.Bits(); {
		case bits == 0:
			hi = u128{^uint64(0), ^uint64(0)}
		case bits < 64:
			hi = u128{lo.hi | ^uint64(0)>>bits, ^uint64(0)}
		case bits < 128:
			hi = u128{lo.hi, lo.lo | ^uint64(0)>>(bits-64)}
		}
		s.v6 = append(s.v6, range6{lo, hi})
	}
	// slices.SortFunc, not sort.Slice: no reflection in the wasm build.
	slices.SortFunc(s.v4, func(a, b range4) int { return cmp.Compare(a.lo, b.lo) })
	slices.SortFunc(s.v6, func(a, b range6) int {
		if c := cmp.Compare(a.lo.hi, b.lo.hi); c != 0 {
			return c
		}
		return cmp.Compare(a.lo.lo, b.lo.lo)
	})
	s.v4 = merge4(s.v4)
	s.v6 = merge6(s.v6)
	return s
}

func merge4(rs []range4) []range4 {
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.hi == ^uint32(0) || r.lo <= last.hi+1 { // overlapping or adjacent
				if r.hi > last.hi {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func merge6(rs []range6) []range6 {
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			after, ok := last.hi.next()
			if !ok || !after.less(r.lo) { // overlapping or adjacent
				if last.hi.less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func (s *rangeSet) empty() bool { return len(s.v4) == 0 && len(s.v6) == 0 }

// contains reports whether a (unzoned, unmapped) lies in one of the ranges.
func (s *rangeSet) contains(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		// First range whose lo is above x; the candidate is the one before.
		i, j := 0, len(s.v4)
		for i < j {
			m := int(uint(i+j) >> 1)
			if s.v4[m].lo <= x {
				i = m + 1
			} else {
				j = m
			}
		}
		return i > 0 && x <= s.v4[i-1].hi
	}
	x := v6Value(a)
	i, j := 0, len(s.v6)
	for i < j {
		m := int(uint(i+j) >> 1)
		if !x.less(s.v6[m].lo) {
			i = m + 1
		} else {
			j = m
		}
	}
	return i > 0 && !s.v6[i-1].hi.less(x)
}
