package ratelimit

import (
	"errors"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

const sec = int64(1e9)

// t0 is an arbitrary instant (2026-11-23T00:00:00Z).
const t0 = int64(1795392000) * sec

type take struct {
	at        int64 // offset from t0
	key       string
	wantOK    bool
	wantRetry int64
}

func TestTake(t *testing.T) {
	cases := []struct {
		name  string
		lim   Limit
		steps []take
	}{
		{"burst then refusal then refill", Limit{PerSecond: 1, Burst: 3}, []take{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
			{0, "a", false, 1},
			{sec / 2, "a", false, 1}, // half a token: still wait (rounded up)
			{sec, "a", true, 0},
			{sec, "a", false, 1},
			{100 * sec, "a", true, 0}, {100 * sec, "a", true, 0}, {100 * sec, "a", true, 0},
			{100 * sec, "a", false, 1}, // refill is capped at Burst
		}},
		{"keys are independent", Limit{PerSecond: 1, Burst: 1}, []take{
			{0, "a", true, 0}, {0, "a", false, 1}, {0, "b", true, 0}, {0, "b", false, 1},
		}},
		{"slow rate gives long retry-after", Limit{PerSecond: 0.1, Burst: 1}, []take{
			{0, "a", true, 0}, {0, "a", false, 10}, {4 * sec, "a", false, 6}, {10 * sec, "a", true, 0},
		}},
		{"fast rate", Limit{PerSecond: 1000, Burst: 2}, []take{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 1}, {sec / 1000, "a", true, 0},
		}},
		{"clock going backwards gives nothing back", Limit{PerSecond: 1, Burst: 2}, []take{
			{10 * sec, "a", true, 0}, {10 * sec, "a", true, 0}, {5 * sec, "a", false, 6}, {10 * sec, "a", false, 1},
		}},
		{"invalid: zero rate", Limit{PerSecond: 0, Burst: 5}, []take{{0, "a", false, 1}}},
		{"invalid: zero burst", Limit{PerSecond: 5, Burst: 0}, []take{{0, "a", false, 1}}},
		{"invalid: NaN", Limit{PerSecond: math.NaN(), Burst: 5}, []take{{0, "a", false, 1}}},
		{"invalid: huge burst", Limit{PerSecond: 5, Burst: MaxBurst + 1}, []take{{0, "a", false, 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := New(&provider.MemSharedData{}, "rule")
			for i, s := range c.steps {
				ok, retry := l.Take(s.key, c.lim, t0+s.at)
				if ok != s.wantOK || retry != s.wantRetry {
					t.Fatalf("step %d (%+v): got (%v, %d)", i, s, ok, retry)
				}
			}
		})
	}
}

func TestBucketsAreSharedPerNamespace(t *testing.T) {
	store := &provider.MemSharedData{}
	vm1, vm2 := New(store, "rule"), New(store, "rule")
	other := New(store, "other")
	lim := Limit{PerSecond: 1, Burst: 2}
	if ok, _ := vm1.Take("k", lim, t0); !ok {
		t.Fatal("first")
	}
	if ok, _ := vm2.Take("k", lim, t0); !ok {
		t.Fatal("second, other VM")
	}
	if ok, _ := vm1.Take("k", lim, t0); ok {
		t.Fatal("third must be refused: the VMs share one bucket")
	}
	if ok, _ := other.Take("k", lim, t0); !ok {
		t.Fatal("another namespace has its own bucket")
	}
	if store.Len() != 2 {
		t.Fatalf("store holds %d keys, want 2", store.Len())
	}
}

// racingStore lets another VM act between our Get and our Set.
type racingStore struct {
	provider.SharedData
	between func()
}

func (r *racingStore) Get(key string) ([]byte, uint32, error) {
	v, cas, err := r.SharedData.Get(key)
	if f := r.between; f != nil {
		r.between = nil
		f()
	}
	return v, cas, err
}

func TestConcurrentCreationDoesNotOverAdmit(t *testing.T) {
	// Both VMs see the key absent; the other VM creates it first. With
	// Envoy's "cas ignored on absent keys" a blind create would overwrite
	// the other VM's token and admit a second request from a bucket of one.
	mem := &provider.MemSharedData{}
	lim := Limit{PerSecond: MinPerSecond, Burst: 1}
	other := New(mem, "rule")
	rs := &racingStore{SharedData: mem}
	rs.between = func() {
		if ok, _ := other.Take("k", lim, t0); !ok {
			t.Error("other VM should have been admitted")
		}
	}
	l := New(rs, "rule")
	if ok, _ := l.Take("k", lim, t0); ok {
		t.Fatal("over-admission: a bucket of one admitted two requests")
	}
}

func TestCasRetryWins(t *testing.T) {
	mem := &provider.MemSharedData{}
	lim := Limit{PerSecond: MinPerSecond, Burst: 3}
	other := New(mem, "rule")
	other.Take("k", lim, t0) // bucket exists
	rs := &racingStore{SharedData: mem}
	rs.between = func() { other.Take("k", lim, t0) }
	l := New(rs, "rule")
	if ok, _ := l.Take("k", lim, t0); !ok {
		t.Fatal("the retry should have taken the last token")
	}
	if ok, _ := other.Take("k", lim, t0); ok {
		t.Fatal("bucket should be empty after three takes")
	}
}

// faultyStore fails in a chosen way and counts calls.
type faultyStore struct {
	getErr, setErr error
	value          []byte
	gets, sets     int
}

func (f *faultyStore) Get(string) ([]byte, uint32, error) {
	f.gets++
	if f.getErr != nil {
		return nil, 0, f.getErr
	}
	return f.value, 7, nil
}

func (f *faultyStore) Set(_ string, v []byte, _ uint32) error {
	f.sets++
	if f.setErr == nil {
		f.value = append(f.value[:0], v...)
	}
	return f.setErr
}

func TestFailsClosed(t *testing.T) {
	lim := Limit{PerSecond: 100, Burst: 100}
	cases := []struct {
		name     string
		store    *faultyStore
		wantSets int
	}{
		{"get fails", &faultyStore{getErr: errors.New("host: bad argument")}, 0},
		{"set fails", &faultyStore{getErr: provider.ErrNotFound, setErr: errors.New("host: bad argument")}, 1},
		{"endless cas mismatch", &faultyStore{getErr: provider.ErrNotFound, setErr: provider.ErrCasMismatch}, MaxAttempts},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, retry := New(c.store, "r").Take("k", lim, t0)
			if ok || retry != 1 {
				t.Fatalf("got (%v, %d), want refusal with retry 1", ok, retry)
			}
			if c.store.sets != c.wantSets {
				t.Fatalf("sets = %d, want %d", c.store.sets, c.wantSets)
			}
		})
	}
}

func TestNilStoreFailsClosed(t *testing.T) {
	if ok, retry := New(nil, "r").Take("k", Limit{PerSecond: 1, Burst: 1}, t0); ok || retry != 1 {
		t.Fatalf("got (%v, %d), want a refusal", ok, retry)
	}
}

func TestUndecodableBucketIsReset(t *testing.T) {
	for _, v := range [][]byte{nil, {0x01}, {0x02, 0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 20)} {
		st := &faultyStore{value: v}
		if ok, _ := New(st, "r").Take("k", Limit{PerSecond: 1, Burst: 1}, t0); !ok {
			t.Fatalf("value %x: want a fresh bucket", v)
		}
		if got, ok := decode(st.value); !ok || got != t0+sec {
			t.Fatalf("value %x: rewritten as %x", v, st.value)
		}
	}
}

// yieldingStore gives up the processor between a read and the write that
// follows it, so hammering goroutines really interleave inside Take's
// read-decide-write window instead of running it back to back.
type yieldingStore struct{ provider.SharedData }

func (y yieldingStore) Get(key string) ([]byte, uint32, error) {
	v, cas, err := y.SharedData.Get(key)
	runtime.Gosched()
	return v, cas, err
}

// TestHammer runs one Limiter per goroutine (one per worker VM) over one
// store, all at the same instant, and checks that exactly Burst requests
// are admitted in total: never more (over-admission), and, since refused
// attempts do not consume, not fewer once everyone has tried enough.
func TestHammer(t *testing.T) {
	const workers, tries, burst = 8, 400, 100
	store := &provider.MemSharedData{}
	lim := Limit{PerSecond: MinPerSecond, Burst: burst}
	var admitted atomic.Int64
	var start, done sync.WaitGroup
	start.Add(1)
	for w := 0; w < workers; w++ {
		done.Add(1)
		go func() {
			defer done.Done()
			l := New(yieldingStore{store}, "hammer")
			start.Wait()
			for i := 0; i < tries; i++ {
				if ok, _ := l.Take("shared", lim, t0); ok {
					admitted.Add(1)
				}
			}
		}()
	}
	start.Done()
	done.Wait()
	if got := admitted.Load(); got != burst {
		t.Fatalf("admitted %d, want exactly %d", got, burst)
	}
}

// TestHammerWithRefill lets time advance (each worker at its own pace, as
// VMs read their clocks independently) and checks the admissions never
// exceed what the bucket allows up to the latest instant any worker used:
// Burst + PerSecond × elapsed.
func TestHammerWithRefill(t *testing.T) {
	const workers, tries = 8, 500
	const step = int64(1e6) // 1 ms per try
	lim := Limit{PerSecond: 100, Burst: 10}
	store := &provider.MemSharedData{}
	var admitted atomic.Int64
	var start, done sync.WaitGroup
	start.Add(1)
	for w := 0; w < workers; w++ {
		done.Add(1)
		go func() {
			defer done.Done()
			l := New(yieldingStore{store}, "hammer")
			start.Wait()
			for i := int64(0); i < tries; i++ {
				if ok, _ := l.Take("shared", lim, t0+i*step); ok {
					admitted.Add(1)
				}
			}
		}()
	}
	start.Done()
	done.Wait()
	elapsed := float64((tries-1)*step) / 1e9
	limit := int64(float64(lim.Burst) + lim.PerSecond*elapsed)
	got := admitted.Load()
	if got > limit {
		t.Fatalf("over-admission: %d admitted, at most %d allowed", got, limit)
	}
	if got < limit*3/4 {
		t.Fatalf("only %d of %d possible admissions: refill or retries broken", got, limit)
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	l := New(&provider.MemSharedData{}, "r")
	for i := 0; i < 3*keyCacheMax; i++ {
		l.Take(AddressKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 0), Limit{PerSecond: 1, Burst: 1}, t0)
		if len(l.keys) > keyCacheMax {
			t.Fatalf("cache grew to %d", len(l.keys))
		}
	}
}

// nopStore returns a fixed value and accepts every write, allocating
// nothing, so the Limiter's own allocations can be measured.
type nopStore struct{ value []byte }

func (s *nopStore) Get(string) ([]byte, uint32, error) { return s.value, 1, nil }
func (s *nopStore) Set(string, []byte, uint32) error   { return nil }

func TestTakeDoesNotAllocate(t *testing.T) {
	st := &nopStore{value: []byte{stateVersion, 0, 0, 0, 0, 0, 0, 0, 0}}
	l := New(st, "r")
	lim := Limit{PerSecond: 1e6, Burst: 10}
	l.Take("subject:ci", lim, t0) // warm the key cache
	if n := testing.AllocsPerRun(100, func() { l.Take("subject:ci", lim, t0) }); n != 0 {
		t.Fatalf("Take allocates %v times", n)
	}
}

func BenchmarkTake(b *testing.B) {
	lim := Limit{PerSecond: 1e9, Burst: 1 << 20}
	b.Run("limiter-only", func(b *testing.B) {
		l := New(&nopStore{value: []byte{stateVersion, 0, 0, 0, 0, 0, 0, 0, 0}}, "r")
		b.ReportAllocs()
		for b.Loop() {
			l.Take("subject:ci", lim, t0)
		}
	})
	b.Run("memshared", func(b *testing.B) {
		l := New(&provider.MemSharedData{}, "r")
		b.ReportAllocs()
		now := t0
		for b.Loop() {
			now++
			l.Take("subject:ci", lim, now)
		}
	})
}

func TestAddressKey(t *testing.T) {
	cases := []struct {
		name  string
		a     string
		slots uint32
		want  string
	}{
		{"v4 exact", "192.0.2.7", 0, "addr:192.0.2.7"},
		{"v4-mapped counts as v4", "::ffff:192.0.2.7", 0, "addr:192.0.2.7"},
		{"v6 per /64", "2001:db8:1:2:aaaa::1", 0, "addr:2001:db8:1:2::"},
		{"v6 zone dropped", "fe80::1%eth0", 0, "addr:fe80::"},
		{"invalid", "", 0, "addr:?"},
		{"invalid with slots", "", 16, "addr:?"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a netip.Addr
			if c.a != "" {
				a = netip.MustParseAddr(c.a)
			}
			if got := AddressKey(a, c.slots); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	// Same /64 → same slot; slots bound the key space.
	a1 := AddressKey(netip.MustParseAddr("2001:db8::1"), 64)
	a2 := AddressKey(netip.MustParseAddr("2001:db8::ffff"), 64)
	if a1 != a2 {
		t.Fatalf("same /64 in different slots: %s %s", a1, a2)
	}
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		seen[AddressKey(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 64)] = true
	}
	if len(seen) > 64 || len(seen) < 32 {
		t.Fatalf("5000 addresses used %d of 64 slots", len(seen))
	}
}
