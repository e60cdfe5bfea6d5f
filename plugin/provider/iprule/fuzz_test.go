package iprule

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// FuzzClientAddress checks that any header text gives either an error and
// no address, or a valid, unzoned, unmapped address that appears in the
// input (the function never invents an address).
func FuzzClientAddress(f *testing.F) {
	f.Add("10.0.0.1:1", "6.6.6.6, 203.0.113.9", 1)
	f.Add("[2001:db8::1]:443", "[2001:db8::9]:4711,10.0.0.2", 2)
	f.Add("10.1.2.3", "", 0)
	f.Add("[::ffff:1.2.3.4]:1", "fe80::1%eth0", 1)
	f.Add("1.2.3.4:65536", ",,,", 3)
	f.Fuzz(func(t *testing.T, peer, xff string, hops int) {
		lines := strings.Split(xff, "\n")
		a, err := ClientAddress(peer, lines, hops)
		if err != nil {
			if a.IsValid() {
				t.Fatal("address returned with an error")
			}
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("bad address %v", a)
		}
		if hops == 0 {
			if p, ok := parseHostPort(peer); !ok || p != a {
				t.Fatalf("hops 0 returned %v, not the peer %q", a, peer)
			}
		}
	})
}

// FuzzParsePrefix checks that an accepted prefix is canonical (masked,
// unmapped) and that its text parses back to itself.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::/32", "::ffff:198.51.100.0/120", "192.0.2.7", "10.1.2.3/8", "::/0", "fe80::1%eth0", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pf, msg := ParsePrefix(s)
		if msg != "" {
			if pf.IsValid() {
				t.Fatal("prefix returned with an error")
			}
			return
		}
		if !pf.IsValid() || pf.Masked() != pf || pf.Addr().Is4In6() || pf.Addr().Zone() != "" {
			t.Fatalf("non-canonical prefix %v from %q", pf, s)
		}
		back, msg := ParsePrefix(pf.String())
		if msg != "" || back != pf {
			t.Fatalf("round trip %q -> %v -> (%v, %q)", s, pf, back, msg)
		}
	})
}

// FuzzFromConfig: any document gives a provider and no errors, or errors
// and nil; an accepted rule never panics on Verify and, when the document
// denies everything, refuses every address.
func FuzzFromConfig(f *testing.F) {
	f.Add(`{"allow":["10.0.0.0/8","2001:db8::/32"],"deny":["10.6.6.0/24"]}`, "10.6.6.6")
	f.Add(`{"deny":["0.0.0.0/0","::/0"]}`, "::1")
	f.Add(`{"allow":["::ffff:198.51.100.0/120"],"subject":"x"}`, "198.51.100.9")
	f.Add(`{"allow":[]}`, "1.2.3.4")
	f.Fuzz(func(t *testing.T, doc, addr string) {
		o, errs := conf.Root([]byte(doc), nil)
		before := len(errs.List) // a malformed document is the reader's error, not ours
		p := FromConfig("f", o, provider.Deps{})
		if (p == nil) != (len(errs.List) > before) {
			t.Fatalf("provider %v with errors %v", p, errs.Err())
		}
		if p == nil {
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		_, verr := p.Verify(&provider.Request{Source: a})
		if strings.Contains(doc, `"deny":["0.0.0.0/0","::/0"]`) && verr == nil {
			t.Fatalf("%v admitted by a deny-everything rule", a)
		}
	})
}
