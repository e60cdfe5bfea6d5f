package iprule

import (
	"errors"
	"net/netip"
)

// Errors of ClientAddress. They never contain the header text: a spoofed
// x-forwarded-for is attacker input and must not be reflected into logs.
var (
	ErrBadPeer      = errors.New("iprule: peer address is not an IP address")
	ErrTooFewHops   = errors.New("iprule: x-forwarded-for has fewer entries than the configured trusted hops")
	ErrBadForwarded = errors.New("iprule: malformed x-forwarded-for entry inside the trusted hops")
	ErrBadHops      = errors.New("iprule: trusted hops must be between 0 and 16")
)

// MaxTrustedHops bounds trustedHops; no real deployment chains more proxies.
const MaxTrustedHops = 16

// ClientAddress computes the client address the policy trusts from the
// peer address (Envoy's source.address property: "ip:port", "[ipv6]:port"
// or a bare address) and the x-forwarded-for header lines in wire order.
//
// trustedHops counts the proxies in front of this one that the operator
// trusts, the peer included. The chain is every x-forwarded-for entry, left
// to right across all lines, followed by the peer; the client is the entry
// trustedHops places left of the chain's right end:
//
//	trustedHops 0: the peer (x-forwarded-for is ignored entirely)
//	trustedHops 1: the rightmost x-forwarded-for entry (written by the peer)
//	trustedHops 2: the entry left of that one, and so on
//
// Only the entries the trusted proxies wrote are parsed; what lies further
// left is whatever the client sent and is never read, so a client cannot
// choose its own address by prepending entries. When the chain is too short
// (the request bypassed a trusted proxy) or a trusted entry is malformed,
// ClientAddress fails: callers must refuse the request rather than fall back
// to a less trusted address.
//
// Entries may carry a port ("1.2.3.4:80", "[::1]:80"); IPv4-mapped IPv6
// addresses are returned as IPv4; addresses with a zone are refused.
//
// # Notes
//
// When Envoy's connection manager runs with use_remote_address: true it
// appends the peer to x-forwarded-for itself before filters run; then the
// rightmost entry is the peer and one more hop must be counted. Prefer
// Envoy's own xff_num_trusted_hops, which already sets source.address, and
// leave trustedHops at 0.
func ClientAddress(peer string, xff []string, trustedHops int) (netip.Addr, error) {
	if trustedHops < 0 || trustedHops > MaxTrustedHops {
		return netip.Addr{}, ErrBadHops
	}
	p, ok := parseHostPort(peer)
	if !ok {
		return netip.Addr{}, ErrBadPeer
	}
	if trustedHops == 0 {
		return p, nil
	}
	// Walk x-forwarded-for from the right: the last entry is hop 1.
	hop := 0
	for line := len(xff) - 1; line >= 0; line-- {
		s := xff[line]
		end := len(s)
		for end >= 0 {
			start := lastComma(s[:end]) + 1
			entry := trimOWS(s[start:end])
			hop++
			if hop == trustedHops {
				a, ok := parseHostPort(entry)
				if !ok {
					return netip.Addr{}, ErrBadForwarded
				}
				return a, nil
			}
			// A hop between the peer and the client: it was written by a
			// trusted proxy, so it must be well formed too.
			if _, ok := parseHostPort(entry); !ok {
				return netip.Addr{}, ErrBadForwarded
			}
			end = start - 1
		}
	}
	return netip.Addr{}, ErrTooFewHops
}

func lastComma(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ',' {
			return i
		}
	}
	return -1
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseHostPort accepts "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" and
// "[v6]:port". The port, when present, must be 1 to 5 digits. Zones are
// refused: a prefix never contains a zoned address, so a zone would slip
// past deny lists.
func parseHostPort(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	host := s
	if s[0] == '[' {
		end := -1
		for i := 1; i < len(s); i++ {
			if s[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return netip.Addr{}, false
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" && (rest[0] != ':' || !isPort(rest[1:])) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	colons, last := 0, -1
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			colons++
			last = i
		}
	}
	if colons == 1 { // IPv4 with port
		if !isPort(s[last+1:]) {
			return netip.Addr{}, false
		}
		host = s[:last]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return netip.Addr{}, false
		}
		return a, true
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func isPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
