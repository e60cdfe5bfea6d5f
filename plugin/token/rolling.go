package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/big"
	"time"
	"unicode/utf8"
)

// RollingConfig describes a secure rolling code ("rolling_code" provider,
// mode "hmac"): RFC 6238 with HMAC-SHA256 over a custom alphabet.
type RollingConfig struct {
	Seed     []byte // shared secret, at least 16 bytes (the plugin refuses shorter)
	TTL      int    // window length in seconds; 0 means 30
	Alphabet string // "" means DefaultM2MAlphabet (a-z A-Z 0-9)
	Length   int    // 0 means 8
}

// RollingCode returns the code of the window containing now.
//
// The construction, written from the provider's description: the counter is
// floor(unix seconds / ttl) as 8 big-endian bytes; the MAC is HMAC-SHA256 of
// the counter keyed with the seed; the 32-byte MAC is read as one big-endian
// unsigned integer and written in base len(alphabet), least-significant digit
// first, and the first Length digits are the code. A 256-bit MAC has enough
// digits for any length the plugin accepts (at most 64 characters).
func RollingCode(c RollingConfig, now time.Time) (string, error) {
	if len(c.Seed) == 0 {
		return "", errors.New("rolling code: seed must not be empty")
	}
	if c.TTL == 0 {
		c.TTL = 30
	}
	if c.TTL < 0 {
		return "", errors.New("rolling code: ttl must be positive")
	}
	if c.Alphabet == "" {
		c.Alphabet = DefaultM2MAlphabet
	}
	if !utf8.ValidString(c.Alphabet) {
		return "", errors.New("rolling code: alphabet must be UTF-8")
	}
	if c.Length == 0 {
		c.Length = 8
	}
	alphabet := []rune(c.Alphabet)
	if c.Length < 0 || c.Length > 64 || len(alphabet) < 2 {
		return "", errors.New("rolling code: length must be 1-64 and the alphabet at least 2 characters")
	}
	step := floorDiv(now.Unix(), int64(c.TTL))
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha256.New, c.Seed)
	mac.Write(msg[:])
	n := new(big.Int).SetBytes(mac.Sum(nil))
	base := big.NewInt(int64(len(alphabet)))
	digit := new(big.Int)
	out := make([]rune, c.Length)
	for i := range out {
		n.QuoRem(n, base, digit)
		out[i] = alphabet[digit.Int64()]
	}
	return string(out), nil
}
