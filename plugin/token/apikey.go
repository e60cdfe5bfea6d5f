package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
)

// APIKey is a new tokengate API key and what the proxy's configuration
// needs to know about it.
type APIKey struct {
	ID   string // the key's id, also in clear inside Key
	Key  string // "tg_<id>_<43 base62 characters>": give it to the client, once
	Hash string // "sha256:<hex>": the only thing the configuration stores
}

const apiKeyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey makes a key for id from random (nil: crypto/rand), with 43
// base62 characters (about 256 bits). Each character is drawn from one
// random byte by rejection sampling (bytes 248–255 are skipped), so every
// character is equally likely. id must be 1–64 of A–Z a–z 0–9 '-'.
func NewAPIKey(id string, random io.Reader) (APIKey, error) {
	if !validKeyID(id) {
		return APIKey{}, errors.New("apikey: id must be 1-64 characters of A-Z a-z 0-9 -")
	}
	if random == nil {
		random = rand.Reader
	}
	key := make([]byte, 0, 4+len(id)+43)
	key = append(key, "tg_"...)
	key = append(key, id...)
	key = append(key, '_')
	var buf [64]byte
	for tries := 0; len(key) < 4+len(id)+43; tries++ {
		if tries == 16 {
			return APIKey{}, errors.New("apikey: random source keeps returning unusable bytes")
		}
		if _, err := io.ReadFull(random, buf[:]); err != nil {
			return APIKey{}, err
		}
		for _, b := range buf {
			if b < 248 && len(key) < 4+len(id)+43 {
				key = append(key, apiKeyAlphabet[b%62])
			}
		}
	}
	return APIKey{ID: id, Key: string(key), Hash: APIKeyHash(string(key))}, nil
}

// APIKeyHash is the configuration form of a key's hash: "sha256:" and the
// lower-case hex SHA-256 of the whole key string.
func APIKeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ConfigEntry is the key's entry for the "keys" list of an api_key
// provider, as JSON. expires is an RFC 3339 instant, or "never".
func (k APIKey) ConfigEntry(subject string, scopes []string, expires string) string {
	var b strings.Builder
	b.WriteString(`{"id":`)
	pyString(&b, k.ID)
	b.WriteString(`,"hash":`)
	pyString(&b, k.Hash)
	b.WriteString(`,"subject":`)
	pyString(&b, subject)
	if len(scopes) > 0 {
		b.WriteString(`,"scopes":[`)
		for i, s := range scopes {
			if i > 0 {
				b.WriteByte(',')
			}
			pyString(&b, s)
		}
		b.WriteByte(']')
	}
	b.WriteString(`,"expires":`)
	pyString(&b, expires)
	b.WriteByte('}')
	return b.String()
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
