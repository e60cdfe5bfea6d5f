package token

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"time"
)

// ScopedEndpoint is one entry of a scoped token's allow-list: a method and
// the path prefixes it may use.
type ScopedEndpoint struct {
	Method   string
	Prefixes []string
}

// ScopedClaims is the payload of a drf-tmp-scoped-token token.
type ScopedClaims struct {
	User      int64
	MaxAge    int64 // seconds
	Endpoints []ScopedEndpoint
	Recipient string // optional
}

// ScopedOptions select Django signing's parameters. The zero value is what
// drf-tmp-scoped-token uses: salt "django.core.signing", SHA-256, no
// compression.
type ScopedOptions struct {
	Salt      string
	Algorithm string // "sha256" (default) or "sha1" (Django < 3.1)
	Compress  bool
}

// ScopedToken signs claims the way drf-tmp-scoped-token's
// TokenManager.generate_token does (django.core.signing.dumps).
func ScopedToken(secretKey []byte, claims ScopedClaims, now time.Time, opt ScopedOptions) (string, error) {
	if len(secretKey) == 0 {
		return "", errors.New("scoped token: secret key must not be empty")
	}
	var b strings.Builder
	b.WriteString(`{"user":`)
	b.WriteString(strconv.FormatInt(claims.User, 10))
	b.WriteString(`,"max_age":`)
	b.WriteString(strconv.FormatInt(claims.MaxAge, 10))
	b.WriteString(`,"endpoints":{`)
	for i, e := range claims.Endpoints {
		if i > 0 {
			b.WriteByte(',')
		}
		pyString(&b, e.Method)
		b.WriteString(":[")
		for j, p := range e.Prefixes {
			if j > 0 {
				b.WriteByte(',')
			}
			pyString(&b, p)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	if claims.Recipient != "" {
		b.WriteString(`,"recipient":`)
		pyString(&b, claims.Recipient)
	}
	b.WriteByte('}')
	return DjangoSign([]byte(b.String()), secretKey, now, opt)
}

// DjangoSign is django.core.signing.dumps over already-serialised JSON:
// payload:base62(time):signature, every part unpadded URL-safe base64.
func DjangoSign(jsonPayload, secretKey []byte, now time.Time, opt ScopedOptions) (string, error) {
	salt := opt.Salt
	if salt == "" {
		salt = "django.core.signing"
	}
	var newHash func() hash.Hash
	switch opt.Algorithm {
	case "", "sha256":
		newHash = sha256.New
	case "sha1":
		newHash = sha1.New
	default:
		return "", errors.New("scoped token: algorithm must be sha256 or sha1")
	}
	data := jsonPayload
	compressed := false
	if opt.Compress {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		_, _ = w.Write(data)
		_ = w.Close()
		if z.Len() < len(data)-1 {
			data, compressed = z.Bytes(), true
		}
	}
	payload := base64.RawURLEncoding.EncodeToString(data)
	if compressed {
		payload = "." + payload
	}
	value := payload + ":" + base62(now.Unix())
	kh := newHash()
	kh.Write([]byte(salt + "signer"))
	kh.Write(secretKey)
	mac := hmac.New(newHash, kh.Sum(nil))
	mac.Write([]byte(value))
	return value + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(n int64) string {
	if n == 0 {
		return "0"
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	var out []byte
	for n > 0 {
		out = append([]byte{base62Digits[n%62]}, out...)
		n /= 62
	}
	return sign + string(out)
}
