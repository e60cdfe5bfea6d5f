package token_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tokengate/tokengate/plugin/token"
)

// A secure rolling code for a rolling_code provider in mode hmac with the
// default alphabet, length 8 and 30-second windows.
func ExampleRollingCode() {
	c := token.RollingConfig{Seed: []byte("0123456789abcdef-billing")}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := token.RollingCode(c, at)
	b, _ := token.RollingCode(c, at.Add(29*time.Second))
	d, _ := token.RollingCode(c, at.Add(30*time.Second))
	fmt.Println(len(a), a == b, a == d)
	// Output: 8 true false
}

// An API key and the entry for the api_key provider's "keys" list; the
// configuration holds only the hash.
func ExampleNewAPIKey() {
	random := bytes.NewReader(bytes.Repeat([]byte{1, 2, 3}, 30)) // use nil (crypto/rand) in real code
	k, _ := token.NewAPIKey("ci-bot", random)
	fmt.Println(k.Key)
	fmt.Println(k.ConfigEntry("ci", []string{"deploy"}, "2027-01-01T00:00:00Z") != "")
	fmt.Println(k.Hash == token.APIKeyHash(k.Key))
	// Output:
	// tg_ci-bot_1231231231231231231231231231231231231231231
	// true
	// true
}

// A bot signs every request with RFC 9421 by changing one line: its
// client's Transport.
func ExampleHTTPSignatureCredential() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Header.Get("Signature-Input"))
	}))
	defer upstream.Close()

	signer := &token.HTTPSigner{KeyID: "partner-hmac", Key: []byte("a shared secret of at least 32 bytes!")}
	tr := token.NewTransport(nil, token.HTTPSignatureCredential(signer))
	tr.Now = func() time.Time { return time.Unix(1767225600, 0) } // leave nil: time.Now
	client := &http.Client{Transport: tr}
	resp, err := client.Get(upstream.URL + "/orders")
	if err == nil {
		resp.Body.Close()
	}
	// Output: sig1=("@method" "@path" "@authority");created=1767225600;keyid="partner-hmac"
}
