package ratelimit

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// FuzzTake starts from an arbitrary stored bucket value and an arbitrary
// limit and instant. Properties: no panic; a refusal carries a positive
// retry-after; an admission leaves a decodable bucket whose TAT lies after
// now and no further ahead than Burst intervals.
func FuzzTake(f *testing.F) {
	f.Add([]byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 1.0, int64(3), t0)
	f.Add([]byte{0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1e9, int64(1), t0)
	f.Add([]byte{}, 1e-6, int64(1<<30), int64(0))
	f.Add([]byte("garbage"), -1.0, int64(-1), int64(-5))
	f.Fuzz(func(t *testing.T, stored []byte, perSecond float64, burst, now int64) {
		mem := &provider.MemSharedData{}
		l := New(mem, "f")
		key := l.storeKey("k")
		if len(stored) > 0 {
			_ = mem.Set(key, stored, 0)
		}
		lim := Limit{PerSecond: perSecond, Burst: burst}
		ok, retry := l.Take("k", lim, now)
		if !ok {
			if retry < 1 {
				t.Fatalf("refusal with retry %d", retry)
			}
			return
		}
		if !lim.Valid() {
			t.Fatal("admitted with an invalid limit")
		}
		v, _, err := mem.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		tat, dec := decode(v)
		interval := max(int64(1e9/perSecond), 1)
		if !dec || tat <= now || tat-now > satMul(interval, burst) {
			t.Fatalf("bucket after admission: %x (now %d)", v, now)
		}
	})
}
