package jwt

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/replay"
)

type vectorFile struct {
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
		PrivateKeys map[string]string `json:"private_keys_for_reference_only"`
	} `json:"common"`
	Cases []struct {
		Name  string `json:"name"`
		Steps []struct {
			Now     float64 `json:"now"`
			Request struct {
				Headers map[string]string `json:"headers"`
			} `json:"request"`
			Expected struct {
				Valid    bool                   `json:"valid"`
				Reason   string                 `json:"reason"`
				Identity map[string]string      `json:"identity"`
				Claims   map[string]interface{} `json:"claims"`
			} `json:"expected"`
		} `json:"steps"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("../../../tests/testdata/jwt/asymmetric_jwt_auth.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// vectorConfig turns the vector file's common.config into a provider
// configuration: one client per user, stored keys and (inline) JWKS.
func vectorConfig(t testing.TB, v vectorFile, jwksInline bool) []byte {
	clients := map[string]any{}
	for _, u := range v.Common.Config.Users {
		c := map[string]any{"keys": u.PublicKeys}
		if u.JWKS != "" {
			if jwksInline {
				c["jwks"] = v.Common.Config.JWKSDocuments[u.JWKS]
			} else {
				c["remote_jwks"] = map[string]any{"cluster": "idp", "authority": "idp.test", "path": "/.well-known/jwks.json"}
			}
		}
		clients[u.Username] = c
	}
	b, err := json.Marshal(map[string]any{
		"profile":           "asymmetric_jwt_auth",
		"tolerance_seconds": v.Common.Config.Tolerance,
		"clients":           clients,
		"claims_to_headers": map[string]string{"username": "x-client"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func build(t testing.TB, doc []byte, d provider.Deps) *Provider {
	t.Helper()
	o, errs := conf.Root(doc, nil)
	p := FromConfig("jwt-test", o, d)
	if err := errs.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return p.(*Provider)
}

func newDeps() provider.Deps {
	shared := &provider.MemSharedData{}
	return provider.Deps{Shared: shared, Replay: replay.New(shared, replay.Config{Namespace: "t"})}
}

// vectorReasons maps the vector vocabulary to our reasons. Where the
// reference crashed (server_error) we refuse as malformed.
var vectorReasons = map[string][]provider.Reason{
	"ok":                        {provider.ReasonOK},
	"no_credentials":            {provider.ReasonMissing},
	"malformed_header":          {provider.ReasonMalformed},
	"missing_username":          {provider.ReasonClaims},
	"unknown_user":              {provider.ReasonUnknown},
	"alg_not_allowed":           {provider.ReasonAlgorithm},
	"bad_signature":             {provider.ReasonBadSignature},
	"registered_claim_rejected": {provider.ReasonExpired, provider.ReasonNotYetValid, provider.ReasonAudience, provider.ReasonIssuer},
	"malformed_token":           {provider.ReasonMalformed},
	"no_usable_key":             {provider.ReasonUnknown},
	"missing_claim":             {provider.ReasonClaims},
	"time_out_of_window":        {provider.ReasonExpired, provider.ReasonNotYetValid},
	"replayed_nonce":            {provider.ReasonReplayed},
	"server_error":              {provider.ReasonMalformed, provider.ReasonClaims},
}

func nowNS(sec float64) int64 { return int64(math.Round(sec * 1e9)) }

func request(headers map[string]string, now int64) *provider.Request {
	r := &provider.Request{Method: "GET", Path: "/api/resource", RawPath: "/api/resource", Now: now}
	for k, v := range headers {
		r.Headers = append(r.Headers, provider.Header{Name: strings.ToLower(k), Value: v})
	}
	return r
}

func TestPublicVectors(t *testing.T) {
	v := loadVectors(t)
	doc := vectorConfig(t, v, true)
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p := build(t, doc, newDeps()) // fresh nonce store per case
			for i, s := range c.Steps {
				id, err := p.Verify(request(s.Request.Headers, nowNS(s.Now)))
				got := provider.ReasonOf(err)
				want, ok := vectorReasons[s.Expected.Reason]
				if !ok {
					t.Fatalf("step %d: unknown vector reason %q", i, s.Expected.Reason)
				}
				if !slices.Contains(want, got) {
					t.Fatalf("step %d: got %s (%v), want %s", i, got, err, s.Expected.Reason)
				}
				if (err == nil) != s.Expected.Valid {
					t.Fatalf("step %d: valid=%v, want %v", i, err == nil, s.Expected.Valid)
				}
				if err != nil {
					continue
				}
				if id.Subject != s.Expected.Identity["username"] {
					t.Fatalf("step %d: subject %q", i, id.Subject)
				}
				if id.Claims["nonce"][0] != s.Expected.Claims["nonce"] {
					t.Fatalf("step %d: nonce claim %v", i, id.Claims["nonce"])
				}
				if len(id.Headers) != 1 || id.Headers[0] != (provider.Header{Name: "x-client", Value: id.Subject}) {
					t.Fatalf("step %d: headers %v", i, id.Headers)
				}
			}
		})
	}
}

// The JWKS user again, with the key set fetched by callout: the first
// request waits for the fetch, and the verdict comes from Resume.
func TestPublicVectorsRemoteJWKS(t *testing.T) {
	v := loadVectors(t)
	doc := vectorConfig(t, v, false)
	body := []byte(v.Common.Config.JWKSDocuments["jwks_main"])
	for _, c := range v.Cases {
		if !strings.Contains(c.Name, "jwks") {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			p := build(t, doc, newDeps())
			s := c.Steps[0]
			_, err := p.Verify(request(s.Request.Headers, nowNS(s.Now)))
			var nc *provider.NeedCallout
			if !errors.As(err, &nc) {
				t.Fatalf("want a key-set callout, got %v", err)
			}
			if nc.Call.Cluster != "idp" || nc.Call.TimeoutMillis == 0 {
				t.Fatalf("callout %+v", nc.Call)
			}
			id, err := nc.Resume(&provider.CalloutResponse{Status: 200, Body: body})
			got := provider.ReasonOf(err)
			if !slices.Contains(vectorReasons[s.Expected.Reason], got) {
				t.Fatalf("got %s (%v), want %s", got, err, s.Expected.Reason)
			}
			if err == nil && id.Subject != "svc-jwks" {
				t.Fatalf("subject %q", id.Subject)
			}
		})
	}
}
