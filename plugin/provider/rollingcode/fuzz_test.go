package rollingcode

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// FuzzVerify feeds arbitrary codes and instants to a verifier seeded from
// the vector set. Properties: no panic; a refusal is always a
// *provider.Error; an accepted code is exactly what Generate produces for
// the matched window.
func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Cases {
		for _, s := range c.Steps {
			if s.Token != nil {
				f.Add(*s.Token, stepNs(s.NowUS, s.Now), uint8(0))
			}
		}
	}
	f.Add("", int64(-1), uint8(1))
	f.Add("ääääää", int64(1<<62), uint8(1))
	p := Params{Mode: ModeM2M, TTLSeconds: 3, Alphabet: DefaultAlphabet, Length: 6}
	seed := []byte("public-m2m-seed-7f3a9c")
	m2m, _ := NewVerifier(p, Policy{MaxPastNs: 3e9, MaxFutureNs: 1e9}, []Client{{Name: "a", Seed: seed}})
	hp := Params{Mode: ModeHMAC, TTLSeconds: 30, Alphabet: DefaultAlphabet, Length: 6}
	hm, _ := NewVerifier(hp, Policy{MaxPastNs: 3e9, MaxFutureNs: 1e9}, []Client{{Name: "a", Seed: seed}})
	f.Fuzz(func(t *testing.T, code string, now int64, which uint8) {
		vf, params := m2m, p
		if which&1 == 1 {
			vf, params = hm, hp
		}
		m, err := vf.Verify(0, code, now)
		if err != nil {
			if _, ok := err.(*provider.Error); !ok {
				t.Fatalf("refusal is %T", err)
			}
			return
		}
		g := newGenerator(params)
		var buf [maxCodeBytes]byte
		if got := string(g.code(seed, nil, m.Window, buf[:0])); got != code {
			t.Fatalf("accepted %q for window %d whose code is %q", code, m.Window, got)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"m2m", Params{Mode: ModeM2M, TTLSeconds: 30, Alphabet: DefaultAlphabet, Length: 6}},
		{"hmac", Params{Mode: ModeHMAC, TTLSeconds: 30, Alphabet: DefaultAlphabet, Length: 8}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			seed := []byte("bench-seed-0123456789")
			v, err := NewVerifier(bc.p, Policy{MaxPastNs: 2e9, MaxFutureNs: 1e9}, []Client{{Name: "a", Seed: seed}})
			if err != nil {
				b.Fatal(err)
			}
			code, _ := Generate(bc.p, seed, t0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(0, code, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Cold: every request in a new window, so codes are computed, not cached.
	for _, mode := range []Mode{ModeM2M, ModeHMAC} {
		b.Run("cold-"+[]string{"hmac", "m2m"}[mode], func(b *testing.B) {
			p := Params{Mode: mode, TTLSeconds: 1, Alphabet: DefaultAlphabet, Length: 6}
			seed := []byte("bench-seed-0123456789")
			v, _ := NewVerifier(p, Policy{}, []Client{{Name: "a", Seed: seed}})
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = v.Verify(0, "aaaaaa", t0+int64(i)*nsPerSecond)
			}
		})
	}
}

// TestVerifyDoesNotAllocate is the issue-7 target: zero heap allocations
// per verification on the hot path (codes cached for the window).
func TestVerifyDoesNotAllocate(t *testing.T) {
	for _, mode := range []Mode{ModeM2M, ModeHMAC} {
		p := Params{Mode: mode, TTLSeconds: 30, Alphabet: DefaultAlphabet, Length: 6}
		seed := []byte("alloc-seed-0123456789")
		v, _ := NewVerifier(p, Policy{MaxPastNs: 2e9, MaxFutureNs: 1e9}, []Client{{Name: "a", Seed: seed}})
		code, _ := Generate(p, seed, t0)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := v.Verify(0, code, t0); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("mode %d: %v allocations per verification", mode, allocs)
		}
	}
}
