package policy

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Kind says why a request was allowed.
type Kind uint8

// Kinds of allowed requests.
const (
	KindAuthenticated Kind = iota + 1 // providers verified a credential
	KindAnonymous                     // the rule allows anonymous access
	KindPreflight                     // a CORS preflight let through by the rule
)

// Verdict is the result of an evaluation.
type Verdict struct {
	// Allow is true when the request goes upstream (also for shadow denials).
	Allow bool
	// Shadow marks a denial that was let through because the rule is in
	// shadow mode; Reason and Err say what would have been refused.
	Shadow bool
	Kind   Kind
	// Rule is the matched rule, nil when none matched (or the path was refused).
	Rule *Rule
	// Identity is the primary identity: the AnyOf winner, else the first
	// AllOf identity with a subject. Provider is filled in.
	Identity provider.Identity
	// Headers are the extra upstream headers of every verified provider.
	Headers []provider.Header
	// Verified lists the providers that verified, in evaluation order.
	Verified []provider.Provider
	// Reason is ReasonOK or the refusal reason; Err carries its detail.
	Reason provider.Reason
	Err    error
	// Provider is the configured name of the provider the refusal came
	// from, or "" (no rule, requirements on a rule, rate limits).
	Provider string
	// RetryAfter is the Retry-After seconds of a rate-limit refusal.
	RetryAfter int64
}

// Status is the HTTP status of a refusal (200 when allowed).
func (v *Verdict) Status() int {
	if v.Allow && !v.Shadow {
		return 200
	}
	return v.Reason.Status()
}

// Evaluation is one request's way through the policy. It is not safe for
// concurrent use and belongs to one HTTP context.
type Evaluation struct {
	pol      *Policy
	req      *provider.Request
	rule     *Rule
	seq      []provider.Provider // AllOf then AnyOf
	step     int
	pending  *provider.NeedCallout
	callouts int
	done     bool
	started  bool
	anyOK    bool
	anyErr   error
	anyProv  string
	v        Verdict
	// Backing arrays for the verdict's slices in the common case (few
	// providers per rule), so evaluation allocates less.
	verifiedBuf [4]provider.Provider
	headersBuf  [4]provider.Header
}

var (
	errNoRule        = provider.NewError(provider.ReasonNoRule, "no rule matches the request")
	errScope         = provider.NewError(provider.ReasonScope, "required scopes missing")
	errClaim         = provider.NewError(provider.ReasonScope, "required claim values missing")
	errRole          = provider.NewError(provider.ReasonRole, "role not allowed by the rule")
	errRateLimited   = provider.NewError(provider.ReasonRateLimited, "rate limit exceeded")
	errTooManyCalls  = provider.NewError(provider.ReasonCalloutFailed, "too many callouts for one request")
	errNoLimiter     = provider.NewError(provider.ReasonInternal, "rate limit configured without a limiter")
	errBadMethod     = provider.NewError(provider.ReasonBadRequest, "missing :method")
	errNoCredentials = provider.ErrNoCredential
)

// Start begins evaluating req: it normalises req.RawPath into req.Path and
// req.Query, matches a rule and asks providers until it has a verdict or
// needs a callout. req must stay alive and unchanged until the evaluation
// is done (providers may keep pointers into it across a callout).
//
// Start ignores Rule.BufferBody; callers that can buffer bodies use Begin,
// WantsBody and Run instead.
func (p *Policy) Start(req *provider.Request) *Evaluation {
	e := p.Begin(req)
	e.Run()
	return e
}

// Begin normalises and matches like Start but does not ask providers yet,
// so the caller can first buffer the body when WantsBody says so, then
// call Run.
func (p *Policy) Begin(req *provider.Request) *Evaluation {
	e := &Evaluation{}
	p.BeginInto(e, req)
	return e
}

// BeginInto is Begin writing into e, which is reset first, so a caller
// that owns storage for one evaluation per request allocates none.
func (p *Policy) BeginInto(e *Evaluation, req *provider.Request) {
	*e = Evaluation{pol: p, req: req}
	p.begin(e, req)
}

func (p *Policy) begin(e *Evaluation, req *provider.Request) {
	rawPath, query := SplitPath(req.RawPath)
	req.Query = query
	path, err := NormalisePath(rawPath, p.opts.FoldPathCase)
	if err != nil {
		e.finish(false, err, "")
		return
	}
	req.Path = path
	if req.Method == "" {
		e.finish(false, errBadMethod, "")
		return
	}
	host := HostOf(req.Authority)
	method := req.Method
	preflight := false
	if method == "OPTIONS" {
		if acrm, n := req.Header("access-control-request-method"); n == 1 && acrm != "" {
			if _, n := req.Header("origin"); n > 0 {
				preflight, method = true, acrm
			}
		}
	}
	rule, _ := p.Match(host, method, path)
	if rule == nil {
		e.finish(false, errNoRule, "")
		return
	}
	e.rule, e.v.Rule = rule, rule
	switch {
	case preflight && rule.CORSPreflight:
		e.v.Kind = KindPreflight
		e.finish(true, nil, "")
		return
	case rule.Anonymous:
		e.v.Kind = KindAnonymous
		e.limitThenAllow()
		return
	}
	e.v.Kind = KindAuthenticated
	e.seq = rule.Providers()
	e.v.Verified = e.verifiedBuf[:0]
	e.v.Headers = e.headersBuf[:0]
}

// WantsBody reports whether the matched rule's providers need the request
// body (Rule.BufferBody) before Run.
func (e *Evaluation) WantsBody() bool {
	return !e.done && !e.started && e.rule != nil && e.rule.BufferBody
}

// Run asks the providers (once; later calls do nothing).
func (e *Evaluation) Run() {
	if e.done || e.started {
		return
	}
	e.started = true
	e.run(nil, nil)
}

// Done reports whether the verdict is final.
func (e *Evaluation) Done() bool { return e.done }

// Callout returns the call to make before evaluation can go on, or nil.
func (e *Evaluation) Callout() *provider.Callout {
	if e.pending == nil {
		return nil
	}
	return &e.pending.Call
}

// Resume hands the callout response (a zero response when the call failed
// or timed out) to the waiting provider and continues the evaluation.
func (e *Evaluation) Resume(resp *provider.CalloutResponse) {
	if e.pending == nil || e.done {
		return
	}
	n := e.pending
	e.pending = nil
	if resp == nil {
		resp = &provider.CalloutResponse{}
	}
	id, err := n.Resume(resp)
	e.run(&id, err)
}

// Verdict returns the final verdict; valid once Done.
func (e *Evaluation) Verdict() *Verdict { return &e.v }

// Rule returns the matched rule or nil.
func (e *Evaluation) Rule() *Rule { return e.rule }

// run asks providers from e.step on. When resumed, (id, err) is the answer
// of the provider at e.step.
func (e *Evaluation) run(resumedID *provider.Identity, resumedErr error) {
	allN := len(e.rule.AllOf)
	for e.step < len(e.seq) {
		p := e.seq[e.step]
		var id provider.Identity
		var err error
		if resumedID != nil {
			id, err = *resumedID, resumedErr
			resumedID = nil
		} else {
			id, err = p.Verify(e.req)
		}
		if nc, ok := err.(*provider.NeedCallout); ok {
			e.callouts++
			if e.callouts > e.pol.opts.MaxCallouts || nc == nil || nc.Resume == nil {
				e.finish(false, errTooManyCalls, p.Name())
				return
			}
			e.pending = nc
			return
		}
		if e.step < allN {
			if err != nil {
				e.finish(false, err, p.Name())
				return
			}
			e.verified(p, id, false)
			e.step++
			continue
		}
		// AnyOf member.
		if err == nil {
			e.anyOK = true
			e.verified(p, id, true)
			break
		}
		if e.anyErr == nil && provider.ReasonOf(err) != provider.ReasonMissing {
			e.anyErr, e.anyProv = err, p.Name()
		}
		e.step++
	}
	if allN < len(e.seq) && !e.anyOK {
		if e.anyErr != nil {
			e.finish(false, e.anyErr, e.anyProv)
		} else {
			e.finish(false, errNoCredentials, "")
		}
		return
	}
	e.step = len(e.seq)
	if !e.checkRequirements() {
		return
	}
	e.limitThenAllow()
}

func (e *Evaluation) verified(p provider.Provider, id provider.Identity, fromAnyOf bool) {
	id.Provider = p.Name()
	e.v.Verified = append(e.v.Verified, p)
	e.v.Headers = append(e.v.Headers, id.Headers...)
	if fromAnyOf || e.v.Identity.Provider == "" || (e.v.Identity.Subject == "" && id.Subject != "") {
		e.v.Identity = id
	}
}

// checkRequirements refuses a caller whose identity lacks the rule's scopes,
// role or claims. The refusal names the provider that identified the
// caller, so metrics and logs say whose credential fell short.
func (e *Evaluation) checkRequirements() bool {
	r, id := e.rule, &e.v.Identity
	if !r.Scopes.satisfiedBy(id.Scopes) {
		e.finish(false, errScope, id.Provider)
		return false
	}
	if len(r.Roles) > 0 && (id.Role == "" || !contains(r.Roles, id.Role)) {
		e.finish(false, errRole, id.Provider)
		return false
	}
	for i := range r.Claims {
		c := &r.Claims[i]
		if !c.satisfiedBy(id.Claims[c.Claim]) {
			e.finish(false, errClaim, id.Provider)
			return false
		}
	}
	return true
}

func (e *Evaluation) limitThenAllow() {
	rl := e.rule.RateLimit
	if rl == nil {
		e.finish(true, nil, "")
		return
	}
	if e.pol.opts.Limiter == nil {
		e.finish(false, errNoLimiter, "")
		return
	}
	ok, retry := e.pol.opts.Limiter.Take(e.limitKey(rl.By), rl.PerSecond, rl.Burst, e.req.Now)
	if !ok {
		e.v.RetryAfter = retry
		e.finish(false, errRateLimited, e.v.Identity.Provider)
		return
	}
	e.finish(true, nil, "")
}

// limitKey names the bucket: rule name, a kind letter, then the key.
func (e *Evaluation) limitKey(by KeyBy) string {
	id := &e.v.Identity
	switch by {
	case ByCredential:
		if len(e.v.Verified) > 0 {
			if s, ok := findProvider(e.v.Verified, id.Provider).(provider.Stripper); ok {
				if k := credentialHash(s, e.req); k != "" {
					return e.rule.Name + "|c|" + id.Provider + "|" + k
				}
			}
		}
		fallthrough
	case BySubject:
		return e.rule.Name + "|s|" + id.Provider + "|" + id.Subject
	default:
		if e.pol.opts.SourceKey != nil {
			return e.rule.Name + "|a|" + e.pol.opts.SourceKey(e.req.ClientAddr())
		}
		a := e.req.ClientAddr().Unmap()
		if !a.IsValid() {
			return e.rule.Name + "|a|unknown"
		}
		if a.Is6() {
			// One host or customer usually holds a whole /64: count it
			// as one client, or it could rotate through 2^64 buckets.
			p, _ := a.WithZone("").Prefix(64)
			return e.rule.Name + "|a|" + p.String()
		}
		return e.rule.Name + "|a|" + a.String()
	}
}

func findProvider(ps []provider.Provider, name string) provider.Provider {
	for _, p := range ps {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// credentialHash hashes the values the provider would strip: they are the
// credential as presented. "" when there is nothing to hash.
func credentialHash(s provider.Stripper, req *provider.Request) string {
	var ed provider.Edits
	s.Strip(req, &ed)
	h := sha256.New()
	n := 0
	for _, name := range ed.RemoveHeaders {
		for _, hd := range req.Headers {
			if hd.Name == name {
				h.Write([]byte(hd.Name))
				h.Write([]byte{0})
				h.Write([]byte(hd.Value))
				h.Write([]byte{0})
				n++
			}
		}
	}
	for _, name := range ed.RemoveQueryParams {
		if v, k := req.QueryParam(name); k > 0 {
			h.Write([]byte(name))
			h.Write([]byte{0})
			h.Write([]byte(v))
			h.Write([]byte{0})
			n++
		}
	}
	if n == 0 {
		return ""
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

func (e *Evaluation) finish(allow bool, err error, prov string) {
	e.done = true
	e.pending = nil
	e.v.Allow = allow
	e.v.Err = err
	e.v.Reason = provider.ReasonOf(err)
	e.v.Provider = prov
	if !allow && e.rule != nil && e.rule.Shadow {
		e.v.Allow, e.v.Shadow = true, true
	}
}
