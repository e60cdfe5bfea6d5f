package oracle

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/token"
	"github.com/tokengate/tokengate/tests/attacks/fixture"
)

// step is one request of the soak and what happens before it.
type step struct {
	kind         string // route/variant, counted in the results
	req          hostsim.Request
	advance      time.Duration // clock step before the request
	fault        string        // service mode for this request ("" healthy)
	faultCluster string
}

// gen produces a seeded, reproducible mix.
type gen struct {
	fx  *fixture.Fixture
	rnd *rand.Rand
	// reuse holds recently sent credentials (as whole requests) so replays
	// and caches are exercised.
	reuse []hostsim.Request
}

func newGen(fx *fixture.Fixture, seed uint64) *gen {
	return &gen{fx: fx, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var routes = []string{"k", "admin", "ip", "both", "rc", "st", "jwt", "az", "sp", "hs", "sess", "intro", "healthz", "rl", "none"}

var variants = []string{"valid", "valid", "valid", "missing", "flip", "truncate", "duplicate", "path", "source", "time-past", "time-future", "oversize", "replay", "xff"}

var sources = []string{fixture.ClientIP, "10.66.1.1", "192.0.2.1", "10.9.0.5", "[2001:db8::7]", "[::ffff:10.66.0.9]"}

func (g *gen) next(now time.Time) step {
	r := g.rnd
	var s step
	// Mostly small steps (rate limits refill, rolling windows turn), now
	// and then a jump.
	switch x := r.IntN(100); {
	case x < 70:
		s.advance = time.Duration(r.IntN(300)) * time.Millisecond
	case x < 98:
		s.advance = time.Duration(r.IntN(5000)) * time.Millisecond
	default:
		s.advance = time.Duration(r.IntN(600)) * time.Second
	}
	route := routes[r.IntN(len(routes))]
	if route == "rl" && r.IntN(2) == 0 {
		s.advance = 0 // bursts, so the rate limit (0.01/s, burst 2) refuses some
	}
	now = now.Add(s.advance)
	variant := variants[r.IntN(len(variants))]
	s.kind = route + "/" + variant
	if variant == "replay" && len(g.reuse) > 0 {
		s.req = g.reuse[r.IntN(len(g.reuse))]
		s.req.Headers = append([][2]string(nil), s.req.Headers...)
		return s
	}
	mint := now
	switch variant {
	case "time-past":
		mint = now.Add(-time.Duration(1+r.IntN(400)) * time.Second)
	case "time-future":
		mint = now.Add(time.Duration(1+r.IntN(120)) * time.Second)
	}
	req := g.valid(route, mint)
	switch variant {
	case "missing":
		req.Headers = nil
	case "flip":
		if len(req.Headers) > 0 {
			i := r.IntN(len(req.Headers))
			v := []byte(req.Headers[i][1])
			if len(v) > 0 {
				j := r.IntN(len(v))
				v[j] = "aZ09_-=.!?"[r.IntN(10)]
				req.Headers[i][1] = string(v)
			}
		}
	case "truncate":
		if len(req.Headers) > 0 {
			i := r.IntN(len(req.Headers))
			v := req.Headers[i][1]
			req.Headers[i][1] = v[:r.IntN(len(v)+1)]
		}
	case "duplicate":
		if len(req.Headers) > 0 {
			req.Headers = append(req.Headers, req.Headers[r.IntN(len(req.Headers))])
		}
	case "path":
		req.Path = []string{"/k/.." + req.Path, req.Path + "/%2e%2e/admin", "/" + strings.ToUpper(req.Path[1:]),
			req.Path + ";p=1", req.Path + "%2fx", "//" + req.Path, req.Path + "?TOKEN=x&x-api-key=y", req.Path + "/%ff"}[r.IntN(8)]
	case "source":
		req.SourceAddress = sources[r.IntN(len(sources))] + ":4000"
	case "xff":
		req.Headers = append(req.Headers, [2]string{"x-forwarded-for", sources[r.IntN(len(sources))]})
	case "oversize":
		if len(req.Headers) > 0 {
			i := r.IntN(len(req.Headers))
			req.Headers[i][1] += strings.Repeat("A", 200+r.IntN(10000))
		}
	}
	// Faults: now and then an auth service answers 5xx or garbage.
	if (route == "sess" || route == "intro") && r.IntN(20) == 0 {
		s.fault = []string{"500", "garbage"}[r.IntN(2)]
		s.faultCluster = map[string]string{"sess": "auth", "intro": "idp"}[route]
		s.kind += "+fault"
	}
	s.req = req
	if variant == "valid" && len(g.reuse) < 64 {
		g.reuse = append(g.reuse, req)
	} else if variant == "valid" {
		g.reuse[r.IntN(len(g.reuse))] = req
	}
	return s
}

// valid mints a correct request for route at instant mint.
func (g *gen) valid(route string, mint time.Time) hostsim.Request {
	fx := g.fx
	req := hostsim.Request{Method: "GET", Path: "/" + route + "/x", Authority: fixture.Authority, SourceAddress: fixture.ClientIP + ":4000"}
	switch route {
	case "k", "both", "rl":
		req.Headers = [][2]string{{"x-api-key", []string{fx.Read.Key, fx.Admin.Key, fx.Old.Key, fx.Bound.Key}[g.rnd.IntN(4)]}}
	case "admin":
		req.Headers = [][2]string{{"authorization", "ApiKey " + []string{fx.Read.Key, fx.Admin.Key}[g.rnd.IntN(2)]}}
	case "rc":
		req.Headers = [][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", fx.RollingCode(mint)}}
	case "st":
		req.Headers = [][2]string{{"authorization", "TmpToken " + fx.Scoped(int64(6+g.rnd.IntN(3)), "GET", "/st", 300, mint)}}
	case "jwt":
		req.Headers = [][2]string{{"authorization", "Bearer " + fx.JWT(mint, nil)}}
	case "az":
		req.Headers = [][2]string{{"authorization", "Bearer " + fx.Authnz(mint, nil)}}
	case "sp":
		req.Headers = [][2]string{{"x-signed-payload", fx.Payload(`{"n":` + itoa(g.rnd.IntN(1000)) + `}`)}}
	case "hs":
		req.Headers = fx.HTTPSig("GET", req.Path, mint, func(s *token.HTTPSigner) { s.Nonce = g.rnd.IntN(2) == 0 })
	case "sess":
		tok := fx.AnySession()
		if g.rnd.IntN(4) == 0 {
			tok = "not-a-session-" + itoa(g.rnd.IntN(100))
		}
		req.Headers = [][2]string{{"cookie", "Token=" + tok}}
	case "intro":
		tok := fx.AnyActive()
		if g.rnd.IntN(4) == 0 {
			tok = "not-active-" + itoa(g.rnd.IntN(100))
		}
		req.Headers = [][2]string{{"authorization", "Bearer " + tok}}
	case "healthz":
		req.Path = "/healthz"
	case "none":
		req.Path = "/nowhere"
	}
	return req
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
