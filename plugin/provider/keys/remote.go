package keys

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
)

// RemoteConfig configures a Remote key set.
type RemoteConfig struct {
	// Name namespaces the shared-data entries and must be unique per proxy
	// (e.g. "<provider>" or "<provider>/<client>").
	Name string
	// Cluster is the Envoy cluster serving the JWKS (and discovery).
	Cluster string
	// Authority is the :authority sent (the JWKS host).
	Authority string
	// Path is the JWKS :path, e.g. "/.well-known/jwks.json". Empty with
	// Issuer set means OIDC discovery.
	Path string
	// Issuer, for discovery: Issuer + "/.well-known/openid-configuration" is
	// fetched, its "issuer" must equal Issuer, and its "jwks_uri" (https,
	// served by the same cluster) is then fetched.
	Issuer string
	// RefreshMillis is how old the set may get before a refresh (default 300 000).
	RefreshMillis int64
	// MinRefreshMillis rate-limits refreshes triggered by an unknown kid
	// (default 30 000), across all VMs.
	MinRefreshMillis int64
	// MaxStaleMillis is how long after the last successful fetch the keys
	// are still used while the endpoint fails (default 86 400 000). After
	// that, verification fails closed.
	MaxStaleMillis int64
	// TimeoutMillis bounds each callout (default 5000).
	TimeoutMillis uint32
	// MaxBackoffMillis caps the exponential back-off after failures
	// (default 300 000).
	MaxBackoffMillis int64
	// MaxBodyBytes bounds the accepted answer (default 262 144).
	MaxBodyBytes int
	// Allowed restricts the algorithms of the fetched keys (0 = all).
	Allowed AlgSet
}

// Remote errors (refusals of requests that needed the remote keys).
var (
	ErrKeysNotFetched = provider.NewError(provider.ReasonCalloutFailed, "remote key set not fetched yet")
	ErrKeysExpired    = provider.NewError(provider.ReasonCalloutFailed, "remote key set older than max_stale and refresh failing")
	errFetchStatus    = provider.NewError(provider.ReasonCalloutFailed, "key set endpoint answered with an error status")
	errFetchNoAnswer  = provider.NewError(provider.ReasonCalloutFailed, "key set endpoint unreachable")
	errFetchTimeout   = provider.NewError(provider.ReasonCalloutTimeout, "key set endpoint timed out")
	errFetchBody      = provider.NewError(provider.ReasonCalloutFailed, "key set answer is not a usable JWKS")
	errDiscovery      = provider.NewError(provider.ReasonCalloutFailed, "OIDC discovery answer unusable or issuer mismatch")
)

// Remote is a JWKS fetched by HTTP callout and shared by all VMs through
// shared data: one VM at a time holds a lease and fetches; every VM reads
// the stored document. It serves the last good set while the endpoint
// fails, until MaxStaleMillis after the last success, then fails closed.
//
// Not safe for concurrent use (one per VM).
type Remote struct {
	cfg                      RemoteConfig
	docKey, leaseKey, uriKey string

	set       *Set
	fetchedAt int64
	docCas    uint32
	haveDoc   bool

	fetchOK, fetchFailed, fetchTimeout, kidHit, kidMiss provider.Counter
	keyAge, keyCount                                    provider.Gauge
	shared                                              provider.SharedData
}

// Lease layout in shared data: busy-until (ns), next-allowed (ns),
// last-attempt (ns), consecutive failures (u32).
const leaseSize = 8 + 8 + 8 + 4

// NewRemote builds a Remote. metric names are prefixed with prefix.
func NewRemote(cfg RemoteConfig, shared provider.SharedData, d provider.Deps, prefix string) *Remote {
	if cfg.RefreshMillis <= 0 {
		cfg.RefreshMillis = 300_000
	}
	if cfg.MinRefreshMillis <= 0 {
		cfg.MinRefreshMillis = 30_000
	}
	if cfg.MaxStaleMillis <= 0 {
		cfg.MaxStaleMillis = 86_400_000
	}
	if cfg.TimeoutMillis == 0 {
		cfg.TimeoutMillis = 5000
	}
	if cfg.MaxBackoffMillis <= 0 {
		cfg.MaxBackoffMillis = 300_000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 256 << 10
	}
	if shared == nil {
		// Without a shared store each VM fetches for itself.
		shared = &provider.MemSharedData{}
	}
	base := "tokengate/jwks/" + cfg.Name + "/"
	return &Remote{
		cfg: cfg, shared: shared,
		docKey: base + "doc", leaseKey: base + "lease", uriKey: base + "jwks_uri",
		fetchOK:      d.Counter(prefix + "jwks_fetch_ok"),
		fetchFailed:  d.Counter(prefix + "jwks_fetch_failed"),
		fetchTimeout: d.Counter(prefix + "jwks_fetch_timeout"),
		kidHit:       d.Counter(prefix + "jwks_kid_hit"),
		kidMiss:      d.Counter(prefix + "jwks_kid_miss"),
		keyAge:       d.Gauge(prefix + "jwks_key_age_seconds"),
		keyCount:     d.Gauge(prefix + "jwks_keys"),
	}
}

// RemoteFromConfig reads a remote key set object:
//
//	{"cluster": "idp", "authority": "idp.example.com", "path": "/jwks.json",
//	 "issuer": "https://idp.example.com", "refresh_seconds": 300,
//	 "min_refresh_seconds": 30, "max_stale_seconds": 86400,
//	 "timeout_ms": 5000, "max_backoff_seconds": 300}
//
// Either path or issuer (OIDC discovery) is required. allowed restricts the
// algorithms of every fetched key (the provider's allow list).
func RemoteFromConfig(o *conf.Object, name string, allowed AlgSet, d provider.Deps, prefix string) *Remote {
	cfg := RemoteConfig{Name: name, Allowed: allowed}
	cfg.Cluster = o.RequiredString("cluster")
	cfg.Authority = o.String("authority", "")
	cfg.Path = o.String("path", "")
	cfg.Issuer = o.String("issuer", "")
	cfg.RefreshMillis = o.Int("refresh_seconds", 300, 1, 86400*7) * 1000
	cfg.MinRefreshMillis = o.Int("min_refresh_seconds", 30, 1, 86400) * 1000
	cfg.MaxStaleMillis = o.Int("max_stale_seconds", 86400, 1, 86400*30) * 1000
	cfg.TimeoutMillis = uint32(o.Int("timeout_ms", 5000, 1, 60000))
	cfg.MaxBackoffMillis = o.Int("max_backoff_seconds", 300, 1, 86400) * 1000
	cfg.MaxBodyBytes = int(o.Int("max_body_bytes", 256<<10, 1024, 4<<20))
	switch {
	case cfg.Path == "" && cfg.Issuer == "":
		o.Fail("", `needs "path" (a JWKS) or "issuer" (OIDC discovery)`)
	case cfg.Path != "" && cfg.Path[0] != '/':
		o.Fail("path", `must start with "/"`)
	case cfg.Issuer != "" && !strings.HasPrefix(cfg.Issuer, "https://"):
		o.Fail("issuer", "must be an https URL")
	}
	if cfg.Authority == "" {
		if host, _, ok := splitURL(cfg.Issuer); ok {
			cfg.Authority = host
		} else {
			o.Fail("authority", "is required without an issuer")
		}
	}
	if cfg.RefreshMillis > cfg.MaxStaleMillis {
		o.Fail("max_stale_seconds", "must be at least refresh_seconds")
	}
	o.Done()
	return NewRemote(cfg, d.Shared, d, prefix)
}

// splitURL splits an https URL into host and path ("/" when empty).
func splitURL(u string) (host, path string, ok bool) {
	rest, found := strings.CutPrefix(u, "https://")
	if !found || rest == "" {
		return "", "", false
	}
	host, path = rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
		if path[0] != '/' {
			path = "/" + path
		}
	}
	if host == "" || strings.ContainsAny(host, "@ \t") || strings.ContainsRune(path, '#') {
		return "", "", false
	}
	return host, path, true
}

// sync loads the shared document when another VM stored a newer one.
func (r *Remote) sync() {
	val, cas, err := r.shared.Get(r.docKey)
	if err != nil || (r.haveDoc && cas == r.docCas) || len(val) < 8 {
		return
	}
	r.docCas, r.haveDoc = cas, true
	at := int64(binary.BigEndian.Uint64(val))
	if at <= r.fetchedAt {
		return
	}
	if s, err := r.parse(val[8:]); err == nil {
		r.set, r.fetchedAt = s, at
		r.keyCount.Set(int64(s.Len()))
	}
}

func (r *Remote) parse(doc []byte) (*Set, error) {
	s, err := ParseJWKS(doc)
	if err != nil {
		return nil, err
	}
	if r.cfg.Allowed != 0 {
		list := make([]*Key, 0, s.Len())
		for _, k := range s.Keys() {
			if k = k.Restrict(r.cfg.Allowed); k.Algs != 0 {
				list = append(list, k)
			}
		}
		if s, err = NewSet(list); err != nil {
			return nil, err
		}
	}
	if s.Len() == 0 {
		return nil, ErrJWKS
	}
	return s, nil
}

// Current returns the key set usable at now: the last good one while it is
// younger than MaxStaleMillis; otherwise ErrKeysNotFetched / ErrKeysExpired.
func (r *Remote) Current(now int64) (*Set, error) {
	if r.set == nil || now-r.fetchedAt > r.cfg.MaxStaleMillis*1e6 {
		r.sync()
	}
	if r.set == nil {
		return nil, ErrKeysNotFetched
	}
	if now-r.fetchedAt > r.cfg.MaxStaleMillis*1e6 {
		return nil, ErrKeysExpired
	}
	return r.set, nil
}

// Lookup finds kid in the current set, counting hits and misses.
func (r *Remote) Lookup(kid string, now int64) (*Key, error) {
	return r.LookupBytes([]byte(kid), now)
}

// LookupBytes is Lookup for a kid read from a request, without allocating.
func (r *Remote) LookupBytes(kid []byte, now int64) (*Key, error) {
	s, err := r.Current(now)
	if err != nil {
		return nil, err
	}
	if k := s.LookupBytes(kid); k != nil {
		r.kidHit.Increment(1)
		return k, nil
	}
	r.kidMiss.Increment(1)
	return nil, nil
}

// TickPeriodMillis suggests a tick often enough for refreshes and back-off.
func (r *Remote) TickPeriodMillis() uint32 {
	p := r.cfg.MinRefreshMillis / 2
	if p < 1000 {
		p = 1000
	}
	return uint32(p)
}

// Tick picks up documents stored by other VMs, updates the key-age gauge
// and, when the set is due for a refresh and no other VM is fetching,
// returns the callout that fetches it.
func (r *Remote) Tick(now int64) []*provider.NeedCallout {
	r.sync()
	if r.set != nil {
		r.keyAge.Set((now - r.fetchedAt) / 1e9)
	}
	if r.set != nil && now-r.fetchedAt < r.cfg.RefreshMillis*1e6 {
		return nil
	}
	if c := r.claim(now, false); c != nil {
		return []*provider.NeedCallout{c}
	}
	return nil
}

// Refresh asks for a refresh now (an unknown kid was seen). It returns nil
// when one happened less than MinRefreshMillis ago on any VM, when another
// VM is fetching, or while backing off after failures.
func (r *Remote) Refresh(now int64) *provider.NeedCallout {
	r.sync()
	return r.claim(now, true)
}

type lease struct {
	busyUntil, nextAllowed, lastAttempt int64
	failures                            uint32
}

func (l lease) encode() []byte {
	b := make([]byte, 0, leaseSize)
	b = binary.BigEndian.AppendUint64(b, uint64(l.busyUntil))
	b = binary.BigEndian.AppendUint64(b, uint64(l.nextAllowed))
	b = binary.BigEndian.AppendUint64(b, uint64(l.lastAttempt))
	return binary.BigEndian.AppendUint32(b, l.failures)
}

func (r *Remote) readLease() (lease, uint32) {
	val, cas, err := r.shared.Get(r.leaseKey)
	if err != nil || len(val) != leaseSize {
		return lease{}, cas
	}
	return lease{
		busyUntil:   int64(binary.BigEndian.Uint64(val)),
		nextAllowed: int64(binary.BigEndian.Uint64(val[8:])),
		lastAttempt: int64(binary.BigEndian.Uint64(val[16:])),
		failures:    binary.BigEndian.Uint32(val[24:]),
	}, cas
}

// claim takes the fetch lease with cas, so only one VM fetches at a time.
func (r *Remote) claim(now int64, rateLimited bool) *provider.NeedCallout {
	l, cas := r.readLease()
	if now < l.busyUntil || now < l.nextAllowed {
		return nil
	}
	if rateLimited && now-l.lastAttempt < r.cfg.MinRefreshMillis*1e6 {
		return nil
	}
	l.busyUntil = now + int64(r.cfg.TimeoutMillis)*2e6
	l.lastAttempt = now
	if r.shared.Set(r.leaseKey, l.encode(), cas) != nil {
		return nil // another VM claimed it first
	}
	if r.cfg.Path != "" {
		return r.fetch(now, r.cfg.Authority, r.cfg.Path)
	}
	if uri, _, err := r.shared.Get(r.uriKey); err == nil {
		if host, path, ok := splitURL(string(uri)); ok {
			return r.fetch(now, host, path)
		}
	}
	return r.discover(now)
}

func (r *Remote) call(authority, path string) provider.Callout {
	return provider.Callout{
		Cluster: r.cfg.Cluster,
		Headers: []provider.Header{
			{Name: ":method", Value: "GET"},
			{Name: ":path", Value: path},
			{Name: ":authority", Value: authority},
			{Name: "accept", Value: "application/json"},
		},
		TimeoutMillis: r.cfg.TimeoutMillis,
	}
}

func (r *Remote) fetch(now int64, authority, path string) *provider.NeedCallout {
	return &provider.NeedCallout{
		Call: r.call(authority, path),
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			return provider.Identity{}, r.accept(now, resp)
		},
	}
}

func (r *Remote) discover(now int64) *provider.NeedCallout {
	_, base, _ := splitURL(r.cfg.Issuer)
	path := strings.TrimSuffix(base, "/") + "/.well-known/openid-configuration"
	return &provider.NeedCallout{
		Call: r.call(r.cfg.Authority, path),
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			if err := r.checkAnswer(resp); err != nil {
				return provider.Identity{}, r.failed(now, err)
			}
			var issuer, uri string
			err := jsonobj.Each(resp.Body, func(name, value []byte, typ jsonparser.ValueType) error {
				if typ != jsonparser.String {
					return nil
				}
				switch string(name) {
				case "issuer":
					issuer, _ = jsonparser.ParseString(value)
				case "jwks_uri":
					uri, _ = jsonparser.ParseString(value)
				}
				return nil
			})
			host, p, ok := splitURL(uri)
			if err != nil || issuer != r.cfg.Issuer || !ok {
				return provider.Identity{}, r.failed(now, errDiscovery)
			}
			_ = r.shared.Set(r.uriKey, []byte(uri), 0)
			// Still holding the lease: fetch the key set right away.
			return provider.Identity{}, r.fetch(now, host, p)
		},
	}
}

func (r *Remote) checkAnswer(resp *provider.CalloutResponse) error {
	switch {
	case resp == nil || resp.Status == 0:
		return errFetchNoAnswer
	case resp.Status == 504:
		// Envoy reports a callout timeout as a local 504.
		return errFetchTimeout
	case resp.Status != 200:
		return errFetchStatus
	case len(resp.Body) > r.cfg.MaxBodyBytes:
		return errFetchBody
	}
	return nil
}

// accept stores a good answer for every VM, or records the failure.
func (r *Remote) accept(now int64, resp *provider.CalloutResponse) error {
	if err := r.checkAnswer(resp); err != nil {
		return r.failed(now, err)
	}
	s, err := r.parse(resp.Body)
	if err != nil {
		return r.failed(now, errFetchBody)
	}
	r.set, r.fetchedAt = s, now
	doc := make([]byte, 8, 8+len(resp.Body))
	binary.BigEndian.PutUint64(doc, uint64(now))
	doc = append(doc, resp.Body...)
	_ = r.shared.Set(r.docKey, doc, 0)
	r.release(now, lease{lastAttempt: now})
	r.fetchOK.Increment(1)
	r.keyCount.Set(int64(s.Len()))
	r.keyAge.Set(0)
	return nil
}

// failed releases the lease with exponential back-off and counts it.
func (r *Remote) failed(now int64, err error) error {
	l, _ := r.readLease()
	l.failures++
	back := int64(1000) << min(l.failures, 20)
	if back > r.cfg.MaxBackoffMillis {
		back = r.cfg.MaxBackoffMillis
	}
	l.busyUntil, l.nextAllowed, l.lastAttempt = 0, now+back*1e6, now
	r.release(now, l)
	if err == errFetchTimeout {
		r.fetchTimeout.Increment(1)
	}
	r.fetchFailed.Increment(1)
	return err
}

func (r *Remote) release(now int64, l lease) {
	// A plain write: we hold the lease, and a lost race only shortens a
	// back-off.
	_ = r.shared.Set(r.leaseKey, l.encode(), 0)
}

// Failures reports the consecutive failures recorded in the shared lease
// (for tests and diagnostics).
func (r *Remote) Failures() int {
	l, _ := r.readLease()
	return int(l.failures)
}

// String describes the remote for logs (no secrets involved).
func (r *Remote) String() string {
	return "jwks " + r.cfg.Cluster + " " + r.cfg.Authority + r.cfg.Path + " (refresh " + strconv.FormatInt(r.cfg.RefreshMillis/1000, 10) + "s)"
}
