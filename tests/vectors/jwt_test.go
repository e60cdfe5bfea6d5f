package vectors

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

// jwtVectors is the part of asymmetric_jwt_auth.json these tests read.
type jwtVectors struct {
	Common struct {
		Config struct {
			Users []struct {
				Username   string   `json:"username"`
				PublicKeys []string `json:"public_keys"`
				JWKS       string   `json:"jwks"`
			} `json:"users"`
			JWKSDocuments map[string]json.RawMessage `json:"jwks_documents"`
			Tolerance     int                        `json:"timestamp_tolerance"`
		} `json:"config"`
	} `json:"common"`
	Cases []struct {
		Name  string `json:"name"`
		Steps []struct {
			Now     float64 `json:"now"`
			Request struct {
				Method  string            `json:"method"`
				Path    string            `json:"path"`
				Headers map[string]string `json:"headers"`
			} `json:"request"`
			Expected struct {
				Valid    bool              `json:"valid"`
				Reason   string            `json:"reason"`
				Identity map[string]string `json:"identity"`
			} `json:"expected"`
		} `json:"steps"`
	} `json:"cases"`
}

// jwtReasons maps the vectors' vocabulary to the plugin's refusal codes.
// Where the reference middleware crashed (server_error, HTTP 500) the plugin
// refuses the token as malformed or as missing a claim instead.
var jwtReasons = map[string][]string{
	"no_credentials":            {"credential_missing"},
	"malformed_header":          {"credential_malformed"},
	"missing_username":          {"claims_invalid"},
	"unknown_user":              {"credential_unknown"},
	"alg_not_allowed":           {"algorithm_not_allowed"},
	"bad_signature":             {"bad_signature"},
	"registered_claim_rejected": {"expired", "not_yet_valid", "audience_mismatch", "issuer_mismatch"},
	"malformed_token":           {"credential_malformed"},
	"no_usable_key":             {"credential_unknown"},
	"missing_claim":             {"claims_invalid"},
	"time_out_of_window":        {"expired", "not_yet_valid"},
	"replayed_nonce":            {"replayed"},
	"server_error":              {"credential_malformed", "claims_invalid"},
}

// TestAsymmetricJWTAuth sends every asymmetric-jwt-auth vector through the
// built module, twice: with the JWKS user's key set inline, and fetched by
// the plugin from a key server cluster (the first request of each case waits
// for that callout). Nonce state carries from step to step inside a case
// (replayed_nonce) and never between cases.
func TestAsymmetricJWTAuth(t *testing.T) {
	var v jwtVectors
	load(t, "asymmetric_jwt_auth.json", &v)
	r := newRunner(t)
	for _, remote := range []bool{false, true} {
		clients := map[string]any{}
		for _, u := range v.Common.Config.Users {
			c := map[string]any{"keys": u.PublicKeys}
			if u.JWKS != "" {
				if remote {
					c["remote_jwks"] = map[string]any{"cluster": "idp", "authority": "idp.test", "path": "/.well-known/jwks.json"}
				} else {
					c["jwks"] = v.Common.Config.JWKSDocuments[u.JWKS]
				}
			}
			clients[u.Username] = c
		}
		cfg := pluginConfig(map[string]any{
			"type":              "jwt",
			"profile":           "asymmetric_jwt_auth",
			"tolerance_seconds": v.Common.Config.Tolerance,
			"clients":           clients,
		})
		jwks := []byte(v.Common.Config.JWKSDocuments["jwks_main"])
		idp := map[string]http.Handler{"idp": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("content-type", "application/json")
			_, _ = w.Write(jwks)
		})}
		name := "inline_jwks"
		if remote {
			name = "remote_jwks"
		}
		t.Run(name, func(t *testing.T) {
			n := 0
			for _, c := range v.Cases {
				var steps []step
				for _, s := range c.Steps {
					reasons, ok := jwtReasons[s.Expected.Reason]
					if !s.Expected.Valid && !ok {
						t.Fatalf("%s: vector reason %q has no mapping", c.Name, s.Expected.Reason)
					}
					req := hostsim.Request{Method: "GET", Path: "/api/resource", Authority: "api.example.test", SourceAddress: "10.0.0.1:1234"}
					if s.Request.Method != "" {
						req.Method = s.Request.Method
					}
					if s.Request.Path != "" {
						req.Path = s.Request.Path
					}
					for k, val := range s.Request.Headers {
						req.Headers = append(req.Headers, [2]string{strings.ToLower(k), val})
					}
					steps = append(steps, step{now: nsOf(s.Now), req: req, valid: s.Expected.Valid, reasons: reasons,
						subject: s.Expected.Identity["username"]})
					n++
				}
				t.Run(c.Name, func(t *testing.T) {
					if !r.run(t, cfg, idp, steps) {
						t.Fatal("configuration refused")
					}
				})
			}
			if n < 30 {
				t.Fatalf("only %d vector steps ran", n)
			}
		})
	}
}
