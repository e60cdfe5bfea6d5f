package rollingcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"unicode/utf8"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Client is one holder of a shared seed.
type Client struct {
	Name string
	Seed []byte
}

// Policy is how far from now a code may have been produced.
type Policy struct {
	// MaxPastNs and MaxFutureNs bound the instant the client produced the
	// code: any instant in [now-MaxPast, now+MaxFuture] is accepted. Zero
	// for both is m2m-token's own check (the code of this very instant).
	MaxPastNs, MaxFutureNs int64
}

// Match is a successful verification.
type Match struct {
	// Client is the index of the matching client.
	Client int
	// Window is the m2m anchor or the HMAC step counter that matched.
	Window int64
	// ExpiresAt is when the code can no longer be accepted (unix ns).
	ExpiresAt int64
}

// Refusals of Verify. Package-level so the hot path does not allocate.
var (
	ErrMismatch = provider.NewError(provider.ReasonBadSignature, "rolling code does not match any allowed window")
	ErrLength   = provider.NewError(provider.ReasonMalformed, "rolling code has the wrong length")
	ErrOversize = provider.NewError(provider.ReasonOversize, "rolling code is too long")
	ErrClient   = provider.NewError(provider.ReasonUnknown, "unknown rolling-code client")
)

type cacheEntry struct {
	used   bool
	window int64
	code   []byte // a slot of the client's arena
}

// Verifier checks codes for a fixed set of clients. It caches the codes of
// the last few windows per client, since every request inside a window needs
// the same ones. Not safe for concurrent use: one per VM.
type Verifier struct {
	p       Params
	pol     Policy
	g       *generator
	clients []Client
	macs    []hash.Hash // per client, HMAC mode only
	// cache holds, per client, the codes of as many windows as one
	// request can need, so a steady stream of requests never recomputes
	// (and an attacker cannot make it thrash).
	cache [][]cacheEntry
	next  []int
	wbuf  [2*(2*maxSkewSeconds+2) + 4]int64
}

// NewVerifier builds a verifier. Seeds are kept, not copied.
func NewVerifier(p Params, pol Policy, clients []Client) (*Verifier, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	for _, c := range clients {
		if len(c.Seed) == 0 || len(c.Seed) > MaxSeedLen {
			return nil, ErrSeed
		}
	}
	if pol.MaxPastNs < 0 || pol.MaxFutureNs < 0 || pol.MaxPastNs+pol.MaxFutureNs > maxSkewSeconds*nsPerSecond {
		return nil, errSkew
	}
	v := &Verifier{
		p: p, pol: pol, g: newGenerator(p), clients: clients,
		macs:  make([]hash.Hash, len(clients)),
		cache: make([][]cacheEntry, len(clients)),
		next:  make([]int, len(clients)),
	}
	slots := maxWindows(p, pol) + 2
	codeLen := p.Length * maxRuneLen(p.Alphabet)
	for i := range v.cache {
		arena := make([]byte, slots*codeLen)
		v.cache[i] = make([]cacheEntry, slots)
		for j := range v.cache[i] {
			v.cache[i][j].code = arena[j*codeLen : j*codeLen : (j+1)*codeLen]
		}
	}
	if p.Mode == ModeHMAC {
		for i, c := range clients {
			v.macs[i] = hmac.New(sha256.New, c.Seed)
		}
	}
	return v, nil
}

var errSkew = provider.NewError(provider.ReasonInternal, "skew out of range")

func (v *Verifier) expected(ci int, w int64) []byte {
	slots := v.cache[ci]
	for i := range slots {
		if slots[i].used && slots[i].window == w {
			return slots[i].code
		}
	}
	e := &slots[v.next[ci]]
	v.next[ci] = (v.next[ci] + 1) % len(slots)
	e.code = v.g.code(v.clients[ci].Seed, v.macs[ci], w, e.code[:0])
	e.used, e.window = true, w
	return e.code
}

// maxWindows bounds how many windows one verification looks at.
func maxWindows(p Params, pol Policy) int {
	span := (pol.MaxPastNs + pol.MaxFutureNs + nsPerSecond - 1) / nsPerSecond
	if p.Mode == ModeM2M {
		return int(2*(span+2)) + 2 // up to two anchors per second touched
	}
	return int(span/p.TTLSeconds) + 2
}

func maxRuneLen(s string) int {
	n := 1
	for _, r := range s {
		if l := utf8.RuneLen(r); l > n {
			n = l
		}
	}
	return n
}

// Verify checks code for client ci (an index into the clients), or for
// every client when ci is -1 (the caller bounds how many there are). It
// compares every candidate in constant time and does not stop at the first
// match, so timing reveals neither the client nor the window.
func (v *Verifier) Verify(ci int, code string, nowNs int64) (Match, error) {
	if len(code) > maxCodeBytes {
		return Match{}, ErrOversize
	}
	if ci >= len(v.clients) {
		return Match{}, ErrClient
	}
	// A wrong length cannot match; refuse it before any seed work.
	if utf8.RuneCountInString(code) != v.p.Length {
		return Match{}, ErrLength
	}
	ws := windows(v.p, nowNs-v.pol.MaxPastNs, nowNs+v.pol.MaxFutureNs, v.wbuf[:0])
	first, last := 0, len(v.clients)-1
	if ci >= 0 {
		first, last = ci, ci
	}
	found := Match{Client: -1}
	for c := first; c <= last; c++ {
		for _, w := range ws {
			exp := v.expected(c, w)
			if subtle.ConstantTimeCompare(stringBytes(code, exp), exp) == 1 && found.Client < 0 {
				found = Match{Client: c, Window: w, ExpiresAt: windowEnd(v.p, w) + v.pol.MaxPastNs}
			}
		}
	}
	if found.Client < 0 {
		return Match{}, ErrMismatch
	}
	return found, nil
}

// stringBytes views code as bytes in exp's scratch-free way: it copies
// nothing when lengths differ (the comparison fails anyway) and compares
// byte by byte otherwise.
func stringBytes(code string, exp []byte) []byte {
	if len(code) != len(exp) {
		return nil
	}
	return unsafeBytes(code)
}
