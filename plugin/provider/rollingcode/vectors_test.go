package rollingcode

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// vectorFile is the public m2m_token vector set, copied unchanged from
// shared/vectors (made by running the real m2m_token.generate()).
var vectorFile = filepath.Join("..", "..", "..", "tests", "testdata", "vectors", "m2m_token.json")

type m2mVectors struct {
	Cases []struct {
		Name   string `json:"name"`
		Config struct {
			Seed            string  `json:"seed"`
			TTL             int64   `json:"ttl"`
			Alphabet        string  `json:"alphabet"`
			Length          int     `json:"length"`
			Offset          int64   `json:"local_utc_offset_seconds"`
			Kind            string  `json:"kind"`
			Mode            string  `json:"mode"`
			MaxPastSeconds  float64 `json:"max_past_seconds"`
			MaxFutureSecond float64 `json:"max_future_seconds"`
		} `json:"config"`
		Steps []struct {
			NowUS          int64   `json:"now_us"`
			Now            float64 `json:"now"`
			Token          *string `json:"token"`
			ConfigOverride *struct {
				Seed     string `json:"seed"`
				TTL      int64  `json:"ttl"`
				Alphabet string `json:"alphabet"`
				Length   int    `json:"length"`
			} `json:"config_override"`
			Expected struct {
				Valid       bool   `json:"valid"`
				Reason      string `json:"reason"`
				SeedString  string `json:"seed_string"`
				Anchor      int64  `json:"anchor"`
				ConfigError string `json:"config_error"`
			} `json:"expected"`
		} `json:"steps"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) m2mVectors {
	t.Helper()
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v m2mVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	return v
}

func stepNs(nowUS int64, now float64) int64 {
	if nowUS != 0 {
		return nowUS * 1000
	}
	return int64(math.Round(now*1e6)) * 1000
}

func TestM2MVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p := Params{Mode: ModeM2M, TTLSeconds: c.Config.TTL, Alphabet: c.Config.Alphabet,
				Length: c.Config.Length, UTCOffsetSeconds: c.Config.Offset}
			seed := []byte(c.Config.Seed)
			switch c.Config.Kind {
			case "generate":
				for i, s := range c.Steps {
					now := stepNs(s.NowUS, s.Now)
					if a := m2mAnchor(p.TTLSeconds, p.UTCOffsetSeconds, now); a != s.Expected.Anchor {
						t.Errorf("step %d: anchor %d, want %d", i, a, s.Expected.Anchor)
					}
					got, err := Generate(p, seed, now)
					if err != nil || got != *s.Token {
						t.Errorf("step %d: Generate = %q, %v; want %q", i, got, err, *s.Token)
					}
				}
			case "verify":
				pol := Policy{}
				if c.Config.Mode == "window" {
					pol = Policy{MaxPastNs: int64(c.Config.MaxPastSeconds * 1e9), MaxFutureNs: int64(c.Config.MaxFutureSecond * 1e9)}
				}
				vf, err := NewVerifier(p, pol, []Client{{Name: "c", Seed: seed}})
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range c.Steps {
					_, err := vf.Verify(0, *s.Token, stepNs(s.NowUS, s.Now))
					if s.Expected.Valid != (err == nil) {
						t.Errorf("step %d: Verify(%q) = %v, want valid=%v", i, *s.Token, err, s.Expected.Valid)
					}
					if err != nil && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrLength) {
						t.Errorf("step %d: reason %v, want a mismatch", i, err)
					}
				}
			case "config":
				for i, s := range c.Steps {
					o := s.ConfigOverride
					p := Params{Mode: ModeM2M, TTLSeconds: o.TTL, Alphabet: o.Alphabet, Length: o.Length}
					_, err := Generate(p, []byte(o.Seed), stepNs(s.NowUS, s.Now))
					want := map[string]error{"seed": ErrSeed, "ttl": ErrTTL, "sequence": ErrSequence, "token_len": ErrTokenLen}[s.Expected.ConfigError]
					if want == nil || !errors.Is(err, want) {
						t.Errorf("step %d: err %v, want %v", i, err, want)
					}
				}
			default:
				t.Fatalf("unknown kind %q", c.Config.Kind)
			}
		})
	}
	_ = provider.ReasonOK
}
