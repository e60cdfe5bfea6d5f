package scopedtoken

import (
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// vectorFile is the public drf_tmp_scoped_token set, copied unchanged from
// shared/vectors (verdicts of the real TokenAuth on Django 3.2).
var vectorFile = filepath.Join("..", "..", "..", "tests", "testdata", "vectors", "drf_tmp_scoped_token.json")

type vecConfig struct {
	SecretKey       string `json:"secret_key"`
	Salt            string `json:"salt"`
	AcceptLegacy    bool   `json:"accept_legacy_sha1"`
	HeaderKeyword   string `json:"header_keyword"`
	QueryParam      string `json:"query_param"`
	RecipientHeader string `json:"recipient_header"`
	Users           []struct {
		ID int64 `json:"id"`
	} `json:"users"`
}

type vecStep struct {
	Now     float64 `json:"now"`
	Token   *string `json:"token"`
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
}

type vectors struct {
	Cases []struct {
		Name   string    `json:"name"`
		Config vecConfig `json:"config"`
		Steps  []vecStep `json:"steps"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	return v
}

// providerConfig writes a case's verifier configuration as this provider's
// JSON configuration.
func providerConfig(c vecConfig) string {
	ids := make([]string, len(c.Users))
	for i, u := range c.Users {
		ids[i] = strconv.FormatInt(u.ID, 10)
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{"secret_key":` + q(c.SecretKey) + `,"salt":` + q(c.Salt) +
		`,"accept_legacy_sha1":` + strconv.FormatBool(c.AcceptLegacy) +
		`,"header_keyword":` + q(c.HeaderKeyword) + `,"query_param":` + q(c.QueryParam) +
		`,"recipient_header":` + q(c.RecipientHeader) + `,"users":[` + strings.Join(ids, ",") + `]}`
}

func vecRequest(s vecStep) *provider.Request {
	r := &provider.Request{
		Method: s.Request.Method,
		// The vectors' paths are already what a normaliser leaves alone.
		Path:    s.Request.Path,
		RawPath: s.Request.Path,
		Query:   s.Request.Query,
		Now:     int64(math.Round(s.Now*1e6)) * 1000,
	}
	if s.Request.Query != "" {
		r.RawPath += "?" + s.Request.Query
	}
	for k, v := range s.Request.Headers {
		r.Headers = append(r.Headers, provider.Header{Name: strings.ToLower(k), Value: v})
	}
	return r
}

// reasons maps the vector vocabulary to provider reasons.
var reasons = map[string]provider.Reason{
	"ok":                     provider.ReasonOK,
	"no_credentials":         provider.ReasonMissing,
	"malformed_header":       provider.ReasonMalformed,
	"bad_signature":          provider.ReasonBadSignature,
	"expired":                provider.ReasonExpired,
	"unknown_user":           provider.ReasonUnknown,
	"endpoint_not_permitted": provider.ReasonScope,
	"invalid_payload":        provider.ReasonClaims,
}

func TestVectors(t *testing.T) {
	for _, c := range loadVectors(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			o, errs := conf.Root([]byte(providerConfig(c.Config)), nil)
			pp := FromConfig("scoped", o, provider.Deps{})
			if errs.Err() != nil {
				t.Fatal(errs.Err())
			}
			for i, s := range c.Steps {
				id, err := pp.Verify(vecRequest(s))
				want, known := reasons[s.Expected.Reason]
				got := provider.ReasonOf(err)
				if (err == nil) != s.Expected.Valid || (known && got != want) {
					t.Fatalf("step %d: %v (reason %s), want %s", i, err, got, s.Expected.Reason)
				}
				if !s.Expected.Valid {
					continue
				}
				if id.Subject != strconv.FormatInt(s.Expected.Identity.UserID, 10) {
					t.Errorf("step %d: subject %q, want %d", i, id.Subject, s.Expected.Identity.UserID)
				}
				if len(id.Headers) != len(s.Expected.UpstreamHeaders) {
					t.Errorf("step %d: headers %v, want %v", i, id.Headers, s.Expected.UpstreamHeaders)
				}
				for _, h := range id.Headers {
					if s.Expected.UpstreamHeaders[c.Config.RecipientHeader] != h.Value || h.Name != strings.ToLower(c.Config.RecipientHeader) {
						t.Errorf("step %d: header %v, want %v", i, h, s.Expected.UpstreamHeaders)
					}
				}
			}
		})
	}
	_ = url.QueryEscape
}
