package leakscan

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/tokengate/tokengate/hostsim"
)

func TestScanner(t *testing.T) {
	secret := []byte("raw-secret-bytes-0123456789")
	s := New()
	s.AddBytes(secret)
	s.Add("tg_read_TOKENVALUE1234567890")
	s.Add("short") // below MinLen: never reported
	cases := []struct {
		name string
		text string
		hits int
	}{
		{"clean", `{"error":"bad_signature"}`, 0},
		{"raw", "seed=" + string(secret), 1},
		{"hex", "mac " + hex.EncodeToString(secret), 1},
		{"base64", "k=" + base64.StdEncoding.EncodeToString(secret), 1},
		{"base64url-unpadded", base64.RawURLEncoding.EncodeToString(secret), 1},
		{"token", "denied key tg_read_TOKENVALUE1234567890", 1},
		{"token-prefix-only", "denied key tg_read_", 0},
		{"short-value", "short", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Text("x", c.text); len(got) < c.hits || (c.hits == 0 && len(got) > 0) {
				t.Fatalf("%q: %v, want %d finding(s)", c.text, got, c.hits)
			}
		})
	}
	if s.Len() != 2 {
		t.Fatalf("Len %d, want 2", s.Len())
	}
}

func TestResult(t *testing.T) {
	s := New()
	s.Add("registered-secret-value")
	r := &hostsim.Result{Outcome: hostsim.OutcomeLocalReply, Status: 401, Body: []byte(`{"error":"x"}`),
		Headers: [][2]string{{"www-authenticate", "Bearer registered-secret-value"}},
		Logs:    []hostsim.LogEntry{{Message: "denied request-credential-abcdef"}}}
	if got := s.Result("r", r); len(got) != 1 {
		t.Fatalf("Result: %v, want the reply header finding", got)
	}
	if got := s.ResultWith("r", r, []string{"request-credential-abcdef"}); len(got) != 2 {
		t.Fatalf("ResultWith: %v, want header and log findings", got)
	}
	// Forwarded requests carry credentials to the upstream on purpose; only
	// logs are scanned.
	r.Outcome = hostsim.OutcomeForwarded
	if got := s.Result("r", r); len(got) != 0 {
		t.Fatalf("forwarded: %v", got)
	}
}
