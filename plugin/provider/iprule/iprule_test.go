package iprule

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

func TestClientAddress(t *testing.T) {
	cases := []struct {
		name    string
		peer    string
		xff     []string
		hops    int
		want    string
		wantErr error
	}{
		{"peer only, v4 with port", "10.1.2.3:51234", nil, 0, "10.1.2.3", nil},
		{"peer only, v6 bracketed", "[2001:db8::1]:443", nil, 0, "2001:db8::1", nil},
		{"peer bare v4", "10.1.2.3", nil, 0, "10.1.2.3", nil},
		{"peer bare v6", "2001:db8::1", nil, 0, "2001:db8::1", nil},
		{"peer v4-mapped is unmapped", "[::ffff:192.0.2.7]:80", nil, 0, "192.0.2.7", nil},
		{"hops 0 ignores spoofed xff", "10.1.2.3:1", []string{"1.1.1.1"}, 0, "10.1.2.3", nil},
		{"hops 1 takes rightmost", "10.0.0.1:1", []string{"203.0.113.9"}, 1, "203.0.113.9", nil},
		{"hops 1, client prepends a spoofed entry", "10.0.0.1:1", []string{"6.6.6.6, 203.0.113.9"}, 1, "203.0.113.9", nil},
		{"hops 1, spoofed second header line", "10.0.0.1:1", []string{"6.6.6.6", "203.0.113.9"}, 1, "203.0.113.9", nil},
		{"hops 2 across lines", "10.0.0.1:1", []string{"6.6.6.6, 198.51.100.4", "10.0.0.2"}, 2, "198.51.100.4", nil},
		{"hops 2 within a line", "10.0.0.1:1", []string{"198.51.100.4,10.0.0.2"}, 2, "198.51.100.4", nil},
		{"spoofed garbage left of the trusted part is not read", "10.0.0.1:1", []string{"<script>, unknown, 203.0.113.9"}, 1, "203.0.113.9", nil},
		{"entry with port", "10.0.0.1:1", []string{"203.0.113.9:4711"}, 1, "203.0.113.9", nil},
		{"v6 entry bracketed with port", "10.0.0.1:1", []string{"[2001:db8::9]:4711"}, 1, "2001:db8::9", nil},
		{"tabs and spaces trimmed", "10.0.0.1:1", []string{"1.2.3.4 ,\t203.0.113.9 "}, 1, "203.0.113.9", nil},
		{"too few hops: no header", "10.0.0.1:1", nil, 1, "", ErrTooFewHops},
		{"too few hops: client bypassed a proxy", "10.0.0.1:1", []string{"203.0.113.9"}, 2, "", ErrTooFewHops},
		{"malformed trusted entry", "10.0.0.1:1", []string{"unknown"}, 1, "", ErrBadForwarded},
		{"empty trusted entry", "10.0.0.1:1", []string{"1.2.3.4,"}, 1, "", ErrBadForwarded},
		{"empty header line", "10.0.0.1:1", []string{""}, 1, "", ErrBadForwarded},
		{"malformed intermediate hop", "10.0.0.1:1", []string{"1.2.3.4, bogus"}, 2, "", ErrBadForwarded},
		{"zoned entry refused", "10.0.0.1:1", []string{"fe80::1%eth0"}, 1, "", ErrBadForwarded},
		{"zoned peer refused", "[fe80::1%eth0]:80", nil, 0, "", ErrBadPeer},
		{"peer with bad port", "10.1.2.3:99999", nil, 0, "", ErrBadPeer},
		{"peer v4 in brackets", "[10.1.2.3]:80", nil, 0, "", ErrBadPeer},
		{"peer empty", "", nil, 0, "", ErrBadPeer},
		{"peer hostname", "localhost:80", nil, 0, "", ErrBadPeer},
		{"peer unclosed bracket", "[::1:80", nil, 0, "", ErrBadPeer},
		{"bad peer even with hops", "nope", []string{"1.2.3.4"}, 1, "", ErrBadPeer},
		{"negative hops", "10.1.2.3:1", nil, -1, "", ErrBadHops},
		{"too many hops", "10.1.2.3:1", nil, MaxTrustedHops + 1, "", ErrBadHops},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ClientAddress(c.peer, c.xff, c.hops)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || got.IsValid() {
					t.Fatalf("got (%v, %v), want error %v", got, err, c.wantErr)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(c.want) {
				t.Fatalf("got (%v, %v), want %s", got, err, c.want)
			}
		})
	}
}

func build(t *testing.T, doc string) (provider.Provider, string) {
	t.Helper()
	o, errs := conf.Root([]byte(doc), nil)
	p := FromConfig("office", o, provider.Deps{})
	if err := errs.Err(); err != nil {
		if p != nil {
			t.Fatal("provider returned despite config errors")
		}
		return nil, err.Error()
	}
	if p == nil {
		t.Fatal("nil provider without errors")
	}
	return p, ""
}

func TestFromConfigErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"empty", `{}`, "an ip_rule needs at least one prefix in allow or deny"},
		{"bad cidr", `{"allow":["10.0.0.0/8","10.0.0.0/33"]}`, `allow[1]: "10.0.0.0/33" is not a valid CIDR prefix`},
		{"not an address", `{"deny":["example.com"]}`, `deny[0]: "example.com" is not an IP address or CIDR prefix`},
		{"host bits", `{"allow":["10.1.2.3/8"]}`, `allow[0]: "10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?`},
		{"short mapped prefix", `{"allow":["::ffff:0:0/80"]}`, `allow[0]: "::ffff:0:0/80" has host bits set; did you mean ::/80?`},
		{"zone", `{"allow":["fe80::1%eth0"]}`, `allow[0]: "fe80::1%eth0": zoned addresses are not supported`},
		{"wrong type", `{"allow":"10.0.0.0/8"}`, "allow: must be an array of strings, not a string"},
		{"unknown field", `{"allow":["10.0.0.0/8"],"alow":[]}`, "alow: unknown field"},
		{"empty subject", `{"allow":["10.0.0.0/8"],"subject":""}`, "subject: must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := build(t, c.doc)
			if got != c.want {
				t.Fatalf("errors:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	p, msg := build(t, `{
		"allow": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "::ffff:198.51.100.0/120"],
		"deny":  ["10.6.6.0/24", "2001:db8:bad::/48"]
	}`)
	if p == nil {
		t.Fatal(msg)
	}
	denyOnly, msg := build(t, `{"deny": ["203.0.113.0/24"], "subject": "internet"}`)
	if denyOnly == nil {
		t.Fatal(msg)
	}
	cases := []struct {
		name   string
		p      provider.Provider
		source netip.Addr
		want   provider.Reason
		detail string
	}{
		{"allowed v4", p, netip.MustParseAddr("10.1.2.3"), provider.ReasonOK, ""},
		{"allowed v6", p, netip.MustParseAddr("2001:db8::5"), provider.ReasonOK, ""},
		{"allowed single address", p, netip.MustParseAddr("192.0.2.7"), provider.ReasonOK, ""},
		{"neighbour of single address", p, netip.MustParseAddr("192.0.2.8"), provider.ReasonAddressDenied, "source address is not on the allow list"},
		{"mapped config prefix matches v4", p, netip.MustParseAddr("198.51.100.9"), provider.ReasonOK, ""},
		{"mapped request matches v4 prefix", p, netip.MustParseAddr("::ffff:10.1.2.3"), provider.ReasonOK, ""},
		{"deny wins over allow", p, netip.MustParseAddr("10.6.6.6"), provider.ReasonAddressDenied, "source address is on the deny list"},
		{"deny wins for mapped form", p, netip.MustParseAddr("::ffff:10.6.6.6"), provider.ReasonAddressDenied, "source address is on the deny list"},
		{"deny wins for zoned form", p, netip.MustParseAddr("2001:db8:bad::1%eth0"), provider.ReasonAddressDenied, "source address is on the deny list"},
		{"deny v6", p, netip.MustParseAddr("2001:db8:bad::1"), provider.ReasonAddressDenied, "source address is on the deny list"},
		{"not allowed", p, netip.MustParseAddr("172.16.0.1"), provider.ReasonAddressDenied, "source address is not on the allow list"},
		{"unknown source", p, netip.Addr{}, provider.ReasonAddressDenied, "source address unknown"},
		{"deny-only passes others", denyOnly, netip.MustParseAddr("8.8.8.8"), provider.ReasonOK, ""},
		{"deny-only refuses listed", denyOnly, netip.MustParseAddr("203.0.113.1"), provider.ReasonAddressDenied, "source address is on the deny list"},
		{"deny-only unknown source", denyOnly, netip.Addr{}, provider.ReasonAddressDenied, "source address unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := c.p.Verify(&provider.Request{Source: c.source})
			if got := provider.ReasonOf(err); got != c.want {
				t.Fatalf("reason = %s, want %s (err %v)", got, c.want, err)
			}
			if err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.Detail != c.detail {
					t.Fatalf("detail = %v, want %q", err, c.detail)
				}
				if id.Subject != "" {
					t.Fatal("identity returned with a refusal")
				}
				if provider.ReasonOf(err).Status() != 403 {
					t.Fatal("address refusals must be 403")
				}
				return
			}
			if id.Subject == "" {
				t.Fatal("no subject on success")
			}
		})
	}
	if id, _ := denyOnly.Verify(&provider.Request{Source: netip.MustParseAddr("8.8.8.8")}); id.Subject != "internet" {
		t.Fatalf("subject = %q, want the configured one", id.Subject)
	}
	if id, _ := p.Verify(&provider.Request{Source: netip.MustParseAddr("10.1.1.1")}); id.Subject != "office" {
		t.Fatalf("subject = %q, want the provider name by default", id.Subject)
	}
	if p.Kind() != "ip_rule" || p.Name() != "office" || p.Challenge() != "" {
		t.Fatal("Kind/Name/Challenge")
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	p, _ := build(t, `{"allow":["10.0.0.0/8","2001:db8::/32"],"deny":["10.6.6.0/24"]}`)
	reqs := []*provider.Request{
		{Source: netip.MustParseAddr("10.1.2.3")},
		{Source: netip.MustParseAddr("10.6.6.6")},
		{Source: netip.MustParseAddr("::ffff:172.16.0.1")},
	}
	for _, r := range reqs {
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Verify(r) }); n != 0 {
			t.Fatalf("Verify(%v) allocates %v times", r.Source, n)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	o, _ := conf.Root([]byte(`{"allow":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","2001:db8::/32"],"deny":["10.6.6.0/24"]}`), nil)
	p := FromConfig("b", o, provider.Deps{})
	req := &provider.Request{Source: netip.MustParseAddr("2001:db8::77")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Verify(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientAddress(b *testing.B) {
	xff := []string{"6.6.6.6, 203.0.113.9, 10.0.0.2"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ClientAddress("10.0.0.1:5555", xff, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func requestFrom(a string) *provider.Request {
	return &provider.Request{Source: netip.MustParseAddr(a)}
}
