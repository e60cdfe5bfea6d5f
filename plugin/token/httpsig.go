package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPSigner signs requests with RFC 9421 HTTP Message Signatures
// ("http_signature" provider): it sets Signature-Input and Signature, and
// Content-Digest (RFC 9530, sha-256) when content-digest is covered.
type HTTPSigner struct {
	KeyID string
	// Key decides the algorithm: []byte (hmac-sha256; the plugin wants at
	// least 32 bytes), ed25519.PrivateKey (ed25519), *ecdsa.PrivateKey on
	// P-256 (ecdsa-p256-sha256), *rsa.PrivateKey (rsa-pss-sha512, or
	// rsa-v1_5-sha256 when Algorithm says so).
	Key       any
	Algorithm string // "" lets the key decide; set it to also send the alg parameter
	Label     string // signature label; "" means "sig1"
	// Components to cover, in order; nil means @method @path @authority,
	// plus content-digest when the request has a body.
	Components []string
	Nonce      bool          // add a random nonce (the plugin accepts each once)
	Expires    time.Duration // > 0: add expires = created + Expires
	Random     io.Reader     // nil: crypto/rand
}

// Sign adds the signature headers to req for the instant now. A body is read
// and replaced so it can still be sent.
func (s *HTTPSigner) Sign(req *http.Request, now time.Time) error {
	alg, err := s.algorithm()
	if err != nil {
		return err
	}
	random := s.Random
	if random == nil {
		random = rand.Reader
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		if body, err = io.ReadAll(req.Body); err != nil {
			return err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	comps := s.Components
	if comps == nil {
		comps = []string{"@method", "@path", "@authority"}
		if len(body) > 0 {
			comps = append(comps, "content-digest")
		}
	}
	for _, c := range comps {
		if c == "content-digest" {
			sum := sha256.Sum256(body)
			req.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		}
	}

	var params strings.Builder
	params.WriteByte('(')
	var base strings.Builder
	for i, c := range comps {
		v, err := componentValue(req, c)
		if err != nil {
			return err
		}
		if i > 0 {
			params.WriteByte(' ')
		}
		params.WriteString(strconv.Quote(c))
		base.WriteString(strconv.Quote(c) + ": " + v + "\n")
	}
	params.WriteString(");created=" + strconv.FormatInt(now.Unix(), 10))
	if s.Expires > 0 {
		params.WriteString(";expires=" + strconv.FormatInt(now.Add(s.Expires).Unix(), 10))
	}
	if s.Nonce {
		nb := make([]byte, 16)
		if _, err := io.ReadFull(random, nb); err != nil {
			return err
		}
		params.WriteString(`;nonce="` + base64.RawURLEncoding.EncodeToString(nb) + `"`)
	}
	if !sfString(s.KeyID) {
		return errors.New("httpsig: keyid must be printable ASCII")
	}
	params.WriteString(`;keyid=` + strconv.Quote(s.KeyID))
	if s.Algorithm != "" {
		params.WriteString(`;alg="` + alg + `"`)
	}
	base.WriteString(`"@signature-params": ` + params.String())

	sig, err := s.sign(alg, []byte(base.String()))
	if err != nil {
		return err
	}
	label := s.Label
	if label == "" {
		label = "sig1"
	}
	req.Header.Set("Signature-Input", label+"="+params.String())
	req.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

// sfString reports whether s fits an RFC 8941 string that strconv.Quote
// writes identically (printable ASCII; quote and backslash are escaped the
// same way by both).
func sfString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// componentValue is a covered component's value in the signature base.
func componentValue(req *http.Request, c string) (string, error) {
	switch c {
	case "@method":
		return req.Method, nil
	case "@authority":
		host := req.Host
		if host == "" && req.URL != nil {
			host = req.URL.Host
		}
		if host == "" {
			return "", errors.New("httpsig: request has no authority")
		}
		return strings.ToLower(host), nil
	case "@path":
		p := req.URL.EscapedPath()
		if p == "" {
			p = "/"
		}
		return p, nil
	case "@query":
		return "?" + req.URL.RawQuery, nil
	case "@request-target":
		return req.URL.RequestURI(), nil
	}
	if c == "" || c[0] == '@' || c != strings.ToLower(c) {
		return "", errors.New("httpsig: unsupported component " + strconv.Quote(c))
	}
	vals := req.Header.Values(c)
	if len(vals) == 0 {
		return "", errors.New("httpsig: covered header " + strconv.Quote(c) + " is not set")
	}
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	return strings.Join(vals, ", "), nil
}

func (s *HTTPSigner) algorithm() (string, error) {
	var want []string
	switch k := s.Key.(type) {
	case []byte:
		want = []string{"hmac-sha256"}
	case ed25519.PrivateKey:
		want = []string{"ed25519"}
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("httpsig: only P-256 ECDSA keys are supported")
		}
		want = []string{"ecdsa-p256-sha256"}
	case *rsa.PrivateKey:
		want = []string{"rsa-pss-sha512", "rsa-v1_5-sha256"}
	default:
		return "", errors.New("httpsig: key must be []byte, Ed25519, ECDSA P-256 or RSA")
	}
	if s.Algorithm == "" {
		return want[0], nil
	}
	for _, a := range want {
		if a == s.Algorithm {
			return a, nil
		}
	}
	return "", errors.New("httpsig: algorithm " + strconv.Quote(s.Algorithm) + " does not fit the key")
}

func (s *HTTPSigner) sign(alg string, base []byte) ([]byte, error) {
	switch alg {
	case "hmac-sha256":
		m := hmac.New(sha256.New, s.Key.([]byte))
		m.Write(base)
		return m.Sum(nil), nil
	case "ed25519":
		return ed25519.Sign(s.Key.(ed25519.PrivateKey), base), nil
	case "ecdsa-p256-sha256":
		k := s.Key.(*ecdsa.PrivateKey)
		d := sha256.Sum256(base)
		r, ss, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64) // RFC 9421 3.3.4: r || s, 32 bytes each
		r.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out, nil
	case "rsa-pss-sha512":
		d := sha512.Sum512(base)
		return rsa.SignPSS(rand.Reader, s.Key.(*rsa.PrivateKey), crypto.SHA512, d[:], &rsa.PSSOptions{SaltLength: 64})
	default: // rsa-v1_5-sha256
		d := sha256.Sum256(base)
		return rsa.SignPKCS1v15(rand.Reader, s.Key.(*rsa.PrivateKey), crypto.SHA256, d[:])
	}
}
