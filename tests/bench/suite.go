package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Groups of cases.
const (
	GroupWasm   = "wasm"        // the built module in hostsim, whole stream lifecycle
	GroupBare   = "bare"        // the primitive alone in the bare guest, same runtime
	GroupNative = "native"      // our provider's Verify, natively
	GroupGJWT   = "golang-jwt"  // github.com/golang-jwt/jwt/v5 natively
	GroupPrim   = "native-bare" // the bare primitive natively, same inputs
)

// Case is one measurement.
type Case struct {
	Group  string
	Scheme string // pairs cases across groups, e.g. "jwt-eddsa"
	Bench  func(b *testing.B)
}

// Name is Group/Scheme, the sub-benchmark name.
func (c Case) Name() string { return c.Group + "/" + c.Scheme }

// Suite is everything the cases share: one world, one hostsim host with
// one worker VM for every wasm case (compiling the module once), the bare
// guests and the native providers.
type Suite struct {
	W        *World
	Wasm     []byte
	Guest    []byte
	Cache    wazero.CompilationCache
	host     *hostsim.Host
	plugin   *hostsim.Plugin
	bares    map[bareKey]*Bare
	pools    map[string][]hostsim.Request
	cursor   map[string]int
	native   map[string]provider.Provider
	ctx      context.Context
	tokens   map[string]string // one token per JWT alg, shared by every group
	bareArgs map[int][3][]byte
}

// NewSuite loads wasm (the built tokengate module) and guest (the bare
// guest, see BuildGuest).
func NewSuite(ctx context.Context, wasm, guest []byte) (*Suite, error) {
	w, err := NewWorld()
	if err != nil {
		return nil, err
	}
	s := &Suite{W: w, Wasm: wasm, Guest: guest, Cache: wazero.NewCompilationCache(), ctx: ctx,
		tokens: map[string]string{}, bareArgs: map[int][3][]byte{}, bares: map[bareKey]*Bare{}, pools: map[string][]hostsim.Request{}, cursor: map[string]int{}}
	if s.host, err = hostsim.New(ctx, wasm, w.HostConfig().WithCompilationCache(s.Cache)); err != nil {
		return nil, err
	}
	if s.plugin, err = s.host.StartPlugin(ctx, hostsim.PluginConfig{Configuration: w.Config, Workers: 1}); err != nil {
		s.Close()
		return nil, err
	}
	cfg, _, err := config.Parse(w.Config, conf.MapEnv{}, provider.Deps{Shared: &provider.MemSharedData{}})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.native = map[string]provider.Provider{}
	for _, p := range cfg.Providers {
		s.native[p.Name()] = p
	}
	for alg, key := range map[string]crypto.Signer{"EdDSA": w.Ed, "ES256": w.EC, "RS256": w.RSA} {
		s.tokens[alg] = w.JWT(key, alg, T0)
	}
	if err := s.prepareBare(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the runtimes.
func (s *Suite) Close() {
	for _, b := range s.bares {
		b.Close(s.ctx)
	}
	if s.host != nil {
		s.host.Close(s.ctx)
	}
}

// Host is the shared host (its metrics show cache hits and misses).
func (s *Suite) Host() *hostsim.Host { return s.host }

// jwsParts splits a compact JWS into signing input and raw signature.
func jwsParts(tok string) (input, sig []byte, err error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return nil, nil, errors.New("bench: not a JWS")
	}
	sig, err = base64.RawURLEncoding.DecodeString(tok[i+1:])
	return []byte(tok[:i]), sig, err
}

// prepareBare computes the bare inputs from the very tokens the plugin
// verifies: the JWT signing input and signature per algorithm; for HMAC the
// EdDSA token's signing input under the http_signature secret.
func (s *Suite) prepareBare() error {
	ecDER, err := x509.MarshalPKIXPublicKey(s.W.EC.Public())
	if err != nil {
		return err
	}
	rsaDER, err := x509.MarshalPKIXPublicKey(s.W.RSA.Public())
	if err != nil {
		return err
	}
	keys := map[int][]byte{BareEd25519: s.W.Ed.Public().(ed25519.PublicKey), BareECDSA: ecDER, BareRSA: rsaDER}
	for kind, alg := range map[int]string{BareEd25519: "EdDSA", BareECDSA: "ES256", BareRSA: "RS256"} {
		in, sig, err := jwsParts(s.tokens[alg])
		if err != nil {
			return err
		}
		s.bareArgs[kind] = [3][]byte{keys[kind], in, sig}
	}
	in, _, _ := jwsParts(s.tokens["EdDSA"])
	m := hmac.New(sha256.New, s.W.HSSecret)
	m.Write(in)
	s.bareArgs[BareHMAC] = [3][]byte{s.W.HSSecret, in, m.Sum(nil)}
	return nil
}

// source is one wasm scheme: how to make its request at an instant,
// whether every request needs a fresh credential, and the provider that
// verifies it natively ("" for none).
type source struct {
	scheme string
	next   func(time.Time) hostsim.Request
	fresh  freshness
	prov   string
}

// freshness says how often a case may present the same credential.
type freshness int

const (
	reused    freshness = iota // one credential for every request
	cycled                     // a pool larger than the caches, cycled
	singleUse                  // never twice: the pool is re-minted when used up
)

func (s *Suite) sources() []source {
	w := s.W
	fixed := func(r hostsim.Request) func(time.Time) hostsim.Request {
		return func(time.Time) hostsim.Request { return r }
	}
	freshJWT := func(key crypto.Signer, alg, path string) func(time.Time) hostsim.Request {
		return func(now time.Time) hostsim.Request { return jwtReq(path, w.JWT(key, alg, now)) }
	}
	return []source{
		{"floor", fixed(req("/open/x")), reused, ""},
		{"api-key", fixed(w.apiKeyReq()), reused, "keys"},
		{"ip-rule", fixed(req("/ip/x")), reused, "office"},
		{"rolling-hmac", fixed(w.rollingReq(T0)), reused, "codes"},
		{"rolling-m2m", fixed(w.m2mReq(T0)), reused, "m2m"},
		{"scoped-token", fixed(w.scopedReq(T0)), reused, "tmp"}, // a verified-token cache hit
		{"scoped-token-fresh", w.scopedFreshReq, cycled, "tmp"},
		{"jwt-eddsa", freshJWT(w.Ed, "EdDSA", "/jwted/x"), cycled, "jwt_ed"},
		{"jwt-es256", freshJWT(w.EC, "ES256", "/jwtes/x"), cycled, "jwt_es"},
		{"jwt-rs256", freshJWT(w.RSA, "RS256", "/jwtrs/x"), cycled, "jwt_rs"},
		// asymmetric-jwt-auth's own mode: the nonce goes through the
		// replay guard (shared data) on every request.
		{"jwt-eddsa-once", freshJWT(w.Ed, "EdDSA", "/jwtonce/x"), singleUse, "jwt_once"},
		{"jwt-reused", fixed(jwtReq("/jwted/x", s.tokens["EdDSA"])), reused, "jwt_ed"},
		{"httpsig-hmac", func(now time.Time) hostsim.Request {
			return w.httpSigReq("/hsh/x", "partner", w.HSSecret, false, now)
		}, cycled, "hs_hmac"},
		{"httpsig-ed25519", func(now time.Time) hostsim.Request {
			return w.httpSigReq("/hse/x", "edpartner", w.Ed, false, now)
		}, cycled, "hs_ed"},
		{"introspection-hit", fixed(w.introReq()), reused, "intro"},
	}
}

// source returns the request maker of a wasm scheme, nil if unknown.
func (s *Suite) source(scheme string) func(time.Time) hostsim.Request {
	for _, x := range s.sources() {
		if x.scheme == scheme {
			return x.next
		}
	}
	return nil
}

// Cases lists every measurement, wasm first.
func (s *Suite) Cases() []Case {
	w := s.W
	srcs := s.sources()
	var cs []Case
	for _, x := range srcs {
		cs = append(cs, Case{GroupWasm, x.scheme, s.wasmBench(x.scheme, x.next, x.fresh)})
	}
	bares := []struct {
		scheme      string
		kind        int
		closeOnDone bool
	}{
		// Like the wasm host (World.HostConfig): no context-done checks.
		{"ed25519", BareEd25519, false}, {"ecdsa-p256", BareECDSA, false}, {"rsa-2048", BareRSA, false}, {"hmac-sha256", BareHMAC, false},
		// What hostsim's default (interruptible) host would cost instead.
		{"ed25519-interruptible", BareEd25519, true}, {"rsa-2048-interruptible", BareRSA, true},
	}
	for _, x := range bares {
		cs = append(cs, Case{GroupBare, x.scheme, s.bareBench(x.kind, x.closeOnDone)})
	}
	for _, x := range srcs {
		// A callout has no native peer without a host; a single-use
		// scheme's native replay store would fill up at native speed
		// (the clock stands still), and jwt-eddsa is its native peer.
		if x.prov == "" || x.scheme == "introspection-hit" || x.fresh == singleUse {
			continue
		}
		cs = append(cs, Case{GroupNative, x.scheme, s.nativeBench(x.prov, x.scheme, x.next, x.fresh)})
	}
	gj := []struct {
		scheme, alg string
		key         crypto.PublicKey
		method      gjwt.SigningMethod
	}{
		{"jwt-eddsa", "EdDSA", w.Ed.Public(), gjwt.SigningMethodEdDSA},
		{"jwt-es256", "ES256", w.EC.Public(), gjwt.SigningMethodES256},
		{"jwt-rs256", "RS256", w.RSA.Public(), gjwt.SigningMethodRS256},
	}
	for _, x := range gj {
		cs = append(cs, Case{GroupGJWT, x.scheme, s.golangJWTBench(x.alg, x.key)})
	}
	for _, x := range bares[:4] {
		cs = append(cs, Case{GroupPrim, x.scheme, s.primBench(x.kind)})
	}
	return cs
}

// poolSize is how many distinct credentials a fresh-credential case
// cycles through: twice the verified-token cache (1024 entries, a FIFO
// ring), so every send is a miss; minted once per suite and scheme.
const poolSize = 2048

// pool returns the credentials stored under key, minting them on first
// use.
func (s *Suite) pool(key string, next func(time.Time) hostsim.Request) []hostsim.Request {
	if p := s.pools[key]; p != nil {
		return p
	}
	p := make([]hostsim.Request, poolSize)
	for i := range p {
		p[i] = next(T0)
	}
	s.pools[key] = p
	// Minting leaves garbage behind; collect it now, or the host's
	// concurrent GC would run during the measured requests that follow
	// (single-use cases re-mint inside the benchmark loop).
	runtime.GC()
	return p
}

// feed runs body b.N times with requests from next, cycling through the
// scheme's pool when every request needs a fresh credential. Each consumer
// (group and scheme: the wasm VM and the native provider have caches of
// their own) keeps its place in the pool across calls, because
// testing.Benchmark calls a case several times: restarting at the first
// credential would find it still cached. A single-use scheme has a pool
// per consumer, minted again (outside the timer) once used up, since a
// replay guard refuses any credential it has seen.
func (s *Suite) feed(b *testing.B, group, scheme string, next func(time.Time) hostsim.Request, fresh freshness, body func(hostsim.Request)) {
	if fresh == reused {
		r := next(T0)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			body(r)
		}
		return
	}
	key := group + "/" + scheme
	poolKey := scheme
	if fresh == singleUse {
		poolKey = key
	}
	pool := s.pool(poolKey, next)
	at := s.cursor[key]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body(pool[at])
		if at = (at + 1) % len(pool); at == 0 && fresh == singleUse {
			b.StopTimer()
			delete(s.pools, poolKey)
			pool = s.pool(poolKey, next)
			b.StartTimer()
		}
	}
	s.cursor[key] = at
}

// wasmBench: one whole stream per iteration (context create, request
// headers, log, done, delete) on the shared worker VM.
func (s *Suite) wasmBench(scheme string, next func(time.Time) hostsim.Request, fresh freshness) func(*testing.B) {
	return func(b *testing.B) {
		vm := s.plugin.Worker(0)
		// One request outside the timer: an introspection cache is filled,
		// and a broken case fails before it is measured.
		s.checkWasm(b, vm, next(T0))
		b.ReportAllocs()
		s.feed(b, GroupWasm, scheme, next, fresh, func(r hostsim.Request) {
			if res := vm.HTTP(s.ctx, r); res.Outcome != hostsim.OutcomeForwarded {
				b.Fatalf("%s %d %s", res.Outcome, res.Status, res.Body)
			}
		})
	}
}

func (s *Suite) checkWasm(b *testing.B, vm *hostsim.VM, r hostsim.Request) {
	if res := vm.HTTP(s.ctx, r); res.Outcome != hostsim.OutcomeForwarded {
		b.Fatalf("%s %s: %s %d %s", r.Method, r.Path, res.Outcome, res.Status, res.Body)
	}
}

func (s *Suite) bareBench(kind int, closeOnDone bool) func(*testing.B) {
	return func(b *testing.B) {
		bare, err := s.bare(kind, closeOnDone)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := bare.Run(s.ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// primBench is the bare guest's run, natively: how much slower Wasm makes
// the primitive itself.
func (s *Suite) primBench(kind int) func(*testing.B) {
	return func(b *testing.B) {
		a := s.bareArgs[kind]
		verify, err := nativePrimitive(kind, a[0], a[1], a[2])
		if err != nil {
			b.Fatal(err)
		}
		if !verify() {
			b.Fatal("native primitive refused its input")
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if !verify() {
				b.Fatal("native primitive refused its input")
			}
		}
	}
}

func nativePrimitive(kind int, key, msg, sig []byte) (func() bool, error) {
	switch kind {
	case BareEd25519:
		return func() bool { return ed25519.Verify(key, msg, sig) }, nil
	case BareHMAC:
		return func() bool {
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			return hmac.Equal(m.Sum(nil), sig)
		}, nil
	}
	pub, err := x509.ParsePKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		return func() bool {
			h := sha256.Sum256(msg)
			return ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
		}, nil
	case *rsa.PublicKey:
		return func() bool {
			h := sha256.Sum256(msg)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
		}, nil
	}
	return nil, errors.New("bench: unknown primitive")
}

// bare returns the suite's bare guest for kind, instantiated (and
// compiled) on first use: testing.Benchmark calls a case several times.
func (s *Suite) bare(kind int, closeOnDone bool) (*Bare, error) {
	k := bareKey{kind, closeOnDone}
	if b := s.bares[k]; b != nil {
		return b, nil
	}
	a := s.bareArgs[kind]
	b, err := NewBare(s.ctx, s.Guest, kind, closeOnDone, a[0], a[1], a[2])
	if err != nil {
		return nil, err
	}
	s.bares[k] = b
	return b, nil
}

type bareKey struct {
	kind        int
	closeOnDone bool
}

// NativeRequest is the provider's view of r at now, the way the filter
// builds it (lower-case names, path and query split, source address).
func NativeRequest(r hostsim.Request, now time.Time) provider.Request {
	path, query, _ := strings.Cut(r.Path, "?")
	pr := provider.Request{Method: r.Method, Authority: r.Authority, RawPath: r.Path, Path: path, Query: query,
		Now: now.UnixNano()}
	if ap, err := netip.ParseAddrPort(r.SourceAddress); err == nil {
		pr.Source = ap.Addr()
	}
	for _, h := range r.Headers {
		pr.Headers = append(pr.Headers, provider.Header{Name: strings.ToLower(h[0]), Value: h[1]})
	}
	return pr
}

func (s *Suite) nativeBench(name, scheme string, next func(time.Time) hostsim.Request, fresh freshness) func(*testing.B) {
	return func(b *testing.B) {
		p := s.native[name]
		if p == nil {
			b.Fatalf("no native provider %q", name)
		}
		check := NativeRequest(next(T0), T0)
		if _, err := p.Verify(&check); err != nil {
			b.Fatalf("native %s: %v", name, err)
		}
		b.ReportAllocs()
		s.feed(b, GroupNative, scheme, next, fresh, func(r hostsim.Request) {
			pr := NativeRequest(r, T0) // cheap next to verification; allocation-free requests are in TestZeroAllocs
			if _, err := p.Verify(&pr); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// golangJWTBench verifies the same tokens as the wasm JWT cases with
// golang-jwt's usual options (algorithm allow-list, issuer, audience, exp
// required, the benchmark clock).
func (s *Suite) golangJWTBench(alg string, key crypto.PublicKey) func(*testing.B) {
	return func(b *testing.B) {
		parser := gjwt.NewParser(gjwt.WithValidMethods([]string{alg}), gjwt.WithIssuer(Issuer),
			gjwt.WithAudience(Audience), gjwt.WithExpirationRequired(), gjwt.WithTimeFunc(func() time.Time { return T0 }))
		keyFunc := func(*gjwt.Token) (any, error) { return key, nil }
		tok := s.tokens[alg]
		if _, err := parser.Parse(tok, keyFunc); err != nil {
			b.Fatalf("golang-jwt %s: %v", alg, err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := parser.Parse(tok, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
