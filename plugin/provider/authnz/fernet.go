package authnz

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"

	"github.com/tokengate/tokengate/plugin/provider"
)

// Fernet token layout (https://github.com/fernet/spec):
//
//	+------+-----------------+--------+----------------------+-------------+
//	| 0x80 | ts (u64 BE, s)  | IV(16) | AES-128-CBC(PKCS#7)  | HMAC-SHA256 |
//	+------+-----------------+--------+----------------------+-------------+
//
// sent as padded base64url. The MAC covers everything before it.
const (
	fernetVersion  = 0x80
	fernetOverhead = 1 + 8 + 16 + 32
	maxClockSkew   = 60 // seconds a TTL-checked token may be stamped ahead
)

// strictURL refuses non-zero trailing bits, so a token has one encoding.
var strictURL = base64.URLEncoding.Strict()

// Refusals of Fernet.Decrypt.
var (
	ErrDecrypt     = provider.NewError(provider.ReasonBadSignature, "fernet token does not decrypt with the configured key")
	ErrTTLExpired  = provider.NewError(provider.ReasonExpired, "fernet token is older than the configured ttl")
	ErrFromFuture  = provider.NewError(provider.ReasonNotYetValid, "fernet token is stamped more than 60 s in the future")
	ErrTokenFormat = provider.NewError(provider.ReasonMalformed, "fernet token is not canonical padded base64url")
)

// Fernet decrypts and checks Fernet tokens with one key. It keeps scratch
// space, so it is not safe for concurrent use: one per VM.
type Fernet struct {
	mac   hash.Hash
	block cipher.Block
	sum   [sha256.Size]byte
	raw   []byte
	plain []byte
	// lastPlain is the plaintext of the last successful Decrypt.
	lastPlain []byte
}

// ParseFernetKey decodes a Fernet key: padded base64url of 32 bytes.
func ParseFernetKey(s string) ([]byte, error) {
	k, err := strictURL.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, errors.New("fernet key must be 32 bytes in padded base64url")
	}
	return k, nil
}

// NewFernet builds a Fernet for a 32-byte key: the first half signs, the
// second half encrypts.
func NewFernet(key []byte, maxToken int) (*Fernet, error) {
	if len(key) != 32 {
		return nil, errors.New("fernet key must be 32 bytes")
	}
	b, err := aes.NewCipher(key[16:])
	if err != nil {
		return nil, err
	}
	return &Fernet{
		mac: hmac.New(sha256.New, key[:16]), block: b,
		raw: make([]byte, 0, maxToken), plain: make([]byte, 0, maxToken),
	}, nil
}

// Decrypt checks token (padded base64url text) and returns its plaintext,
// a view into the Fernet's scratch space valid until the next call, and the
// token's timestamp. ttl > 0 applies the Fernet TTL the way Python's
// cryptography does, on the integer second: expired when ts + ttl < now,
// refused when now + 60 < ts. ttl == 0 checks no time at all (as
// authnzerver's own decrypt_message).
func (f *Fernet) Decrypt(token []byte, nowNs int64, ttl int64) (plain []byte, ts int64, err error) {
	n := base64.URLEncoding.DecodedLen(len(token))
	if n > cap(f.raw) {
		return nil, 0, ErrDecrypt
	}
	raw := f.raw[:n]
	m, derr := strictURL.Decode(raw, token)
	if derr != nil || len(token)%4 != 0 {
		return nil, 0, ErrTokenFormat
	}
	raw = raw[:m]
	if len(raw) < fernetOverhead+aes.BlockSize || (len(raw)-fernetOverhead)%aes.BlockSize != 0 || raw[0] != fernetVersion {
		return nil, 0, ErrDecrypt
	}
	body, tag := raw[:len(raw)-32], raw[len(raw)-32:]
	f.mac.Reset()
	f.mac.Write(body)
	if !hmac.Equal(f.mac.Sum(f.sum[:0]), tag) {
		return nil, 0, ErrDecrypt
	}
	ts = int64(binary.BigEndian.Uint64(raw[1:9]))
	if ttl > 0 {
		now := floorSeconds(nowNs)
		if ts+ttl < now {
			return nil, ts, ErrTTLExpired
		}
		if now+maxClockSkew < ts {
			return nil, ts, ErrFromFuture
		}
	}
	iv, ct := raw[9:25], raw[25:len(raw)-32]
	out := f.plain[:len(ct)]
	prev := iv
	for i := 0; i < len(ct); i += aes.BlockSize {
		f.block.Decrypt(out[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
		for j := 0; j < aes.BlockSize; j++ {
			out[i+j] ^= prev[j]
		}
		prev = ct[i : i+aes.BlockSize]
	}
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, ts, ErrDecrypt
	}
	good := 1
	for _, c := range out[len(out)-pad:] {
		good &= subtle.ConstantTimeByteEq(c, byte(pad))
	}
	if good != 1 {
		return nil, ts, ErrDecrypt
	}
	f.lastPlain = out[:len(out)-pad]
	return f.lastPlain, ts, nil
}

// Encrypt makes a Fernet token of plain stamped at nowNs (used for the
// revocation call-out's envelope). It allocates; it is not on the hot path.
func (f *Fernet) Encrypt(plain []byte, nowNs int64) ([]byte, error) {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, 25, fernetOverhead+len(plain)+pad)
	buf[0] = fernetVersion
	binary.BigEndian.PutUint64(buf[1:9], uint64(floorSeconds(nowNs)))
	if _, err := rand.Read(buf[9:25]); err != nil {
		return nil, err
	}
	ct := make([]byte, len(plain)+pad)
	copy(ct, plain)
	for i := len(plain); i < len(ct); i++ {
		ct[i] = byte(pad)
	}
	prev := buf[9:25]
	for i := 0; i < len(ct); i += aes.BlockSize {
		for j := 0; j < aes.BlockSize; j++ {
			ct[i+j] ^= prev[j]
		}
		f.block.Encrypt(ct[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
		prev = ct[i : i+aes.BlockSize]
	}
	buf = append(buf, ct...)
	f.mac.Reset()
	f.mac.Write(buf)
	buf = f.mac.Sum(buf)
	out := make([]byte, base64.URLEncoding.EncodedLen(len(buf)))
	base64.URLEncoding.Encode(out, buf)
	return out, nil
}

func floorSeconds(ns int64) int64 {
	s := ns / 1e9
	if ns%1e9 < 0 {
		s--
	}
	return s
}
