package replay

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

const sec = int64(1e9)

type counter struct{ n atomic.Int64 }

func (c *counter) Increment(d int64) { c.n.Add(d) }

func TestUse(t *testing.T) {
	type step struct {
		key       string
		now, exp  int64
		wantReson provider.Reason
	}
	cases := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"first use accepted, second refused", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n1", 101 * sec, 140 * sec, provider.ReasonReplayed},
		}},
		{"refused even with another expiry", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n1", 101 * sec, 999 * sec, provider.ReasonReplayed},
		}},
		{"different keys independent", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n2", 100 * sec, 140 * sec, provider.ReasonOK},
		}},
		{"refused until the last nanosecond of its life", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n1", 140*sec - 1, 180 * sec, provider.ReasonReplayed},
		}},
		{"accepted again after expiry", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n1", 140 * sec, 180 * sec, provider.ReasonOK},
			{"n1", 150 * sec, 180 * sec, provider.ReasonReplayed},
		}},
		{"already expired still single use", Config{Namespace: "a"}, []step{
			{"n1", 100 * sec, 50 * sec, provider.ReasonOK},
			{"n1", 100 * sec, 50 * sec, provider.ReasonReplayed},
		}},
		{"full store refuses new keys, never forgets old", Config{Namespace: "a", MaxEntries: 2, Shards: 1}, []step{
			{"n1", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n2", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n3", 101 * sec, 140 * sec, provider.ReasonReplayStoreFull},
			{"n1", 102 * sec, 140 * sec, provider.ReasonReplayed},
			{"n2", 102 * sec, 140 * sec, provider.ReasonReplayed},
		}},
		{"full store frees space as entries expire", Config{Namespace: "a", MaxEntries: 2, Shards: 1}, []step{
			{"n1", 100 * sec, 110 * sec, provider.ReasonOK},
			{"n2", 100 * sec, 140 * sec, provider.ReasonOK},
			{"n3", 105 * sec, 140 * sec, provider.ReasonReplayStoreFull},
			{"n3", 110 * sec, 150 * sec, provider.ReasonOK},
			{"n2", 111 * sec, 150 * sec, provider.ReasonReplayed},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := New(&provider.MemSharedData{}, c.cfg)
			for i, s := range c.steps {
				if got := provider.ReasonOf(g.Use(s.key, s.now, s.exp)); got != s.wantReson {
					t.Fatalf("step %d (%s): got %s, want %s", i, s.key, got, s.wantReson)
				}
			}
		})
	}
}

func TestAcrossVMs(t *testing.T) {
	store := &provider.MemSharedData{}
	vm1 := New(store, Config{Namespace: "jwt"})
	vm2 := New(store, Config{Namespace: "jwt"})
	if err := vm1.Use("svc/1718200003/abc", 100*sec, 140*sec); err != nil {
		t.Fatal(err)
	}
	if err := vm2.Use("svc/1718200003/abc", 101*sec, 140*sec); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second VM accepted a replay: %v", err)
	}
}

func TestNamespacesAreSeparate(t *testing.T) {
	store := &provider.MemSharedData{}
	a := New(store, Config{Namespace: "a"})
	b := New(store, Config{Namespace: "b"})
	if err := a.Use("k", 0, sec); err != nil {
		t.Fatal(err)
	}
	if err := b.Use("k", 0, sec); err != nil {
		t.Fatalf("namespace b saw namespace a's key: %v", err)
	}
}

func TestFullIsCounted(t *testing.T) {
	var full counter
	g := New(&provider.MemSharedData{}, Config{Namespace: "a", MaxEntries: 1, Shards: 1, Full: &full})
	_ = g.Use("a", 0, sec)
	if err := g.Use("b", 0, sec); !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	if full.n.Load() != 1 {
		t.Fatalf("full counter = %d", full.n.Load())
	}
}

func TestMemoryBound(t *testing.T) {
	store := &provider.MemSharedData{}
	g := New(store, Config{Namespace: "a", MaxEntries: 64, Shards: 8})
	accepted := 0
	for i := 0; i < 1000; i++ {
		if g.Use(strconv.Itoa(i), 0, 10*sec) == nil {
			accepted++
		}
	}
	if accepted > g.Capacity() || accepted == 0 {
		t.Fatalf("accepted %d live keys, capacity %d", accepted, g.Capacity())
	}
	if store.Len() != 8 {
		t.Fatalf("store has %d keys, want 8 shards", store.Len())
	}
	total := 0
	for _, k := range g.keys {
		v, _, _ := store.Get(k)
		total += len(v)
	}
	if max := 8 * (1 + entrySize*8); total > max {
		t.Fatalf("store holds %d bytes, bound %d", total, max)
	}
}

func TestCorruptShardFailsClosedAndIsKept(t *testing.T) {
	store := &provider.MemSharedData{}
	g := New(store, Config{Namespace: "a", Shards: 1})
	_ = store.Set(g.keys[0], []byte("garbage"), 0)
	if got := provider.ReasonOf(g.Use("k", 0, sec)); got != provider.ReasonInternal {
		t.Fatalf("got %s", got)
	}
	if v, _, _ := store.Get(g.keys[0]); string(v) != "garbage" {
		t.Fatal("corrupt shard was overwritten")
	}
}

// racyStore lets another writer slip in between a Get and the next Set.
type racyStore struct {
	*provider.MemSharedData
	races int
	other func()
}

func (r *racyStore) Get(key string) ([]byte, uint32, error) {
	v, c, err := r.MemSharedData.Get(key)
	if r.races > 0 {
		r.races--
		r.other()
	}
	return v, c, err
}

func TestCasConflictRetries(t *testing.T) {
	mem := &provider.MemSharedData{}
	other := New(mem, Config{Namespace: "a", Shards: 1})
	n := 0
	rs := &racyStore{MemSharedData: mem}
	rs.other = func() {
		n++
		if err := other.Use("other"+strconv.Itoa(n), 0, sec); err != nil {
			t.Errorf("other writer: %v", err)
		}
	}
	var conflicts counter
	g := New(rs, Config{Namespace: "a", Shards: 1, Conflicts: &conflicts})
	rs.races = 3
	if err := g.Use("mine", 0, sec); err != nil {
		t.Fatal(err)
	}
	if conflicts.n.Load() != 3 {
		t.Fatalf("conflicts = %d, want 3", conflicts.n.Load())
	}
	for i := 1; i <= 3; i++ {
		if err := g.Use("other"+strconv.Itoa(i), 0, sec); !errors.Is(err, ErrReplayed) {
			t.Fatalf("write of the other VM was lost: %v", err)
		}
	}
	if err := other.Use("mine", 0, sec); !errors.Is(err, ErrReplayed) {
		t.Fatalf("own write lost: %v", err)
	}
}

func TestPersistentConflictIsBusy(t *testing.T) {
	mem := &provider.MemSharedData{}
	other := New(mem, Config{Namespace: "a", Shards: 1})
	n := 0
	rs := &racyStore{MemSharedData: mem}
	rs.other = func() { n++; _ = other.Use("o"+strconv.Itoa(n), 0, sec) }
	g := New(rs, Config{Namespace: "a", Shards: 1})
	rs.races = 1 << 30
	if err := g.Use("mine", 0, sec); !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v", err)
	}
}

// TestHammer: many VMs (goroutines, each with its own Guard) race to use the
// same keys; each key must be accepted exactly once.
func TestHammer(t *testing.T) {
	store := &provider.MemSharedData{}
	const vms, keys = 8, 200
	var accepted [keys]atomic.Int32
	var wg sync.WaitGroup
	for v := 0; v < vms; v++ {
		g := New(store, Config{Namespace: "h", Shards: 4})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < keys; k++ {
				err := g.Use("key-"+strconv.Itoa(k), 0, 60*sec)
				switch {
				case err == nil:
					accepted[k].Add(1)
				case errors.Is(err, ErrReplayed), errors.Is(err, ErrBusy):
				default:
					t.Errorf("unexpected %v", err)
				}
			}
		}()
	}
	wg.Wait()
	for k := range accepted {
		if n := accepted[k].Load(); n > 1 {
			t.Fatalf("key %d accepted %d times", k, n)
		}
	}
}

func BenchmarkUse(b *testing.B) {
	g := New(&provider.MemSharedData{}, Config{Namespace: "bench"})
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "subject/" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now := int64(i) * 1e6
		_ = g.Use(keys[i%len(keys)]+strconv.Itoa(i), now, now+40*sec)
	}
}

// TestUseBytesSharesKeys: a key used as a string is replayed as bytes and
// the other way round (one key space, one hash).
func TestUseBytesSharesKeys(t *testing.T) {
	g := New(&provider.MemSharedData{}, Config{Namespace: "b"})
	if err := g.Use("first", 0, sec); err != nil {
		t.Fatal(err)
	}
	if err := g.UseBytes([]byte("first"), 0, sec); !errors.Is(err, ErrReplayed) {
		t.Fatalf("bytes after string: %v", err)
	}
	if err := g.UseBytes([]byte("second"), 0, sec); err != nil {
		t.Fatal(err)
	}
	if err := g.Use("second", 0, sec); !errors.Is(err, ErrReplayed) {
		t.Fatalf("string after bytes: %v", err)
	}
	var nilGuard *Guard
	if err := nilGuard.UseBytes([]byte("k"), 0, sec); err == nil {
		t.Fatal("a nil guard accepted a key")
	}
}

// BenchmarkUseBusyShards: the steady state of a busy guard, about 200
// live entries in every shard (of 256), each Use expiring about one.
func BenchmarkUseBusyShards(b *testing.B) {
	const shards, live, step = 16, 200, int64(1e6)
	g := New(&provider.MemSharedData{}, Config{Namespace: "bench", Shards: shards, MaxEntries: shards * 256})
	ttl := shards * live * step
	i := 0
	use := func() {
		now := int64(i) * step
		if err := g.Use("k"+strconv.Itoa(i), now, now+ttl); err != nil {
			b.Fatal(err)
		}
		i++
	}
	for range shards * live * 2 {
		use()
	}
	b.ReportAllocs()
	for b.Loop() {
		use()
	}
}
