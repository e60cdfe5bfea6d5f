package ratelimit

import (
	"net/netip"
	"strconv"
)

// AddressKey is the bucket key for a client address. IPv4 addresses count
// individually; IPv6 addresses count per /64, because one host or customer
// usually holds a whole /64 and could otherwise rotate through 2^64 keys.
// IPv4-mapped IPv6 counts as IPv4. An invalid address gets the key "addr:?"
// (one shared bucket for "unknown", stricter rather than unlimited).
//
// With slots > 0 the network is hashed (FNV-1a) onto slots buckets and the
// key is "addr#<slot>": the store then never holds more than slots buckets
// for this rule, whatever the number of clients. Collisions make two
// networks share a bucket, so they can only be limited harder, never
// admitted more. With slots == 0 the key is "addr:<network>" (exact, but
// unbounded: only for trusted, known address spaces).
func AddressKey(a netip.Addr, slots uint32) string {
	if !a.IsValid() {
		return "addr:?"
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	if slots == 0 {
		return "addr:" + a.String()
	}
	b := a.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return "addr#" + strconv.FormatUint(uint64(h%slots), 10)
}
