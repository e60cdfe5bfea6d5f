package rollingcode

import (
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type of this provider.
const Kind = "rolling_code"

// MaxClientsWithoutHeader bounds how many seeds are tried per request when
// no client header names the client: a rolling code says nothing about who
// made it, so every seed must be tried (each try is one SHA-512 and one
// MT19937 seeding in m2m mode, one HMAC in hmac mode).
const MaxClientsWithoutHeader = 16

// maxHeaderBytes is the largest credential header looked at; longer ones are
// refused as oversize before any work.
const maxHeaderBytes = 8192

// WeakModeWarning is logged once at start when a provider runs in
// m2m_token compatibility mode.
const WeakModeWarning = "rolling_code: m2m_token compatibility mode is weak (Mersenne Twister seeded from the shared seed and the time: " +
	"one observed code allows an offline search of the seed; codes are replayable inside their window). " +
	"Use mode \"hmac\" for new clients"

var (
	errAmbiguous     = provider.NewError(provider.ReasonAmbiguous, "rolling code header repeated")
	errClientMissing = provider.NewError(provider.ReasonMalformed, "rolling code client header missing")
	errClientAmbig   = provider.NewError(provider.ReasonAmbiguous, "rolling code client header repeated")
	errHeaderSize    = provider.NewError(provider.ReasonOversize, "rolling code header too long")
)

// Provider is a configured rolling_code provider.
type Provider struct {
	name         string
	header       string
	clientHeader string
	singleUse    bool
	replay       provider.ReplayGuard
	v            *Verifier
	names        []string
	index        map[string]int
	keyBuf       []byte

	okCount, badCount, replayCount provider.Counter
}

// FromConfig builds a rolling_code provider:
//
//	{"type": "rolling_code", "mode": "hmac", "header": "x-rolling-code",
//	 "client_header": "x-rolling-code-client", "ttl_seconds": 30,
//	 "alphabet": "0123456789", "length": 8, "max_past_seconds": 2,
//	 "max_future_seconds": 1, "single_use": true,
//	 "clients": {"billing": {"seed": {"env": "BILLING_SEED"}}}}
//
// It records configuration errors on o and returns nil when there were any.
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	mode := o.Enum("mode", "hmac", "hmac", "m2m_token")
	p := Params{Mode: ModeHMAC, Alphabet: DefaultAlphabet, Length: 8}
	minSeed := 16
	if mode == "m2m_token" {
		p.Mode, p.Length, minSeed = ModeM2M, defaultM2MLength, 1
	}
	p.TTLSeconds = o.Int("ttl_seconds", 30, 1, 3600)
	p.Alphabet = o.String("alphabet", p.Alphabet)
	if err := (Params{TTLSeconds: 1, Alphabet: p.Alphabet, Length: 1}).Validate(); err != nil {
		o.Fail("alphabet", "must be a non-empty UTF-8 string of at most "+strconv.Itoa(MaxAlphabet)+" characters")
	}
	p.Length = int(o.Int("length", int64(p.Length), 1, MaxLength))
	if o.Has("utc_offset_seconds") {
		if p.Mode != ModeM2M {
			o.Fail("utc_offset_seconds", "only applies to mode \"m2m_token\"")
		}
		p.UTCOffsetSeconds = o.Int("utc_offset_seconds", 0, -14*3600, 14*3600)
	}
	past := o.Float("max_past_seconds", 2, 0, maxSkewSeconds)
	future := o.Float("max_future_seconds", 1, 0, maxSkewSeconds)
	if past+future > maxSkewSeconds {
		o.Fail("max_future_seconds", "max_past_seconds + max_future_seconds must be at most "+strconv.Itoa(maxSkewSeconds))
	}
	pr := &Provider{
		name:         name,
		header:       provider.LowerASCII(o.String("header", "x-rolling-code")),
		clientHeader: provider.LowerASCII(o.String("client_header", "")),
		singleUse:    o.Bool("single_use", false),
		replay:       d.Replay,
		index:        map[string]int{},
	}
	if pr.singleUse && d.Replay == nil {
		o.Fail("single_use", "needs the shared replay store, which is not available")
	}
	var clients []Client
	if co := o.Object("clients"); co == nil {
		o.Fail("clients", "is required (an object of client name to {\"seed\": ...})")
	} else {
		for _, cn := range co.Names() {
			c := co.Object(cn)
			if c == nil {
				continue
			}
			seed := c.RequiredSecret("seed", minSeed)
			if len(seed) > MaxSeedLen {
				c.Fail("seed", "is longer than "+strconv.Itoa(MaxSeedLen)+" bytes")
			}
			c.Done()
			pr.index[cn] = len(clients)
			clients = append(clients, Client{Name: cn, Seed: seed})
			pr.names = append(pr.names, cn)
		}
		if len(clients) == 0 {
			o.Fail("clients", "must name at least one client")
		}
		if pr.clientHeader == "" && len(clients) > MaxClientsWithoutHeader {
			o.Fail("clients", "more than "+strconv.Itoa(MaxClientsWithoutHeader)+
				" clients need \"client_header\": without it every seed is tried on every request")
		}
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	v, err := NewVerifier(p, Policy{MaxPastNs: int64(past * 1e9), MaxFutureNs: int64(future * 1e9)}, clients)
	if err != nil {
		o.Fail("", err.Error())
		return nil
	}
	pr.v = v
	if p.Mode == ModeM2M {
		d.Warn(WeakModeWarning)
	}
	pr.okCount = d.Counter("rolling_code.ok")
	pr.badCount = d.Counter("rolling_code.refused")
	pr.replayCount = d.Counter("rolling_code.replayed")
	return pr
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider; rolling codes have no standard scheme.
func (p *Provider) Challenge() string { return "" }

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	code, n := req.Header(p.header)
	if n == 0 {
		return provider.Identity{}, provider.ErrNoCredential
	}
	id, err := p.verify(req, code, n)
	if err != nil {
		if provider.ReasonOf(err) == provider.ReasonReplayed {
			p.replayCount.Increment(1)
		}
		p.badCount.Increment(1)
		return provider.Identity{}, err
	}
	p.okCount.Increment(1)
	return id, nil
}

func (p *Provider) verify(req *provider.Request, code string, n int) (provider.Identity, error) {
	if n > 1 {
		return provider.Identity{}, errAmbiguous
	}
	if len(code) > maxHeaderBytes {
		return provider.Identity{}, errHeaderSize
	}
	ci := -1
	if p.clientHeader != "" {
		name, cn := req.Header(p.clientHeader)
		switch {
		case cn == 0:
			return provider.Identity{}, errClientMissing
		case cn > 1:
			return provider.Identity{}, errClientAmbig
		}
		i, ok := p.index[name]
		if !ok {
			return provider.Identity{}, ErrClient
		}
		ci = i
	}
	m, err := p.v.Verify(ci, code, req.Now)
	if err != nil {
		return provider.Identity{}, err
	}
	if p.singleUse {
		// One use per (client, window, code), remembered by every VM until
		// the code can no longer be accepted.
		k := append(p.keyBuf[:0], "rc/"...)
		k = append(k, p.name...)
		k = append(k, '/')
		k = append(k, p.names[m.Client]...)
		k = append(k, '/')
		k = strconv.AppendInt(k, m.Window, 10)
		k = append(k, '/')
		k = append(k, code...)
		p.keyBuf = k
		if err := p.replay.Use(string(k), req.Now, m.ExpiresAt); err != nil {
			return provider.Identity{}, err
		}
	}
	return provider.Identity{Subject: p.names[m.Client], ExpiresAt: m.ExpiresAt}, nil
}

// Strip implements provider.Stripper: the code header is not forwarded.
func (p *Provider) Strip(req *provider.Request, e *provider.Edits) {
	e.RemoveHeaders = append(e.RemoveHeaders, p.header)
}
