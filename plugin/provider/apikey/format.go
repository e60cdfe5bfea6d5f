package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
)

// KeyPrefix starts every key made by [Generate].
const KeyPrefix = "tg_"

// HashPrefix starts every stored key hash, naming the hash function.
const HashPrefix = "sha256:"

// randomChars is how many base62 characters Generate draws: 43 × log2(62)
// ≈ 256 bits of entropy.
const randomChars = 43

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Hash returns the configuration form of a key's hash: "sha256:" followed
// by the lower-case hex SHA-256 of the key's bytes. The CLI prints it next
// to a new key; the proxy stores only this.
//
// A single fast hash is the right tool here, unlike for passwords: keys
// from Generate carry 256 random bits, so no amount of hashing speed makes
// guessing one from its hash feasible, and a slow hash (Argon2, bcrypt)
// would cost every request milliseconds for no gain.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return HashPrefix + hex.EncodeToString(sum[:])
}

// ValidID reports whether id may name a key: 1 to 64 characters from
// A–Z, a–z, 0–9 and '-'. The underscore is excluded because it separates
// the parts of a generated key.
func ValidID(id string) bool {
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

// Errors of Generate.
var (
	ErrBadID     = errors.New("apikey: id must be 1-64 characters of A-Z a-z 0-9 -")
	ErrBadRandom = errors.New("apikey: random source is not random")
)

// Generate makes a new key "tg_<id>_<43 base62 characters>" from rand
// (pass crypto/rand.Reader). The id in clear lets operators and logs tell
// keys apart without the secret part; the proxy never trusts it, because it
// looks keys up by the hash of the whole string.
//
// Characters are drawn by rejection sampling (bytes 248–255 are skipped) so
// each of the 62 symbols is exactly equally likely.
func Generate(id string, rand io.Reader) (string, error) {
	if !ValidID(id) {
		return "", ErrBadID
	}
	out := make([]byte, 0, len(KeyPrefix)+len(id)+1+randomChars)
	out = append(out, KeyPrefix...)
	out = append(out, id...)
	out = append(out, '_')
	var buf [64]byte
	for n, reads := 0, 0; n < randomChars; reads++ {
		if reads == 16 { // a working source rejects 1 byte in 32
			return "", ErrBadRandom
		}
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 248 || n == randomChars {
				continue
			}
			out = append(out, base62[b%62])
			n++
		}
	}
	return string(out), nil
}
