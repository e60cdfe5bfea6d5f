package rollingcode

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

const t0 = int64(1718000001250000000) // 2024-06-10T06:13:21.25Z

func build(t *testing.T, cfg string, d provider.Deps) *Provider {
	t.Helper()
	o, errs := conf.Root([]byte(cfg), conf.MapEnv{"SEED_B": "beta-seed-0123456789abcdef"})
	p := FromConfig("rc", o, d)
	if err := errs.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return p.(*Provider)
}

func req(now int64, headers ...string) *provider.Request {
	r := &provider.Request{Method: "GET", Path: "/", Now: now}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, provider.Header{Name: headers[i], Value: headers[i+1]})
	}
	return r
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, cfg, want string
	}{
		{"no clients", `{}`, "clients: is required"},
		{"empty clients", `{"clients":{}}`, "clients: must name at least one client"},
		{"weak hmac seed", `{"clients":{"a":{"seed":"short"}}}`, "clients.a.seed: secret is too weak"},
		{"bad mode", `{"mode":"md5","clients":{"a":{"seed":"0123456789abcdef"}}}`, `mode: "md5" is not one of hmac, m2m_token`},
		{"zero ttl", `{"ttl_seconds":0,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "ttl_seconds: must be between 1 and 3600"},
		{"zero length", `{"length":0,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "length: must be between 1 and 64"},
		{"empty alphabet", `{"alphabet":"","clients":{"a":{"seed":"0123456789abcdef"}}}`, "alphabet: must be a non-empty"},
		{"offset in hmac", `{"utc_offset_seconds":3600,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "utc_offset_seconds: only applies"},
		{"single use without store", `{"single_use":true,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "single_use: needs the shared replay store"},
		{"unknown field", `{"seeds":1,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "seeds: unknown field"},
		{"too much skew", `{"max_past_seconds":100,"max_future_seconds":100,"clients":{"a":{"seed":"0123456789abcdef"}}}`, "max_past_seconds + max_future_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, errs := conf.Root([]byte(tt.cfg), nil)
			if p := FromConfig("rc", o, provider.Deps{}); p != nil {
				t.Fatal("provider built despite errors")
			}
			if !strings.Contains(errs.Error(), tt.want) {
				t.Fatalf("errors %q do not contain %q", errs.Error(), tt.want)
			}
		})
	}
	t.Run("too many clients without header", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"clients":{`)
		for i := 0; i <= MaxClientsWithoutHeader; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"c` + strconv.Itoa(i) + `":{"seed":"0123456789abcdef` + strconv.Itoa(i) + `"}`)
		}
		b.WriteString(`}}`)
		o, errs := conf.Root([]byte(b.String()), nil)
		if FromConfig("rc", o, provider.Deps{}) != nil || !strings.Contains(errs.Error(), "need \"client_header\"") {
			t.Fatalf("want a client_header error, got %v", errs.Err())
		}
	})
}

func TestM2MModeWarns(t *testing.T) {
	var warned []string
	build(t, `{"mode":"m2m_token","ttl_seconds":3,"clients":{"a":{"seed":"x"}}}`,
		provider.Deps{WarnFunc: func(m string) { warned = append(warned, m) }})
	if len(warned) != 1 || !strings.Contains(warned[0], "weak") || strings.Contains(warned[0], `"x"`) {
		t.Fatalf("warnings = %q", warned)
	}
}

func TestVerify(t *testing.T) {
	cfg := `{"mode":"hmac","ttl_seconds":30,"max_past_seconds":2,"max_future_seconds":1,
	  "clients":{"alpha":{"seed":"alpha-seed-0123456789"},"beta":{"seed":{"env":"SEED_B"}}}}`
	p := build(t, cfg, provider.Deps{})
	params := p.v.p
	alpha, _ := Generate(params, []byte("alpha-seed-0123456789"), t0)
	beta, _ := Generate(params, []byte("beta-seed-0123456789abcdef"), t0)
	stepStart := (t0 / (30 * nsPerSecond)) * 30 * nsPerSecond
	prev, _ := Generate(params, []byte("alpha-seed-0123456789"), stepStart-nsPerSecond)
	next, _ := Generate(params, []byte("alpha-seed-0123456789"), stepStart+30*nsPerSecond)
	other, _ := Generate(params, []byte("gamma-seed-0123456789"), t0)

	tests := []struct {
		name    string
		r       *provider.Request
		subject string
		reason  provider.Reason
	}{
		{"alpha now", req(t0, "x-rolling-code", alpha), "alpha", provider.ReasonOK},
		{"beta now", req(t0, "x-rolling-code", beta), "beta", provider.ReasonOK},
		{"missing", req(t0), "", provider.ReasonMissing},
		{"repeated header", req(t0, "x-rolling-code", alpha, "x-rolling-code", alpha), "", provider.ReasonAmbiguous},
		{"unknown seed", req(t0, "x-rolling-code", other), "", provider.ReasonBadSignature},
		{"previous window within 2s", req(stepStart+nsPerSecond, "x-rolling-code", prev), "alpha", provider.ReasonOK},
		{"previous window beyond skew (expired)", req(stepStart+3*nsPerSecond, "x-rolling-code", prev), "", provider.ReasonBadSignature},
		{"next window within 1s", req(stepStart+30*nsPerSecond-nsPerSecond/2, "x-rolling-code", next), "alpha", provider.ReasonOK},
		{"future-dated beyond skew", req(stepStart+28*nsPerSecond, "x-rolling-code", next), "", provider.ReasonBadSignature},
		{"truncated", req(t0, "x-rolling-code", alpha[:len(alpha)-1]), "", provider.ReasonMalformed},
		{"padded", req(t0, "x-rolling-code", alpha+"="), "", provider.ReasonMalformed},
		{"re-encoded (case)", req(t0, "x-rolling-code", strings.ToUpper(alpha)), "", provider.ReasonBadSignature},
		{"oversize", req(t0, "x-rolling-code", strings.Repeat("a", 9000)), "", provider.ReasonOversize},
		{"empty", req(t0, "x-rolling-code", ""), "", provider.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "re-encoded (case)" && strings.ToUpper(alpha) == alpha {
				t.Skip("code has no letters")
			}
			id, err := p.Verify(tt.r)
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
			if id.Subject != tt.subject {
				t.Fatalf("subject %q, want %q", id.Subject, tt.subject)
			}
			if err != nil && strings.Contains(err.Error(), alpha) {
				t.Fatal("error message contains the code")
			}
		})
	}
}

func TestClientHeader(t *testing.T) {
	p := build(t, `{"client_header":"X-Client","clients":{"alpha":{"seed":"alpha-seed-0123456789"},"beta":{"seed":{"env":"SEED_B"}}}}`, provider.Deps{})
	alpha, _ := Generate(p.v.p, []byte("alpha-seed-0123456789"), t0)
	tests := []struct {
		name   string
		r      *provider.Request
		reason provider.Reason
	}{
		{"named client", req(t0, "x-rolling-code", alpha, "x-client", "alpha"), provider.ReasonOK},
		{"other client's code", req(t0, "x-rolling-code", alpha, "x-client", "beta"), provider.ReasonBadSignature},
		{"unknown client", req(t0, "x-rolling-code", alpha, "x-client", "gamma"), provider.ReasonUnknown},
		{"no client header", req(t0, "x-rolling-code", alpha), provider.ReasonMalformed},
		{"two client headers", req(t0, "x-rolling-code", alpha, "x-client", "alpha", "x-client", "beta"), provider.ReasonAmbiguous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(tt.r)
			if got := provider.ReasonOf(err); got != tt.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tt.reason)
			}
		})
	}
}

func TestSingleUseAcrossVMs(t *testing.T) {
	store := &provider.MemSharedData{}
	cfg := `{"mode":"m2m_token","ttl_seconds":30,"single_use":true,"clients":{"alpha":{"seed":"public-m2m-seed-7f3a9c"}}}`
	// Two VMs: two providers built from the same configuration over one store.
	vm1 := build(t, cfg, provider.Deps{Shared: store, Replay: replay.New(store, replay.Config{Namespace: "rc"})})
	vm2 := build(t, cfg, provider.Deps{Shared: store, Replay: replay.New(store, replay.Config{Namespace: "rc"})})
	code, _ := Generate(vm1.v.p, []byte("public-m2m-seed-7f3a9c"), t0)
	if _, err := vm1.Verify(req(t0, "x-rolling-code", code)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := vm2.Verify(req(t0+nsPerSecond/10, "x-rolling-code", code))
	if !errors.Is(err, provider.NewError(provider.ReasonReplayed, "")) {
		t.Fatalf("second use on another VM: %v, want replayed", err)
	}
	// The next window's code is a new code.
	later := t0 + 30*nsPerSecond
	code2, _ := Generate(vm1.v.p, []byte("public-m2m-seed-7f3a9c"), later)
	if _, err := vm2.Verify(req(later, "x-rolling-code", code2)); err != nil {
		t.Fatalf("next window: %v", err)
	}
}

// TestAgainstCPython produces codes with CPython's own random module
// (/usr/bin/python3), driving it exactly as m2m_token.generate() does, and
// checks this package accepts them and generates the same.
func TestAgainstCPython(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not available: cannot cross-check with CPython's random module")
	}
	script := `
import random, sys
seed, ttl, seq, n, offset = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
for us in sys.argv[6:]:
    us = int(us)
    sec, frac = divmod(us, 1000000)
    d = float(sec % 60 % ttl) if ttl <= 60 else float(sec % 60)
    ts = float(sec - offset) + frac / 1e6   # naive UTC read as local time
    anchor = round(ts) - d
    random.seed(seed + str(anchor))
    print(''.join(seq[int(random.random() * len(seq))] for _ in range(n)))
`
	instants := []int64{1718000001250000, 1718000001750000, 1718000002500000, 1718000003500000, 1700000000999999, 1799999999000001}
	cases := []Params{
		{Mode: ModeM2M, TTLSeconds: 3, Alphabet: DefaultAlphabet, Length: 6},
		{Mode: ModeM2M, TTLSeconds: 7, Alphabet: "0123456789", Length: 10, UTCOffsetSeconds: 19800},
		{Mode: ModeM2M, TTLSeconds: 90, Alphabet: "äöü€xyz", Length: 12, UTCOffsetSeconds: -3600},
	}
	for i, p := range cases {
		seed := "seed-ümlaut-" + strconv.Itoa(i)
		args := []string{"-c", script, seed, strconv.FormatInt(p.TTLSeconds, 10), p.Alphabet, strconv.Itoa(p.Length), strconv.FormatInt(p.UTCOffsetSeconds, 10)}
		for _, us := range instants {
			args = append(args, strconv.FormatInt(us, 10))
		}
		out, err := exec.Command("/usr/bin/python3", args...).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		want := strings.Fields(string(out))
		if len(want) != len(instants) {
			t.Fatalf("python printed %d codes", len(want))
		}
		v, _ := NewVerifier(p, Policy{}, []Client{{Name: "c", Seed: []byte(seed)}})
		for j, us := range instants {
			got, _ := Generate(p, []byte(seed), us*1000)
			if got != want[j] {
				t.Errorf("params %d instant %d: Generate = %q, CPython %q", i, us, got, want[j])
			}
			if _, err := v.Verify(0, want[j], us*1000); err != nil {
				t.Errorf("params %d instant %d: CPython code refused: %v", i, us, err)
			}
		}
	}
}

// TestCacheCoversTheSkew: with a wide skew and one-second windows, a
// second request at the same instant computes no code again, so garbage
// codes cannot make the verifier redo seed work on every request.
func TestCacheCoversTheSkew(t *testing.T) {
	for _, mode := range []Mode{ModeM2M, ModeHMAC} {
		p := Params{Mode: mode, TTLSeconds: 1, Alphabet: DefaultAlphabet, Length: 6}
		v, err := NewVerifier(p, Policy{MaxPastNs: 60 * nsPerSecond, MaxFutureNs: 60 * nsPerSecond},
			[]Client{{Name: "a", Seed: []byte("seed-a-0123456789")}, {Name: "b", Seed: []byte("seed-b-0123456789")}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = v.Verify(-1, "zzzzzz", t0)
		first := v.g.computed
		if first == 0 {
			t.Fatal("nothing computed")
		}
		_, _ = v.Verify(-1, "yyyyyy", t0)
		if again := v.g.computed - first; again != 0 {
			t.Errorf("mode %d: %d codes recomputed at the same instant (first request computed %d)", mode, again, first)
		}
	}
}
