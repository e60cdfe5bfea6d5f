package authnz

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// vectorFile is the public authnzerver set, copied unchanged from
// shared/vectors. Its "session" cases (server-side state) run in
// plugin/provider/session.
var vectorFile = filepath.Join("..", "..", "..", "tests", "testdata", "vectors", "authnzerver.json")

type vecCase struct {
	Name   string `json:"name"`
	Config struct {
		Kind           string          `json:"kind"`
		Envelope       string          `json:"envelope"`
		FernetKey      string          `json:"fernet_key"`
		TTL            *int64          `json:"fernet_ttl_seconds"`
		Issuer         string          `json:"expected_issuer"`
		APIVersion     json.RawMessage `json:"expected_apiversion"`
		CheckIP        bool            `json:"check_ip"`
		CheckUserAgent bool            `json:"check_user_agent"`
	} `json:"config"`
	Steps []struct {
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
			Message any `json:"message"`
		} `json:"expected"`
	} `json:"steps"`
}

func loadVectors(t testing.TB) []vecCase {
	t.Helper()
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v struct {
		Cases []vecCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	return v.Cases
}

var reasons = map[string][]provider.Reason{
	"ok":                   {provider.ReasonOK},
	"decrypt_failed":       {provider.ReasonBadSignature, provider.ReasonMalformed},
	"envelope_ttl_expired": {provider.ReasonExpired},
	"envelope_from_future": {provider.ReasonNotYetValid},
	"malformed_claims":     {provider.ReasonClaims},
	"expired":              {provider.ReasonExpired},
	"not_yet_valid":        {provider.ReasonNotYetValid},
	"ip_mismatch":          {provider.ReasonBinding},
	"user_agent_mismatch":  {provider.ReasonBinding},
	"audience_mismatch":    {provider.ReasonAudience},
	"issuer_mismatch":      {provider.ReasonIssuer},
	"version_mismatch":     {provider.ReasonClaims},
	"subject_mismatch":     {provider.ReasonScope},
}

func nowNs(s float64) int64 { return int64(math.Round(s*1e6)) * 1000 }

func TestVectors(t *testing.T) {
	for _, c := range loadVectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			switch c.Config.Kind {
			case "apikey":
				runAPIKey(t, c)
			case "envelope":
				runEnvelope(t, c)
			case "session":
				t.Skip("server-side sessions: verified through the session provider's call-out (plugin/provider/session TestAuthnzerverSessionVectors)")
			default:
				t.Fatalf("unknown kind %q", c.Config.Kind)
			}
		})
	}
}

func runAPIKey(t *testing.T, c vecCase) {
	ttl := int64(0)
	if c.Config.TTL != nil {
		ttl = *c.Config.TTL
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cfg := `{"fernet_key":` + q(c.Config.FernetKey) + `,"envelope":` + q(c.Config.Envelope) +
		`,"ttl_seconds":` + strconv.FormatInt(ttl, 10) + `,"issuer":` + q(c.Config.Issuer) +
		`,"api_version":` + string(c.Config.APIVersion) + `,"check_ip":` + strconv.FormatBool(c.Config.CheckIP) +
		`,"check_user_agent":` + strconv.FormatBool(c.Config.CheckUserAgent) + `}`
	o, errs := conf.Root([]byte(cfg), nil)
	p := FromConfig("authnz", o, provider.Deps{})
	if errs.Err() != nil {
		t.Fatal(errs.Err())
	}
	for i, s := range c.Steps {
		r := &provider.Request{Method: s.Request.Method, Path: s.Request.Path, RawPath: s.Request.Path, Now: nowNs(s.Now)}
		for k, v := range s.Request.Headers {
			r.Headers = append(r.Headers, provider.Header{Name: strings.ToLower(k), Value: v})
			if strings.EqualFold(k, "host") {
				r.Authority = v
			}
		}
		if s.Request.RemoteAddr != "" {
			r.Source = netip.MustParseAddr(s.Request.RemoteAddr)
		}
		id, err := p.Verify(r)
		checkReason(t, i, err, s.Expected.Valid, s.Expected.Reason)
		if s.Expected.Valid {
			if id.Subject != strconv.FormatInt(s.Expected.Identity.UserID, 10) || id.Role != s.Expected.Identity.UserRole {
				t.Errorf("step %d: identity %+v, want %+v", i, id, s.Expected.Identity)
			}
		}
	}
}

func checkReason(t *testing.T, i int, err error, valid bool, reason string) {
	t.Helper()
	got := provider.ReasonOf(err)
	ok := (err == nil) == valid
	if want, known := reasons[reason]; known && ok {
		ok = false
		for _, w := range want {
			ok = ok || got == w
		}
	}
	if !ok {
		t.Fatalf("step %d: %v (reason %s), want %s", i, err, got, reason)
	}
}

// runEnvelope checks the frontend↔authnzerver message envelope with the
// same Fernet code: base64 of a Fernet token, TTL only when configured.
func runEnvelope(t *testing.T, c vecCase) {
	key, err := ParseFernetKey(c.Config.FernetKey)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := NewFernet(key, 64<<10)
	ttl := int64(0)
	if c.Config.TTL != nil {
		ttl = *c.Config.TTL
	}
	for i, s := range c.Steps {
		raw, err := base64.StdEncoding.Strict().DecodeString(s.Token)
		var plain []byte
		if err == nil {
			plain, _, err = f.Decrypt(raw, nowNs(s.Now), ttl)
		} else {
			err = errEnvelope
		}
		if s.Expected.Valid {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			var got any
			if err := json.Unmarshal(plain, &got); err != nil || !reflect.DeepEqual(got, s.Expected.Message) {
				t.Fatalf("step %d: message %s, want %v", i, plain, s.Expected.Message)
			}
			continue
		}
		// The reference's InvalidToken covers a bad MAC and an expired TTL.
		if r := provider.ReasonOf(err); r != provider.ReasonBadSignature && r != provider.ReasonExpired && r != provider.ReasonMalformed {
			t.Fatalf("step %d: %v, want a decrypt failure", i, err)
		}
	}
}
