package provider

// Reason is a stable, machine-readable refusal code. It appears in the JSON
// body of a refusal, in the denial log line and as a metric tag, so values
// never change once released.
type Reason string

// Reasons shared by every provider. A provider uses the most specific one.
const (
	ReasonOK              Reason = "ok"
	ReasonMissing         Reason = "credential_missing"    // no credential of this kind
	ReasonMalformed       Reason = "credential_malformed"  // cannot be parsed
	ReasonOversize        Reason = "credential_oversize"   // longer than the configured limit
	ReasonAmbiguous       Reason = "credential_ambiguous"  // presented more than once, or conflicting copies
	ReasonUnknown         Reason = "credential_unknown"    // well formed but not known (no such key, client, session)
	ReasonBadSignature    Reason = "bad_signature"         // MAC or signature does not verify
	ReasonAlgorithm       Reason = "algorithm_not_allowed" // algorithm refused for this key
	ReasonExpired         Reason = "expired"               // past its lifetime
	ReasonNotYetValid     Reason = "not_yet_valid"         // before its start, beyond the allowed skew
	ReasonReplayed        Reason = "replayed"              // single-use value seen before
	ReasonReplayStoreFull Reason = "replay_store_full"     // cannot remember another nonce now: refused, never forgotten
	ReasonRevoked         Reason = "revoked"               // withdrawn by the issuer
	ReasonAudience        Reason = "audience_mismatch"     // aud / audience claim does not match
	ReasonIssuer          Reason = "issuer_mismatch"       // iss claim does not match
	ReasonClaims          Reason = "claims_invalid"        // a required claim is missing or of the wrong type
	ReasonBinding         Reason = "binding_mismatch"      // bound address or user agent differs
	ReasonScope           Reason = "insufficient_scope"    // authenticated, but not for this method/path/scope
	ReasonRole            Reason = "role_not_allowed"      // authenticated, but the role may not use this rule
	ReasonAddressDenied   Reason = "address_denied"        // source address refused by an IP rule
	ReasonRateLimited     Reason = "rate_limited"          // token bucket empty
	ReasonNoRule          Reason = "no_matching_rule"      // default deny
	ReasonCalloutFailed   Reason = "callout_failed"        // auth service answered badly or not at all
	ReasonCalloutTimeout  Reason = "callout_timeout"       // auth service did not answer in time
	ReasonBadRequest      Reason = "bad_request"           // request itself is unusable (bad path, smuggling attempt)
	ReasonInternal        Reason = "internal_error"        // a bug or a broken invariant; fail closed
)

// Status is the HTTP status a refusal with this reason gets.
func (r Reason) Status() int {
	switch r {
	case ReasonOK:
		return 200
	case ReasonScope, ReasonRole, ReasonAddressDenied, ReasonNoRule:
		return 403
	case ReasonRateLimited:
		return 429
	case ReasonBadRequest:
		return 400
	case ReasonCalloutFailed, ReasonCalloutTimeout, ReasonReplayStoreFull:
		return 503
	case ReasonInternal:
		return 500
	default:
		return 401
	}
}

// Error is a refusal: a reason and a short operator-facing detail. Detail
// never contains secrets, keys or tokens.
type Error struct {
	Reason Reason
	Detail string
}

// NewError returns an *Error. Declare errors once as package variables so
// the request path does not allocate:
//
//	var errExpired = provider.NewError(provider.ReasonExpired, "token is past max_age")
func NewError(r Reason, detail string) *Error { return &Error{Reason: r, Detail: detail} }

func (e *Error) Error() string {
	if e.Detail == "" {
		return string(e.Reason)
	}
	return string(e.Reason) + ": " + e.Detail
}

// Is makes errors.Is match any *Error with the same Reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Detail == "" || t.Detail == e.Detail)
}

// ErrNoCredential is returned by Verify when the request carries no
// credential of the provider's kind, so the next provider may be tried.
var ErrNoCredential = NewError(ReasonMissing, "")

// ReasonOf extracts the Reason of err: ReasonOK for nil, the Reason of an
// *Error, and ReasonInternal for anything else (fail closed).
func ReasonOf(err error) Reason {
	if err == nil {
		return ReasonOK
	}
	if e, ok := err.(*Error); ok {
		return e.Reason
	}
	return ReasonInternal
}
