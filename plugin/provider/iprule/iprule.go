// Package iprule is the "ip_rule" provider: allow and deny lists of CIDR
// prefixes matched on the request's trusted source address.
//
// # Semantics
//
// Deny wins: an address inside any deny prefix is refused even when an
// allow prefix also contains it. When the allow list is empty every address
// that is not denied passes; when it is not empty only addresses inside one
// of its prefixes pass. A request whose source address is unknown is
// refused. Every refusal has reason address_denied (HTTP 403): the caller is
// not unauthenticated, it is calling from the wrong place.
//
// IPv4 and IPv6 are both supported. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are matched as the IPv4 address, both in the request and
// in the configuration, so one IPv4 prefix covers a client whichever socket
// family the proxy accepted it on. An IPv4 address never matches an IPv6
// prefix such as ::/0: write 0.0.0.0/0 and ::/0 to mean "everything".
//
// # Source address
//
// The filter fills provider.Request.Source from Envoy's source.address and,
// when configured, a number of trusted x-forwarded-for hops; see
// [ClientAddress], which is exported here so the filter and tests share one
// implementation of that security-sensitive step.
package iprule

import (
	"net/netip"
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type name.
const Kind = "ip_rule"

// MaxPrefixes bounds each list. Lists are merged into sorted ranges at
// start, so matching is a binary search whatever their length.
const MaxPrefixes = 4096

var (
	errUnknownSource = provider.NewError(provider.ReasonAddressDenied, "source address unknown")
	errDenied        = provider.NewError(provider.ReasonAddressDenied, "source address is on the deny list")
	errNotAllowed    = provider.NewError(provider.ReasonAddressDenied, "source address is not on the allow list")
)

// Provider is a configured IP rule. It is immutable after FromConfig.
type Provider struct {
	name    string
	subject string
	allow   rangeSet
	deny    rangeSet
}

// FromConfig builds an IP rule from its configuration object:
//
//	{"allow": ["10.0.0.0/8", "2001:db8::/32"], "deny": ["10.6.6.0/24"], "subject": "office"}
//
// At least one list must be non-empty. It records every problem on o with
// its JSON path, calls o.Done(), and returns nil when there was any.
func FromConfig(name string, o *conf.Object, _ provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{name: name}
	p.subject = o.String("subject", name)
	p.allow = newRangeSet(prefixes(o, "allow"))
	p.deny = newRangeSet(prefixes(o, "deny"))
	if p.allow.empty() && p.deny.empty() && len(o.Errs().List) == before {
		o.Fail("", "an ip_rule needs at least one prefix in allow or deny")
	}
	if p.subject == "" {
		o.Fail("subject", "must not be empty")
	}
	o.Done()
	if len(o.Errs().List) != before {
		return nil
	}
	return p
}

func prefixes(o *conf.Object, field string) []netip.Prefix {
	list := o.Strings(field)
	if len(list) > MaxPrefixes {
		o.Fail(field, "too many prefixes: at most "+strconv.Itoa(MaxPrefixes))
		return nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		pf, msg := ParsePrefix(s)
		if msg != "" {
			o.Errs().Add(o.Path(field)+"["+strconv.Itoa(i)+"]", msg)
			continue
		}
		out = append(out, pf)
	}
	return out
}

// ParsePrefix reads one CIDR prefix ("10.0.0.0/8", "2001:db8::/32") or a
// single address (taken as /32 or /128). It returns a user-facing message
// instead of an error when s is unacceptable. Prefixes with host bits set
// are refused rather than silently masked, because "10.1.2.3/8" is more
// often a typo than a wish to allow 16 million addresses. IPv4-mapped IPv6
// prefixes (::ffff:a.b.c.d/96 and longer) are returned in their IPv4 form.
func ParsePrefix(s string) (netip.Prefix, string) {
	if indexByte(s, '/') < 0 {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, strconv.Quote(s) + " is not an IP address or CIDR prefix"
		}
		if a.Zone() != "" {
			return netip.Prefix{}, strconv.Quote(s) + ": zoned addresses are not supported"
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, strconv.Quote(s) + " is not a valid CIDR prefix"
	}
	if pf.Masked() != pf {
		return netip.Prefix{}, strconv.Quote(s) + " has host bits set; did you mean " + pf.Masked().String() + "?"
	}
	// A masked prefix shorter than /96 can never keep the ::ffff marker,
	// so only /96 and longer reach this branch.
	if a := pf.Addr(); a.Is4In6() {
		pf = netip.PrefixFrom(a.Unmap(), pf.Bits()-96)
	}
	return pf, ""
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider: an address has no challenge.
func (p *Provider) Challenge() string { return "" }

// Verify implements provider.Provider. It never returns ErrNoCredential:
// every request has a source, and an unknown one is refused.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	a := req.ClientAddr()
	if !a.IsValid() {
		return provider.Identity{}, errUnknownSource
	}
	// A zone or an IPv4-mapped form would make Prefix.Contains miss a deny
	// prefix; normalise before matching.
	a = a.WithZone("").Unmap()
	if p.deny.contains(a) {
		return provider.Identity{}, errDenied
	}
	if p.allow.empty() || p.allow.contains(a) {
		return provider.Identity{Subject: p.subject}, nil
	}
	return provider.Identity{}, errNotAllowed
}
