package scopedtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

// uncached is p with its verified-token cache switched off: every
// request is verified in full, as before the cache existed.
func uncached(t testing.TB, cfg string) *Provider {
	t.Helper()
	o, errs := conf.Root([]byte(cfg), nil)
	p := FromConfig("scoped", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	sp := p.(*Provider)
	sp.cache = nil
	return sp
}

func cached(t testing.TB, cfg string) *Provider {
	t.Helper()
	o, errs := conf.Root([]byte(cfg), nil)
	p := FromConfig("scoped", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	return p.(*Provider)
}

// holds reports whether vc has tok.
func holds(vc *verifiedCache, tok string) bool {
	_, e := vc.get([]byte(tok))
	return e != nil
}

// outcome is everything a verification tells the filter.
type outcome struct {
	Reason    provider.Reason
	Subject   string
	Headers   []provider.Header
	ExpiresAt int64
}

func verifyOutcome(p provider.Provider, r *provider.Request) outcome {
	id, err := p.Verify(r)
	return outcome{provider.ReasonOf(err), id.Subject, id.Headers, id.ExpiresAt}
}

// TestCacheEquivalentOnVectors replays every reference vector on a cached
// provider, each request three times (the later ones can be cache hits),
// and requires exactly the answers of an uncached provider.
func TestCacheEquivalentOnVectors(t *testing.T) {
	for _, c := range loadVectors(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := providerConfig(c.Config)
			ref, p := uncached(t, cfg), cached(t, cfg)
			for i, s := range c.Steps {
				want := verifyOutcome(ref, vecRequest(s))
				for n := 0; n < 3; n++ {
					if got := verifyOutcome(p, vecRequest(s)); !reflect.DeepEqual(got, want) {
						t.Fatalf("step %d, presentation %d: %+v, uncached %+v", i, n, got, want)
					}
				}
			}
		})
	}
}

// TestCacheEquivalentOnRequests presents tokens first on a path they may
// use (so they are cached), then on every request of a hostile set, and
// compares each answer with an uncached provider's.
func TestCacheEquivalentOnRequests(t *testing.T) {
	const cfg = `{"secret_key":"` + testSecret + `","users":[7,8]}`
	ref, p := uncached(t, cfg), cached(t, cfg)
	payload := map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{
		"GET": {"/api/v1/foo", "/api/v1/reports/", "/caf%C3%A9/", "/esc\u00e9/"}, "POST": {"/api/v1/upload"}},
		"recipient": "partner \u00e9 \"q\""}
	toks := []string{
		mint(t, payload, issued, false),
		mint(t, payload, issued, true),
		mint(t, map[string]any{"user": 8, "max_age": 0, "endpoints": map[string][]string{"DELETE": {"/"}}}, issued, false),
		mint(t, map[string]any{"user": 8, "max_age": 60, "endpoints": map[string][]string{}}, issued+30, false),
	}
	warm := []*provider.Request{get("GET", "/api/v1/foo", toks[0], issued), get("GET", "/api/v1/foo", toks[1], issued),
		get("DELETE", "/x", toks[2], issued), get("GET", "/x", toks[3], issued)}
	for i, r := range warm {
		verifyOutcome(p, r)
		if i < 3 && !holds(p.cache, toks[i]) {
			t.Fatalf("token %d was not cached after verifying", i)
		}
	}
	methods := []string{"GET", "get", "POST", "HEAD", "DELETE", "OPTIONS", "TRACE", strings.Repeat("G", 20)}
	paths := []string{"/", "/api/v1/foo", "/api/v1/foobar", "/api/v1/fo", "/API/v1/foo", "/api/v1/reports",
		"/api/v1/reports/x", "/caf%c3%a9/menu", "/café/x", "/escé/", "/api%2Fv1%2Ffoo", "/api%252Fv1", "/a\x00b", "/api/v1/upload/1"}
	raws := []string{"", "/trailing/", "/q?x=/"}
	nows := []int64{issued - 61, issued - 60, issued, issued + 30, issued + 90, issued + 360, issued + 361}
	for ti, tok := range toks {
		for _, m := range methods {
			for _, path := range paths {
				for _, raw := range raws {
					for _, now := range nows {
						r := get(m, path, tok, now)
						r.RawPath = raw
						for _, ns := range []int64{0, 1, -1} {
							r.Now = now*1e9 + ns
							want, got := verifyOutcome(ref, r), verifyOutcome(p, r)
							if !reflect.DeepEqual(got, want) {
								t.Fatalf("token %d %s %q raw %q at %d: cached %+v, uncached %+v", ti, m, path, raw, r.Now, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestCacheHitHonoursExpiry: a cached token expires exactly when a fresh
// verification says so (age == max_age passes, one nanosecond later does
// not), and a timestamp too far in the future is refused on a hit too.
func TestCacheHitHonoursExpiry(t *testing.T) {
	p := cached(t, `{"secret_key":"`+testSecret+`"}`)
	tok := mint(t, map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{"GET": {"/"}}}, issued, false)
	steps := []struct {
		name   string
		nowNs  int64
		reason provider.Reason
	}{
		{"first use", issued * 1e9, provider.ReasonOK},
		{"age == max_age", (issued + 360) * 1e9, provider.ReasonOK},
		{"one ns later", (issued+360)*1e9 + 1, provider.ReasonExpired},
		{"much later", (issued + 10000) * 1e9, provider.ReasonExpired},
		{"clock back within skew", (issued - 60) * 1e9, provider.ReasonOK},
		{"clock back beyond skew", (issued-60)*1e9 - 1, provider.ReasonNotYetValid},
	}
	for _, s := range steps {
		r := get("GET", "/a", tok, 0)
		r.Now = s.nowNs
		id, err := p.Verify(r)
		if got := provider.ReasonOf(err); got != s.reason {
			t.Fatalf("%s: %v, want %v", s.name, err, s.reason)
		}
		if !holds(p.cache, tok) {
			t.Fatalf("%s: token not cached", s.name)
		}
		if err == nil && id.ExpiresAt != (issued+360)*1e9 {
			t.Fatalf("%s: expires at %d", s.name, id.ExpiresAt)
		}
	}
}

// TestCacheNeverMistakesTokens: tokens that share a slot (forced hash
// collision), and a tampered token with the cached one's signature (same
// length and tail, so the same slot), are never answered from another
// token's entry.
func TestCacheNeverMistakesTokens(t *testing.T) {
	p := cached(t, `{"secret_key":"`+testSecret+`"}`)
	p.cache.hash = func([]byte) uint64 { return 42 }
	a := mint(t, map[string]any{"user": 1, "max_age": 60, "endpoints": map[string][]string{"GET": {"/a"}}}, issued, false)
	b := mint(t, map[string]any{"user": 2, "max_age": 60, "endpoints": map[string][]string{"GET": {"/b"}}}, issued, false)
	check := func(name, tok, path string, subject string, reason provider.Reason) {
		t.Helper()
		id, err := p.Verify(get("GET", path, tok, issued))
		if provider.ReasonOf(err) != reason || id.Subject != subject {
			t.Fatalf("%s: %q %v, want %q %v", name, id.Subject, err, subject, reason)
		}
	}
	check("a verified", a, "/a", "1", provider.ReasonOK)
	check("b evicts a", b, "/b", "2", provider.ReasonOK)
	check("b's scope is not a's", b, "/a", "", provider.ReasonScope)
	check("a verified again", a, "/a", "1", provider.ReasonOK)
	check("a's scope is not b's", a, "/b", "", provider.ReasonScope)

	p.cache.hash = tokenHash
	// Flip one payload character, keep length and signature.
	i := strings.IndexByte(a, ':') / 2
	c := byte('A')
	if a[i] == c {
		c = 'B'
	}
	tampered := a[:i] + string(c) + a[i+1:]
	if tokenHash([]byte(tampered)) != tokenHash([]byte(a)) {
		t.Fatal("test assumption: same length and tail hash alike")
	}
	check("a cached", a, "/a", "1", provider.ReasonOK)
	check("tampered payload with a's signature", tampered, "/a", "", provider.ReasonBadSignature)
}

// TestCacheBounded: however many tokens verify, the cache holds at most
// cacheSlots of them, each at most maxCachedToken long; longer tokens are
// verified every time.
func TestCacheBounded(t *testing.T) {
	p := cached(t, `{"secret_key":"`+testSecret+`"}`)
	var last string
	for i := 0; i < 4*cacheSlots; i++ {
		last = mint(t, map[string]any{"user": i, "max_age": 60, "endpoints": map[string][]string{"GET": {"/"}}}, issued, false)
		if _, err := p.Verify(get("GET", "/x", last, issued)); err != nil {
			t.Fatal(err)
		}
	}
	held := 0
	for i := range p.cache.slots {
		if p.cache.slots[i].token != nil {
			held++
		}
	}
	if held == 0 || held > cacheSlots || !holds(p.cache, last) {
		t.Fatalf("%d tokens held, last cached: %v", held, holds(p.cache, last))
	}
	long := mint(t, map[string]any{"user": 1, "max_age": 60, "endpoints": map[string][]string{"GET": {"/" + strings.Repeat("x", maxCachedToken)}}}, issued, false)
	if _, err := p.Verify(get("GET", "/"+strings.Repeat("x", maxCachedToken), long, issued)); err != nil {
		t.Fatal(err)
	}
	if holds(p.cache, long) {
		t.Fatalf("a %d-byte token was cached", len(long))
	}
	// Compressed, a short token can carry a large endpoints object.
	many := make([]string, 1000)
	for i := range many {
		many[i] = "/p/" + strconv.Itoa(i%10)
	}
	big := mint(t, map[string]any{"user": 1, "max_age": 60, "endpoints": map[string][]string{"GET": many}}, issued, true)
	if len(big) > maxCachedToken {
		t.Fatalf("test assumption: compressed token of %d bytes", len(big))
	}
	if _, err := p.Verify(get("GET", "/p/9", big, issued)); err != nil {
		t.Fatal(err)
	}
	if holds(p.cache, big) || p.v.scope.size() <= maxCachedScope {
		t.Fatalf("a token with a %d-byte scope was cached", p.v.scope.size())
	}
}

// TestCacheKeepsSingleUse: a token answered from the cache still goes
// through the replay guard.
func TestCacheKeepsSingleUse(t *testing.T) {
	store := &provider.MemSharedData{}
	o, errs := conf.Root([]byte(`{"secret_key":"`+testSecret+`","single_use":true}`), nil)
	p := FromConfig("scoped", o, provider.Deps{Shared: store, Replay: replay.New(store, replay.Config{Namespace: "st"})})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	tok := mint(t, map[string]any{"user": 7, "max_age": 60, "endpoints": map[string][]string{"GET": {"/"}}}, issued, false)
	if _, err := p.Verify(get("GET", "/a", tok, issued)); err != nil {
		t.Fatal(err)
	}
	if !holds(p.(*Provider).cache, tok) {
		t.Fatal("token not cached")
	}
	if _, err := p.Verify(get("GET", "/a", tok, issued+1)); provider.ReasonOf(err) != provider.ReasonReplayed {
		t.Fatalf("second use on the same VM: %v", err)
	}
}

// TestCacheHitAllocations: a hit allocates nothing, recipient included
// (the header is built once, when the token is cached).
func TestCacheHitAllocations(t *testing.T) {
	p := cached(t, `{"secret_key":"`+testSecret+`"}`)
	tok := mint(t, map[string]any{"user": 7, "max_age": 360, "recipient": "ops@example.org",
		"endpoints": map[string][]string{"GET": {"/api"}}}, issued, false)
	r := get("GET", "/api/x", tok, issued)
	allocs := testing.AllocsPerRun(100, func() {
		if id, err := p.Verify(r); err != nil || id.Headers[0].Value != "ops@example.org" {
			t.Fatal(id, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per cached verification, want 0", allocs)
	}
}

// TestUncachedAllocations: a full verification (a miss) still allocates
// nothing (TestVerifyAllocations now repeats one token: it measures hits).
func TestUncachedAllocations(t *testing.T) {
	p := uncached(t, `{"secret_key":"`+testSecret+`","users":[7]}`)
	tok := mint(t, map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{"GET": {"/api/v1/foo"}}}, issued, false)
	r := get("GET", "/api/v1/foo/items/1", tok, issued+5)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Verify(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per full verification, want 0", allocs)
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	p := uncached(b, `{"secret_key":"`+testSecret+`","users":[7]}`)
	tok := mint(b, map[string]any{"user": 7, "max_age": 360, "endpoints": map[string][]string{"GET": {"/api/v1/foo"}, "POST": {"/api/v1/foo/upload"}}}, issued, false)
	r := get("GET", "/api/v1/foo/items/1", tok, issued+5)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// mintRaw signs js as it is (any bytes) the way mint does.
func mintRaw(js []byte, ts int64) string {
	value := base64.RawURLEncoding.EncodeToString(js) + ":" + b62(ts)
	k := sha256.Sum256([]byte(DefaultSalt + "signer" + testSecret))
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(value))
	return value + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// FuzzCacheEquivalent signs arbitrary payloads and requires a cached
// provider, asked twice (the second time from its cache when the first
// passed), to answer exactly like an uncached one, for the request as
// well as for a second request on another method, path and time (times
// in milliseconds after the token's timestamp).
func FuzzCacheEquivalent(f *testing.F) {
	f.Add(`{"user":7,"max_age":60,"endpoints":{"GET":["/a"]}}`, "GET", "/a/b", "/a/b/", int64(10), "POST", "/a", int64(61000))
	f.Add(`{"user":7,"max_age":60,"endpoints":{"GET":["/a","/b\u00e9"],"POST":["/"]},"recipient":"x\"y"}`, "get", "/b%C3%A9", "", int64(-61000), "POST", "/x", int64(0))
	f.Add(`{"user":8,"max_age":0,"endpoints":{"DELETE":["/"]},"recipient":null}`, "DELETE", "/", "/", int64(0), "DELETE", "/z", int64(1))
	const cfg = `{"secret_key":"` + testSecret + `","users":[7,8]}`
	ref, p := uncached(f, cfg), cached(f, cfg)
	f.Fuzz(func(t *testing.T, js, m1, path1, raw1 string, ms1 int64, m2, path2 string, ms2 int64) {
		tok := mintRaw([]byte(js), issued)
		r1 := get(m1, path1, tok, 0)
		r1.RawPath, r1.Now = raw1, issued*1e9+ms1*1e6
		r2 := get(m2, path2, tok, 0)
		r2.Now = issued*1e9 + ms2*1e6
		for _, r := range []*provider.Request{r1, r1, r2, r1} {
			want, got := verifyOutcome(ref, r), verifyOutcome(p, r)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %s %q at %d: cached %+v, uncached %+v", js, r.Method, r.Path, r.Now, got, want)
			}
		}
	})
}
