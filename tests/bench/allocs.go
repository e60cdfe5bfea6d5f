package bench

import (
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// AllocCase is one shared-secret verifier under the zero-allocation target.
type AllocCase struct {
	Scheme, Provider string
	Req              hostsim.Request
	// KnownMiss marks a verifier that misses the target today (the report
	// says why and what would close it).
	KnownMiss bool
}

// AllocCases are the native verifiers of the shared-secret schemes.
func (s *Suite) AllocCases() []AllocCase {
	w := s.W
	return []AllocCase{
		{"api-key", "keys", w.apiKeyReq(), false},
		{"rolling-hmac", "codes", w.rollingReq(T0), false},
		{"rolling-m2m", "m2m", w.m2mReq(T0), false},
		{"scoped-token", "tmp", w.scopedReq(T0), false},
		{"signed-payload", "sp", w.payloadReq(), false},
		{"authnzerver-key", "az", w.authnzReq(T0), false},
		{"httpsig-hmac", "hs_hmac", w.httpSigReq("/hsh/x", "partner", w.HSSecret, false, T0), false},
	}
}

// VerifierAllocs is the average number of heap allocations of one
// verification of c's valid credential (testing.AllocsPerRun; the request
// view is built once, as the filter builds it once per request). err is
// non-nil when the credential is refused.
func (s *Suite) VerifierAllocs(c AllocCase) (float64, error) {
	p := s.native[c.Provider]
	pr := NativeRequest(c.Req, T0)
	if _, err := p.Verify(&pr); err != nil {
		return 0, err
	}
	var failed error
	n := testing.AllocsPerRun(200, func() {
		if _, err := p.Verify(&pr); err != nil {
			failed = err
		}
	})
	return n, failed
}
