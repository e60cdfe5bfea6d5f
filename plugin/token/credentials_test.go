package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The new credentials through the Transport: each sets what its provider
// reads, the caller's request stays untouched, and a body survives signing.
func TestCredentialsThroughTransport(t *testing.T) {
	now := time.Unix(1767225600, 0)
	seed := []byte("0123456789abcdef-billing")
	code, _ := RollingCode(RollingConfig{Seed: seed}, now)
	cases := []struct {
		name  string
		cred  Credential
		check func(t *testing.T, r *http.Request)
	}{
		{"rolling code", RollingCredential(RollingConfig{Seed: seed}, "x-rolling-code", "x-rolling-code-client", "billing"),
			func(t *testing.T, r *http.Request) {
				if r.Header.Get("x-rolling-code") != code || r.Header.Get("x-rolling-code-client") != "billing" {
					t.Fatalf("headers %v", r.Header)
				}
			}},
		{"api key", APIKeyCredential("tg_a_b"), func(t *testing.T, r *http.Request) {
			if r.Header.Get("Authorization") != "ApiKey tg_a_b" {
				t.Fatalf("headers %v", r.Header)
			}
		}},
		{"http signature with body", HTTPSignatureCredential(&HTTPSigner{KeyID: "k", Key: []byte(strings.Repeat("s", 32))}),
			func(t *testing.T, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if string(b) != "payload" || r.Header.Get("Content-Digest") == "" ||
					!strings.Contains(r.Header.Get("Signature-Input"), `"content-digest"`) {
					t.Fatalf("body %q headers %v", b, r.Header)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := false
			tr := &Transport{Credential: c.cred, Now: func() time.Time { return now },
				Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					called = true
					c.check(t, r)
					return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
				})}
			req, _ := http.NewRequest("POST", "http://example.test/x", strings.NewReader("payload"))
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if !called || len(req.Header) != 0 {
				t.Fatalf("called %v, caller's headers %v", called, req.Header)
			}
		})
	}
}

func TestRollingCredentialErrorStopsTheRequest(t *testing.T) {
	tr := &Transport{Credential: RollingCredential(RollingConfig{}, "x", "", ""),
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			t.Fatal("request sent without a credential")
			return nil, nil
		})}
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("want an error for an empty seed")
	}
}

func TestPublicJWKECPoint(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		k, _ := ecdsa.GenerateKey(curve, rand.Reader)
		jwk, err := PublicJWK(&k.PublicKey, "kid-1")
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Crv, X, Y, Kid string }
		if err := json.Unmarshal([]byte(jwk), &v); err != nil {
			t.Fatal(err)
		}
		x, _ := base64.RawURLEncoding.DecodeString(v.X)
		y, _ := base64.RawURLEncoding.DecodeString(v.Y)
		back, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil || !back.Equal(&k.PublicKey) || v.Crv != curve.Params().Name || v.Kid != "kid-1" {
			t.Fatalf("%s: %v %s", curve.Params().Name, err, jwk)
		}
	}
}
