package token

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTransportSignsEachRequestFreshly(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	_, priv, _ := ed25519.GenerateKey(nil)
	client := &http.Client{Transport: NewTransport(nil, JWTCredential(&JWTSigner{Key: priv, Username: "bot"}, ""))}
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Header.Get("Authorization") != "" {
			t.Fatal("Transport modified the caller's request")
		}
	}
	if len(seen) != 2 || !strings.HasPrefix(seen[0], "JWT ") || seen[0] == seen[1] {
		t.Fatalf("want two different JWT headers, got %q", seen)
	}
}

func TestTransportRefusesWithoutCredential(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	if _, err := (&Transport{}).RoundTrip(req); err == nil {
		t.Fatal("want an error")
	}
}

func TestM2MCredentialUsesTransportClock(t *testing.T) {
	now := time.Unix(1718000001, 250000000)
	tr := &Transport{Credential: M2MCredential(M2MConfig{Seed: "public-m2m-seed-7f3a9c", TTL: 3}, "x-m2m-token"), Now: func() time.Time { return now },
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if got := r.Header.Get("x-m2m-token"); got != "rY8FXM" {
				t.Errorf("code = %q, want the reference rY8FXM", got)
			}
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		})}
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
