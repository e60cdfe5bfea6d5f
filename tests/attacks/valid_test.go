package attacks

import (
	"net/url"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// valid is the request each hostile case breaks: every route with a
// freshly minted, correct credential. TestValidBaseline proves each one is
// forwarded, so a refusal in the hostile table is caused by the attack and
// not by a broken fixture.
func valid(e *env, route string) hostsim.Request {
	fx, now := e.fx, e.now
	r := hostsim.Request{Method: "GET", Path: "/" + route + "/x"}
	switch route {
	case "k":
		r.Headers = [][2]string{{"x-api-key", fx.Read.Key}}
	case "admin":
		r.Headers = [][2]string{{"authorization", "ApiKey " + fx.Admin.Key}}
	case "ip":
	case "both":
		r.Headers = [][2]string{{"x-api-key", fx.Read.Key}}
	case "rc":
		r.Headers = [][2]string{{"x-rolling-code-client", "billing"}, {"x-rolling-code", fx.RollingCode(now)}}
	case "st":
		r.Headers = [][2]string{{"authorization", "TmpToken " + fx.Scoped(7, "GET", "/st", 300, now)}}
	case "jwt":
		r.Headers = [][2]string{{"authorization", "Bearer " + fx.JWT(now, nil)}}
	case "az":
		r.Headers = [][2]string{{"authorization", "Bearer " + fx.Authnz(now, nil)}}
	case "sp":
		r.Headers = [][2]string{{"x-signed-payload", fx.Payload(`{"report":1}`)}}
	case "hs":
		r.Headers = fx.HTTPSig("GET", r.Path, now, nil)
	case "sess":
		r.Headers = [][2]string{{"cookie", "Token=" + fx.AnySession()}}
	case "intro":
		r.Headers = [][2]string{{"authorization", "Bearer " + fx.AnyActive()}}
	case "healthz":
		r.Path = "/healthz"
	default:
		panic("unknown route " + route)
	}
	return r
}

var routes = []string{"k", "admin", "ip", "both", "rc", "st", "jwt", "az", "sp", "hs", "sess", "intro", "healthz"}

func TestValidBaseline(t *testing.T) {
	e := newEnv(t)
	for _, route := range routes {
		for w := 0; w < 2; w++ {
			if route == "rc" && w == 1 {
				continue // single use: the same window's code is refused on the other VM (see the hostile table)
			}
			r := e.send(w, valid(e, route))
			if r.Outcome != hostsim.OutcomeForwarded {
				t.Errorf("%s on worker %d: %s, want forwarded", route, w, summary(r))
				continue
			}
			if route != "healthz" && route != "ip" && header(r.Headers, "x-tokengate-subject") == "" {
				t.Errorf("%s: forwarded without x-tokengate-subject", route)
			}
			// strip_credentials is on: the credential never reaches the upstream.
			// (A signed payload is the data itself, meant for the upstream.)
			for _, h := range r.Headers {
				if h[0] == "x-api-key" || h[0] == "authorization" || h[0] == "x-rolling-code" {
					t.Errorf("%s: credential header %s forwarded", route, h[0])
				}
			}
		}
	}
	_ = url.QueryEscape
}
