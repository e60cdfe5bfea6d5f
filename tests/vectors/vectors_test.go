// Package vectors runs every public seed vector (m2m_token,
// drf_tmp_scoped_token, bottleship, authnzerver, asymmetric_jwt_auth)
// through the built module (build/tokengate.wasm) in hostsim: each case
// becomes a plugin configuration with one provider and one rule, each step
// a request at the step's instant. The verdict is read from the outcome
// (forwarded or refused), the reason from the refusal body, the identity
// from x-tokengate-subject. The vector files in tests/testdata/vectors are
// the shared ones, unchanged.
package vectors

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tokengate/tokengate/hostsim"
)

// wasmPath is the built module; TOKENGATE_WASM overrides it. A missing
// module fails: a vector run must never pass by skipping.
func wasmPath() string {
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "build", "tokengate.wasm")
}

var vectorDir = filepath.Join("..", "testdata", "vectors")

// step is one request at one instant and what must come of it.
type step struct {
	now     int64 // unix ns
	req     hostsim.Request
	valid   bool
	reasons []string // acceptable refusal reasons (provider vocabulary); empty: any
	subject string   // expected x-tokengate-subject when valid ("" = not checked)
	headers [][2]string
	absent  string // a query parameter that must not reach the upstream
}

type runner struct {
	t     *testing.T
	wasm  []byte
	cache wazero.CompilationCache
}

func newRunner(t *testing.T) *runner {
	wasm, err := os.ReadFile(wasmPath())
	if err != nil {
		t.Fatalf("built module not found (%v): run `make wasm` or set TOKENGATE_WASM", err)
	}
	r := &runner{t: t, wasm: wasm, cache: wazero.NewCompilationCache()}
	t.Cleanup(func() { r.cache.Close(context.Background()) })
	return r
}

// pluginConfig wraps one provider in a configuration with a catch-all rule.
func pluginConfig(prov map[string]any) []byte {
	prov["name"] = "p"
	b, _ := json.Marshal(map[string]any{
		"providers": []any{prov},
		"rules":     []any{map[string]any{"name": "all", "paths": []any{map[string]any{"prefix": "/"}}, "any_of": []string{"p"}}},
	})
	return b
}

// run starts the module with cfg at the first step's instant and sends the
// steps in order, moving the clock forward between them (a fresh host when
// a step goes back in time). It returns false when the configuration was
// refused.
func (r *runner) run(t *testing.T, cfg []byte, cluster map[string]http.Handler, steps []step) bool {
	t.Helper()
	ctx := context.Background()
	var host *hostsim.Host
	var plugin *hostsim.Plugin
	var clock int64
	start := func(now int64) bool {
		if host != nil {
			plugin.Stop(ctx)
			host.Close(ctx)
		}
		hc := hostsim.Config{}.WithStartTime(time.Unix(0, now)).WithCompilationCache(r.cache)
		for name, h := range cluster {
			hc = hc.WithCluster(name, h)
		}
		var err error
		host, err = hostsim.New(ctx, r.wasm, hc)
		if err != nil {
			t.Fatalf("hostsim: %v", err)
		}
		plugin, err = host.StartPlugin(ctx, hostsim.PluginConfig{Configuration: cfg})
		if err != nil {
			host.Close(ctx)
			host = nil
			return false
		}
		clock = now
		return true
	}
	defer func() {
		if host != nil {
			plugin.Stop(ctx)
			host.Close(ctx)
		}
	}()
	if len(steps) == 0 {
		return start(time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC).UnixNano())
	}
	for i, s := range steps {
		if host == nil || s.now < clock {
			if !start(s.now) {
				return false
			}
		} else if s.now > clock {
			host.Advance(ctx, time.Duration(s.now-clock))
			clock = s.now
		}
		res := plugin.Worker(0).HTTP(ctx, s.req)
		check(t, i, s, res)
	}
	return true
}

func check(t *testing.T, i int, s step, res *hostsim.Result) {
	t.Helper()
	if res.Outcome == hostsim.OutcomeForwarded {
		if !s.valid {
			t.Errorf("step %d: forwarded, want a refusal (%v)", i, s.reasons)
			return
		}
		if s.subject != "" && header(res.Headers, "x-tokengate-subject") != s.subject {
			t.Errorf("step %d: subject %q, want %q", i, header(res.Headers, "x-tokengate-subject"), s.subject)
		}
		for _, h := range s.headers {
			if header(res.Headers, h[0]) != h[1] {
				t.Errorf("step %d: upstream header %s = %q, want %q", i, h[0], header(res.Headers, h[0]), h[1])
			}
		}
		if s.absent != "" && strings.Contains(header(res.Headers, ":path"), s.absent+"=") {
			t.Errorf("step %d: %s reached the upstream: %s", i, s.absent, header(res.Headers, ":path"))
		}
		return
	}
	if s.valid {
		t.Errorf("step %d: %s %d %s, want forwarded", i, res.Outcome, res.Status, res.Body)
		return
	}
	if res.Outcome != hostsim.OutcomeLocalReply {
		t.Errorf("step %d: outcome %s (%s)", i, res.Outcome, res.Trap)
		return
	}
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(res.Body, &body)
	if len(s.reasons) == 0 {
		return
	}
	for _, r := range s.reasons {
		if body.Error == r {
			return
		}
	}
	t.Errorf("step %d: refused with %q (%d), want one of %v", i, body.Error, res.Status, s.reasons)
}

func header(h [][2]string, name string) string {
	for _, p := range h {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

func load(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func nsOf(s float64) int64 { return int64(math.Round(s*1e6)) * 1000 }

func TestM2MToken(t *testing.T) {
	r := newRunner(t)
	var v struct {
		Cases []struct {
			Name   string         `json:"name"`
			Config map[string]any `json:"config"`
			Steps  []struct {
				NowUS          int64          `json:"now_us"`
				Now            float64        `json:"now"`
				Token          *string        `json:"token"`
				ConfigOverride map[string]any `json:"config_override"`
				Expected       struct {
					Valid bool `json:"valid"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	load(t, "m2m_token.json", &v)
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			prov := func(cfg map[string]any) map[string]any {
				past, future := 0.0, 0.0
				if c.Config["mode"] == "window" {
					past, future = c.Config["max_past_seconds"].(float64), c.Config["max_future_seconds"].(float64)
				}
				p := map[string]any{"type": "rolling_code", "mode": "m2m_token", "ttl_seconds": cfg["ttl"],
					"alphabet": cfg["alphabet"], "length": cfg["length"], "max_past_seconds": past, "max_future_seconds": future,
					"clients": map[string]any{"client": map[string]any{"seed": cfg["seed"]}}}
				if off, ok := c.Config["local_utc_offset_seconds"]; ok {
					p["utc_offset_seconds"] = off
				}
				return p
			}
			if c.Config["kind"] == "config" {
				for i, s := range c.Steps {
					if r.run(t, pluginConfig(prov(s.ConfigOverride)), nil, nil) {
						t.Errorf("step %d: configuration %v accepted, the reference refuses it", i, s.ConfigOverride)
					}
				}
				return
			}
			// kind "generate": the generated token must verify at its own
			// instant (reference mode); kind "verify": the case's verdict.
			var steps []step
			for _, s := range c.Steps {
				now := s.NowUS * 1000
				if now == 0 {
					now = nsOf(s.Now)
				}
				st := step{now: now, valid: s.Expected.Valid, subject: "client",
					reasons: []string{"bad_signature", "credential_malformed"},
					req:     hostsim.Request{Method: "GET", Path: "/api", Authority: "api.test", Headers: [][2]string{{"x-rolling-code", *s.Token}}, SourceAddress: "203.0.113.7:4000"}}
				steps = append(steps, st)
			}
			if !r.run(t, pluginConfig(prov(c.Config)), nil, steps) {
				t.Fatal("configuration refused")
			}
		})
	}
}

func TestDRFTmpScopedToken(t *testing.T) {
	r := newRunner(t)
	var v struct {
		Cases []struct {
			Name   string `json:"name"`
			Config struct {
				SecretKey       string `json:"secret_key"`
				Salt            string `json:"salt"`
				AcceptLegacy    bool   `json:"accept_legacy_sha1"`
				HeaderKeyword   string `json:"header_keyword"`
				QueryParam      string `json:"query_param"`
				RecipientHeader string `json:"recipient_header"`
				Users           []struct {
					ID int64 `json:"id"`
				} `json:"users"`
			} `json:"config"`
			Steps []struct {
				Now     float64 `json:"now"`
				Request struct {
					Method  string            `json:"method"`
					Path    string            `json:"path"`
					Query   string            `json:"query"`
					Headers map[string]string `json:"headers"`
				} `json:"request"`
				Expected struct {
					Valid    bool   `json:"valid"`
					Reason   string `json:"reason"`
					Identity struct {
						UserID int64 `json:"user_id"`
					} `json:"identity"`
					UpstreamHeaders map[string]string `json:"upstream_headers"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	load(t, "drf_tmp_scoped_token.json", &v)
	reasons := map[string][]string{
		"no_credentials": {"credential_missing"}, "malformed_header": {"credential_malformed"},
		"bad_signature": {"bad_signature"}, "expired": {"expired"}, "unknown_user": {"credential_unknown"},
		"endpoint_not_permitted": {"insufficient_scope"}, "invalid_payload": {"claims_invalid"},
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var users []int64
			for _, u := range c.Config.Users {
				users = append(users, u.ID)
			}
			cfg := pluginConfig(map[string]any{"type": "scoped_token", "secret_key": c.Config.SecretKey, "salt": c.Config.Salt,
				"accept_legacy_sha1": c.Config.AcceptLegacy, "header_keyword": c.Config.HeaderKeyword,
				"query_param": c.Config.QueryParam, "recipient_header": c.Config.RecipientHeader, "users": users})
			var steps []step
			for _, s := range c.Steps {
				path := s.Request.Path
				if s.Request.Query != "" {
					path += "?" + s.Request.Query
				}
				st := step{now: nsOf(s.Now), valid: s.Expected.Valid, reasons: reasons[s.Expected.Reason], absent: c.Config.QueryParam,
					req: hostsim.Request{Method: s.Request.Method, Path: path, Authority: "api.test", SourceAddress: "203.0.113.7:4000"}}
				if s.Expected.Valid {
					st.subject = strconv.FormatInt(s.Expected.Identity.UserID, 10)
				}
				for k, val := range s.Expected.UpstreamHeaders {
					st.headers = append(st.headers, [2]string{strings.ToLower(k), val})
				}
				for k, val := range s.Request.Headers {
					st.req.Headers = append(st.req.Headers, [2]string{strings.ToLower(k), val})
				}
				steps = append(steps, st)
			}
			if !r.run(t, cfg, nil, steps) {
				t.Fatal("configuration refused")
			}
		})
	}
}

// sessionService is the auth service of the session provider's contract,
// answering from a token table.
type sessionService map[string]map[string]any

func (s sessionService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || json.Unmarshal(body, &req) != nil {
		w.WriteHeader(400)
		return
	}
	a, ok := s[req.Token]
	if !ok {
		a = map[string]any{"valid": false}
	}
	_ = json.NewEncoder(w).Encode(a)
}

func TestBottleship(t *testing.T) {
	r := newRunner(t)
	var v struct {
		Cases []struct {
			Name   string `json:"name"`
			Config struct {
				Kind       string                                     `json:"kind"`
				Key        string                                     `json:"key"`
				TokenStore []struct{ Token, Username, Expiry string } `json:"token_store"`
			} `json:"config"`
			Steps []struct {
				Now     *float64 `json:"now"`
				Token   *string  `json:"token"`
				Request struct {
					Query      string            `json:"query"`
					Headers    map[string]string `json:"headers"`
					RemoteAddr string            `json:"remote_addr"`
				} `json:"request"`
				Expected struct {
					Valid    bool                      `json:"valid"`
					Reason   string                    `json:"reason"`
					Identity struct{ Username string } `json:"identity"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	load(t, "bottleship.json", &v)
	reasons := map[string][]string{
		"bad_signature": {"bad_signature"}, "not_encoded": {"credential_malformed"},
		"missing_token": {"credential_missing"}, "unknown_or_expired_token": {"credential_unknown", "expired"},
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var steps []step
			var cfg []byte
			var clusters map[string]http.Handler
			switch c.Config.Kind {
			case "signed_data":
				cfg = pluginConfig(map[string]any{"type": "signed_payload", "header": "x-signed-payload",
					"clients": map[string]any{"holder": map[string]any{"key": c.Config.Key}}})
			case "session":
				svc := sessionService{}
				for _, row := range c.Config.TokenStore {
					exp, _ := strconv.ParseFloat(row.Expiry, 64)
					svc[row.Token] = map[string]any{"valid": true, "subject": row.Username, "expires_at": exp}
				}
				clusters = map[string]http.Handler{"auth": svc}
				cfg = pluginConfig(map[string]any{"type": "session", "cluster": "auth",
					"sources": []any{map[string]any{"cookie": "Token"}, map[string]any{"query": "Token"}}})
			}
			for _, s := range c.Steps {
				now := int64(1718400000e9)
				if s.Now != nil {
					now = nsOf(*s.Now)
				}
				st := step{now: now, valid: s.Expected.Valid, reasons: reasons[s.Expected.Reason], subject: s.Expected.Identity.Username,
					req: hostsim.Request{Method: "GET", Path: "/whoami", Authority: "app.test", SourceAddress: "192.0.2.10:4000"}}
				if c.Config.Kind == "signed_data" {
					st.subject = "holder"
					st.req.Headers = [][2]string{{"x-signed-payload", *s.Token}}
				} else {
					if s.Request.Query != "" {
						st.req.Path += "?" + s.Request.Query
					}
					for k, val := range s.Request.Headers {
						st.req.Headers = append(st.req.Headers, [2]string{strings.ToLower(k), val})
					}
					if s.Request.RemoteAddr != "" {
						st.req.SourceAddress = s.Request.RemoteAddr + ":4000"
					}
				}
				steps = append(steps, st)
			}
			if !r.run(t, cfg, clusters, steps) {
				t.Fatal("configuration refused")
			}
		})
	}
}

func TestAuthnzerver(t *testing.T) {
	r := newRunner(t)
	var v struct {
		Cases []struct {
			Name   string         `json:"name"`
			Config map[string]any `json:"config"`
			Steps  []struct {
				Now     float64 `json:"now"`
				Token   string  `json:"token"`
				Request struct {
					Method     string            `json:"method"`
					Path       string            `json:"path"`
					Headers    map[string]string `json:"headers"`
					RemoteAddr string            `json:"remote_addr"`
				} `json:"request"`
				Expected struct {
					Valid    bool   `json:"valid"`
					Reason   string `json:"reason"`
					Identity struct {
						UserID   int64  `json:"user_id"`
						UserRole string `json:"user_role"`
					} `json:"identity"`
					Session struct {
						Expires string `json:"expires"`
						IP      string `json:"ip_address"`
					} `json:"session"`
				} `json:"expected"`
			} `json:"steps"`
		} `json:"cases"`
	}
	load(t, "authnzerver.json", &v)
	reasons := map[string][]string{
		"decrypt_failed": {"bad_signature", "credential_malformed"}, "envelope_ttl_expired": {"expired"},
		"envelope_from_future": {"not_yet_valid"}, "malformed_claims": {"claims_invalid"}, "expired": {"expired"},
		"not_yet_valid": {"not_yet_valid"}, "ip_mismatch": {"binding_mismatch"}, "user_agent_mismatch": {"binding_mismatch"},
		"audience_mismatch": {"audience_mismatch"}, "issuer_mismatch": {"issuer_mismatch"},
		"version_mismatch": {"claims_invalid"}, "subject_mismatch": {"insufficient_scope"},
		"unknown_or_expired_session": {"credential_unknown", "expired"},
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var cfg []byte
			var clusters map[string]http.Handler
			switch c.Config["kind"] {
			case "apikey":
				ttl := 0.0
				if f, ok := c.Config["fernet_ttl_seconds"].(float64); ok {
					ttl = f
				}
				cfg = pluginConfig(map[string]any{"type": "authnzerver_key", "fernet_key": c.Config["fernet_key"],
					"envelope": c.Config["envelope"], "ttl_seconds": ttl, "issuer": c.Config["expected_issuer"],
					"api_version": c.Config["expected_apiversion"], "check_ip": c.Config["check_ip"],
					"check_user_agent": c.Config["check_user_agent"]})
			case "session":
				svc := sessionService{}
				for _, s := range c.Steps {
					if s.Expected.Valid {
						exp, err := time.Parse("2006-01-02T15:04:05.999999", s.Expected.Session.Expires)
						if err != nil {
							t.Fatal(err)
						}
						svc[s.Token] = map[string]any{"valid": true, "subject": strconv.FormatInt(s.Expected.Identity.UserID, 10),
							"role": s.Expected.Identity.UserRole, "expires_at": float64(exp.UnixMicro()-1) / 1e6, "bound_ip": s.Expected.Session.IP}
					}
				}
				clusters = map[string]http.Handler{"authnzerver": svc}
				cfg = pluginConfig(map[string]any{"type": "session", "cluster": "authnzerver", "cache_seconds": 0,
					"sources": []any{map[string]any{"header": "x-session"}}})
			default:
				t.Skip("frontend↔authnzerver message envelope: not a request credential; checked natively in plugin/provider/authnz")
			}
			var steps []step
			for _, s := range c.Steps {
				st := step{now: nsOf(s.Now), valid: s.Expected.Valid, reasons: reasons[s.Expected.Reason],
					req: hostsim.Request{Method: "GET", Path: "/api/v1/data", Authority: "api.example.org", SourceAddress: "203.0.113.7:4000"}}
				if s.Expected.Valid {
					st.subject = strconv.FormatInt(s.Expected.Identity.UserID, 10)
				}
				if c.Config["kind"] == "session" {
					st.req.Headers = [][2]string{{"x-session", s.Token}}
				} else {
					st.req.Method, st.req.Path = s.Request.Method, s.Request.Path
					for k, val := range s.Request.Headers {
						if strings.EqualFold(k, "host") {
							st.req.Authority = val
							continue
						}
						st.req.Headers = append(st.req.Headers, [2]string{strings.ToLower(k), val})
					}
					st.req.SourceAddress = s.Request.RemoteAddr + ":4000"
				}
				steps = append(steps, st)
			}
			if !r.run(t, cfg, clusters, steps) {
				t.Fatal("configuration refused")
			}
		})
	}
}

// TestSingleUseAcrossWorkers: with single_use, an m2m code from the vectors
// accepted by one worker VM is refused by another (shared-data replay
// guard), while the reference would accept it twice.
func TestSingleUseAcrossWorkers(t *testing.T) {
	r := newRunner(t)
	ctx := context.Background()
	// verify_ref_replay_same_window_accepted: "rY8FXM" at 1718000001.25.
	now := int64(1718000001250000000)
	cfg := pluginConfig(map[string]any{"type": "rolling_code", "mode": "m2m_token", "ttl_seconds": 3,
		"single_use": true, "clients": map[string]any{"client": map[string]any{"seed": "public-m2m-seed-7f3a9c"}}})
	host, err := hostsim.New(ctx, r.wasm, hostsim.Config{}.WithStartTime(time.Unix(0, now)).WithCompilationCache(r.cache))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	plugin, err := host.StartPlugin(ctx, hostsim.PluginConfig{Configuration: cfg, Workers: 2})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer plugin.Stop(ctx)
	req := hostsim.Request{Method: "GET", Path: "/api", Authority: "api.test", SourceAddress: "203.0.113.7:4000",
		Headers: [][2]string{{"x-rolling-code", "rY8FXM"}}}
	check(t, 0, step{valid: true, subject: "client"}, plugin.Worker(0).HTTP(ctx, req))
	host.Advance(ctx, 100*time.Millisecond)
	check(t, 1, step{valid: false, reasons: []string{"replayed"}}, plugin.Worker(1).HTTP(ctx, req))
	check(t, 2, step{valid: false, reasons: []string{"replayed"}}, plugin.Worker(0).HTTP(ctx, req))
}
