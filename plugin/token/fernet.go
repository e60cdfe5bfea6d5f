package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// FernetEncrypt makes a Fernet token (the format of Python's
// cryptography.fernet) of plaintext, stamped with now. key is the URL-safe
// base64 text of 32 bytes. random supplies the IV (nil: crypto/rand).
func FernetEncrypt(key string, plaintext []byte, now time.Time, random io.Reader) (string, error) {
	raw, err := base64.URLEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return "", errors.New("fernet: key must be URL-safe base64 of 32 bytes")
	}
	if random == nil {
		random = rand.Reader
	}
	signKey, encKey := raw[:16], raw[16:]
	iv := make([]byte, 16)
	if _, err := io.ReadFull(random, iv); err != nil {
		return "", err
	}
	pad := 16 - len(plaintext)%16
	padded := append(append([]byte(nil), plaintext...), make([]byte, pad)...)
	for i := len(plaintext); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	block, _ := aes.NewCipher(encKey)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)

	msg := make([]byte, 0, 1+8+16+len(ct)+32)
	msg = append(msg, 0x80)
	msg = binary.BigEndian.AppendUint64(msg, uint64(now.Unix()))
	msg = append(msg, iv...)
	msg = append(msg, ct...)
	mac := hmac.New(sha256.New, signKey)
	mac.Write(msg)
	msg = mac.Sum(msg)
	return base64.URLEncoding.EncodeToString(msg), nil
}

// AuthnzerverKey holds the claims of an authnzerver API key.
type AuthnzerverKey struct {
	Issuer    string
	Version   any // int or string, as the server's API version is configured (compared type-strictly)
	UserID    int64
	Role      string
	UserAgent string // "usa"; only session-tied keys carry it (omitted when empty)
	Audience  string // the API's Host (host[:port])
	Subject   any    // "all", a path string, or []string of paths
	IPAddress string
	Token     string // "tkn"; random when empty
	IssuedAt  time.Time
	NotBefore time.Time
	Expires   time.Time
}

// AuthnzerverAPIKey serialises the key as authnzerver does (Python's default
// JSON separators, naive-UTC ISO times) and wraps it in Fernet with fernetKey,
// as the client-facing `Authorization: Bearer <token>` value.
func AuthnzerverAPIKey(fernetKey string, k AuthnzerverKey, now time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	if k.Token == "" {
		b := make([]byte, 32)
		if _, err := io.ReadFull(random, b); err != nil {
			return "", err
		}
		k.Token = base64.RawURLEncoding.EncodeToString(b)
	}
	var b strings.Builder
	field := func(name string) {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		pyString(&b, name)
		b.WriteString(": ")
	}
	b.WriteByte('{')
	field("iss")
	pyString(&b, k.Issuer)
	field("ver")
	switch v := k.Version.(type) {
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		pyString(&b, v)
	default:
		return "", errors.New("authnzerver key: version must be an int or a string")
	}
	field("uid")
	b.WriteString(strconv.FormatInt(k.UserID, 10))
	field("rol")
	pyString(&b, k.Role)
	if k.UserAgent != "" {
		field("usa")
		pyString(&b, k.UserAgent)
	}
	field("aud")
	pyString(&b, k.Audience)
	field("sub")
	switch s := k.Subject.(type) {
	case nil:
		pyString(&b, "all")
	case string:
		pyString(&b, s)
	case []string:
		b.WriteByte('[')
		for i, p := range s {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(&b, p)
		}
		b.WriteByte(']')
	default:
		return "", errors.New("authnzerver key: subject must be a string or []string")
	}
	field("ipa")
	pyString(&b, k.IPAddress)
	field("tkn")
	pyString(&b, k.Token)
	field("iat")
	pyString(&b, pyISO(k.IssuedAt))
	field("nbf")
	pyString(&b, pyISO(k.NotBefore))
	field("exp")
	pyString(&b, pyISO(k.Expires))
	b.WriteByte('}')
	return FernetEncrypt(fernetKey, []byte(b.String()), now, random)
}

// pyISO is Python's naive datetime.isoformat() of a UTC instant: the
// fraction appears only when the microseconds are not zero.
func pyISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}
