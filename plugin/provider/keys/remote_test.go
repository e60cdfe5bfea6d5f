package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

const sec = int64(1e9)

func testJWKS(t *testing.T, kid string) []byte {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	return []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + kid + `","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}]}`)
}

func newTestRemote(shared provider.SharedData) *Remote {
	return NewRemote(RemoteConfig{Name: "p", Cluster: "idp", Authority: "idp", Path: "/jwks",
		RefreshMillis: 60_000, MinRefreshMillis: 10_000, MaxStaleMillis: 600_000}, shared, provider.Deps{}, "")
}

func TestRemoteSharedFetch(t *testing.T) {
	shared := &provider.MemSharedData{}
	a, b := newTestRemote(shared), newTestRemote(shared)
	now := 1000 * sec
	if _, err := a.Current(now); !errors.Is(err, ErrKeysNotFetched) {
		t.Fatalf("before any fetch: %v", err)
	}
	ca := a.Tick(now)
	if len(ca) != 1 || len(b.Tick(now)) != 0 {
		t.Fatal("lease did not make exactly one VM fetch")
	}
	if _, err := ca[0].Resume(&provider.CalloutResponse{Status: 200, Body: testJWKS(t, "k1")}); err != nil {
		t.Fatal(err)
	}
	if k, err := b.Lookup("k1", now+sec); k == nil || err != nil {
		t.Fatalf("other VM does not see the shared set: %v", err)
	}
	// Not due yet: nobody fetches.
	if len(a.Tick(now+30*sec)) != 0 || len(b.Tick(now+30*sec)) != 0 {
		t.Fatal("refreshed before refresh_seconds")
	}
	// Due: one fetch again; a rotated set replaces the old one everywhere.
	cb := b.Tick(now + 61*sec)
	if len(cb) != 1 || len(a.Tick(now+61*sec)) != 0 {
		t.Fatal("refresh not single")
	}
	_, _ = cb[0].Resume(&provider.CalloutResponse{Status: 200, Body: testJWKS(t, "k2")})
	a.Tick(now + 62*sec)
	if k, _ := a.Lookup("k2", now+62*sec); k == nil {
		t.Fatal("rotated key not picked up")
	}
	if k, _ := a.Lookup("k1", now+62*sec); k != nil {
		t.Fatal("old key still served after rotation")
	}
}

func TestRemoteFailureKeepsKeysUntilStale(t *testing.T) {
	r := newTestRemote(&provider.MemSharedData{})
	now := 1000 * sec
	c := r.Tick(now)
	_, _ = c[0].Resume(&provider.CalloutResponse{Status: 200, Body: testJWKS(t, "k1")})
	for i, due := 0, now+61*sec; due < now+600*sec; i, due = i+1, due+301*sec {
		if c := r.Tick(due); len(c) == 1 {
			_, _ = c[0].Resume(&provider.CalloutResponse{Status: 503})
		}
		if k, err := r.Lookup("k1", due); k == nil || err != nil {
			t.Fatalf("keys dropped during the outage at step %d: %v", i, err)
		}
	}
	if r.Failures() == 0 {
		t.Fatal("failures not recorded")
	}
	if _, err := r.Lookup("k1", now+601*sec); !errors.Is(err, ErrKeysExpired) {
		t.Fatalf("stale keys served: %v", err)
	}
}

func TestSplitURL(t *testing.T) {
	cases := []struct {
		in, host, path string
		ok             bool
	}{
		{"https://idp.test/realms/a/certs", "idp.test", "/realms/a/certs", true},
		{"https://idp.test", "idp.test", "/", true},
		{"https://idp.test?x=1", "idp.test", "/?x=1", true},
		{"http://idp.test/certs", "", "", false},
		{"https://user@idp.test/certs", "", "", false},
		{"https://", "", "", false},
		{"https://idp.test/a#frag", "", "", false},
	}
	for _, c := range cases {
		h, p, ok := splitURL(c.in)
		if ok != c.ok || (ok && (h != c.host || p != c.path)) {
			t.Errorf("%q: got %q %q %v", c.in, h, p, ok)
		}
	}
}
