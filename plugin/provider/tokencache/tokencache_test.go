package tokencache

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

func TestCache(t *testing.T) {
	ok := Result{Identity: provider.Identity{Subject: "alice"}}
	bad := Result{Err: provider.NewError(provider.ReasonUnknown, "inactive")}
	type op struct {
		put      bool
		token    string
		r        Result
		now, exp int64
		wantHit  bool
		wantSubj string
	}
	cases := []struct {
		name string
		cap  int
		ops  []op
	}{
		{"miss on empty", 4, []op{{token: "a", now: 1}}},
		{"hit before expiry", 4, []op{
			{put: true, token: "a", r: ok, now: 1, exp: 10},
			{token: "a", now: 9, wantHit: true, wantSubj: "alice"},
		}},
		{"miss at expiry", 4, []op{
			{put: true, token: "a", r: ok, now: 1, exp: 10},
			{token: "a", now: 10},
		}},
		{"prefix of a cached token misses", 4, []op{
			{put: true, token: "abcdef", r: ok, now: 1, exp: 10},
			{token: "abcde", now: 2},
			{token: "abcdefg", now: 2},
		}},
		{"negative result cached", 4, []op{
			{put: true, token: "x", r: bad, now: 1, exp: 10},
			{token: "x", now: 2, wantHit: true},
		}},
		{"expired put ignored", 4, []op{
			{put: true, token: "a", r: ok, now: 10, exp: 10},
			{token: "a", now: 5},
		}},
		{"oversize not cached", 4, []op{
			{put: true, token: strings.Repeat("t", 5000), r: ok, now: 1, exp: 10},
			{token: strings.Repeat("t", 5000), now: 2},
		}},
		{"oldest evicted when full", 2, []op{
			{put: true, token: "a", r: ok, now: 1, exp: 100},
			{put: true, token: "b", r: ok, now: 1, exp: 100},
			{put: true, token: "c", r: ok, now: 1, exp: 100},
			{token: "a", now: 2},
			{token: "b", now: 2, wantHit: true, wantSubj: "alice"},
			{token: "c", now: 2, wantHit: true, wantSubj: "alice"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cache := New(Config{Capacity: c.cap})
			for i, o := range c.ops {
				if o.put {
					cache.Put(o.token, o.r, o.now, o.exp)
					continue
				}
				r, hit := cache.Get(o.token, o.now)
				if hit != o.wantHit || r.Identity.Subject != o.wantSubj {
					t.Fatalf("op %d: hit=%v subject=%q", i, hit, r.Identity.Subject)
				}
				if hit && o.wantSubj == "" && !errors.Is(r.Err, bad.Err) {
					t.Fatalf("op %d: negative result lost: %v", i, r.Err)
				}
			}
		})
	}
}

func TestBounded(t *testing.T) {
	c := New(Config{Capacity: 16})
	for i := 0; i < 1000; i++ {
		c.Put("tok"+strconv.Itoa(i), Result{}, 0, 1)
	}
	if c.Len() != 16 || len(c.index) != 16 {
		t.Fatalf("len %d index %d", c.Len(), len(c.index))
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	c := New(Config{})
	c.Put("token", Result{Identity: provider.Identity{Subject: "s"}}, 0, 100)
	if n := testing.AllocsPerRun(100, func() { c.Get("token", 1) }); n != 0 {
		t.Fatalf("Get allocates %v", n)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New(Config{})
	tok := strings.Repeat("x", 600)
	c.Put(tok, Result{}, 0, 1<<62)
	b.ReportAllocs()
	for b.Loop() {
		c.Get(tok, 1)
	}
}

// TestHashCollisions: with every token hashing alike, a token is never
// answered with another's result, the latest token is found, eviction of
// an entry that lost its index slot leaves the newer entry findable, and
// the ring still bounds memory.
func TestHashCollisions(t *testing.T) {
	c := New(Config{Capacity: 3})
	c.hash = func(string) uint64 { return 7 }
	res := func(s string) Result { return Result{Identity: provider.Identity{Subject: s}} }
	for _, tok := range []string{"a", "b"} {
		c.Put(tok, res(tok), 1, 100)
	}
	if _, ok := c.Get("a", 2); ok {
		t.Fatal("a found through b's index slot")
	}
	if r, ok := c.Get("b", 2); !ok || r.Identity.Subject != "b" {
		t.Fatalf("b: %v %v", r, ok)
	}
	if _, ok := c.Get("z", 2); ok {
		t.Fatal("an unknown token hit")
	}
	c.Put("c", res("c"), 1, 100) // ring full: a, b, c
	c.Put("d", res("d"), 1, 100) // evicts a, whose slot is not indexed
	if r, ok := c.Get("d", 2); !ok || r.Identity.Subject != "d" {
		t.Fatalf("d: %v %v", r, ok)
	}
	c.Put("d", res("d2"), 1, 100) // update in place
	if r, _ := c.Get("d", 2); r.Identity.Subject != "d2" || c.Len() != 3 {
		t.Fatalf("update: %v, %d entries", r.Identity.Subject, c.Len())
	}
	for i := 0; i < 10; i++ {
		c.Put("t"+strconv.Itoa(i), res("x"), 1, 100)
	}
	if c.Len() != 3 || len(c.index) > 3 {
		t.Fatalf("%d entries, %d index slots", c.Len(), len(c.index))
	}
}

// TestTokenHashSpreads: JWT-like tokens differing in one byte anywhere
// hash apart (a sanity check of the mixing, not a security property).
func TestTokenHashSpreads(t *testing.T) {
	base := []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 14))
	seen := map[uint64]int{}
	for i := range base {
		b := append([]byte(nil), base...)
		b[i] ^= 1
		seen[tokenHash(string(b))]++
	}
	if len(seen) != len(base) {
		t.Fatalf("%d distinct hashes for %d tokens", len(seen), len(base))
	}
}

// TestSlotReuse: an evicted slot's buffer is reused for tokens longer and
// shorter than the one before, and only the exact token hits.
func TestSlotReuse(t *testing.T) {
	c := New(Config{Capacity: 1})
	for _, tok := range []string{"abc", "abcdefgh", "ab", "abcdefgh"} {
		c.Put(tok, Result{Identity: provider.Identity{Subject: tok}}, 1, 100)
		if r, ok := c.Get(tok, 2); !ok || r.Identity.Subject != tok {
			t.Fatalf("%s: %v %v", tok, r, ok)
		}
		for _, other := range []string{"abc", "abcdefgh", "ab", "abcd"} {
			if _, ok := c.Get(other, 2); ok != (other == tok) {
				t.Fatalf("after putting %q, %q hit: %v", tok, other, ok)
			}
		}
	}
	tok := "xyz"
	c.Put(tok, Result{}, 1, 100)
	if n := testing.AllocsPerRun(50, func() {
		c.Put("uvw", Result{}, 1, 100)
		c.Put(tok, Result{}, 1, 100)
	}); n != 0 {
		t.Fatalf("%v allocations per evicting put", n)
	}
}
