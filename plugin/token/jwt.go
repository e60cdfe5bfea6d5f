package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"hash"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// JWTSigner mints client-signed JWTs. The zero Style is asymmetric-jwt-auth's
// shape: header {alg, kid, typ} with sorted keys, payload {username, time,
// nonce} with a fresh 11-character nonce per call.
type JWTSigner struct {
	// Key is an ed25519.PrivateKey, *ecdsa.PrivateKey (P-256/P-384) or *rsa.PrivateKey.
	Key crypto.Signer
	// Algorithm defaults to the key's first algorithm in asymmetric-jwt-auth
	// (EdDSA, RS512) or ES256/ES384 for ECDSA. RS256/384, PS256/384/512 may be chosen for RSA.
	Algorithm string
	// KeyID defaults to asymmetric-jwt-auth's fingerprint of the public key
	// (see Fingerprint); set OmitKeyID to send none.
	KeyID     string
	OmitKeyID bool
	// Username is the "username" claim (asymmetric-jwt-auth style).
	Username string
	// Standard switches to standard claims: iss, sub, aud, iat, exp, jti.
	Standard bool
	Issuer   string
	Subject  string
	Audience string
	TTL      time.Duration // exp = now + TTL (standard style; default 60 s)
	// Scope, when set, adds a "scope" claim (space-separated scopes).
	Scope string
	// Random supplies nonces (nil: crypto/rand).
	Random io.Reader
}

// Sign returns a compact JWS for instant now with a fresh nonce (or jti).
func (s *JWTSigner) Sign(now time.Time) (string, error) {
	alg, err := s.algorithm()
	if err != nil {
		return "", err
	}
	random := s.Random
	if random == nil {
		random = rand.Reader
	}
	nb := make([]byte, 8)
	if _, err := io.ReadFull(random, nb); err != nil {
		return "", err
	}
	nonce := base64.RawURLEncoding.EncodeToString(nb)

	var h strings.Builder
	h.WriteString(`{"alg":`)
	pyString(&h, alg)
	if !s.OmitKeyID {
		kid := s.KeyID
		if kid == "" {
			if kid, err = Fingerprint(s.Key.Public()); err != nil {
				return "", err
			}
		}
		h.WriteString(`,"kid":`)
		pyString(&h, kid)
	}
	h.WriteString(`,"typ":"JWT"}`)

	var p strings.Builder
	if s.Standard {
		ttl := s.TTL
		if ttl == 0 {
			ttl = time.Minute
		}
		p.WriteByte('{')
		sep := func() {
			if p.Len() > 1 {
				p.WriteByte(',')
			}
		}
		for _, c := range [][2]string{{"iss", s.Issuer}, {"sub", s.Subject}, {"aud", s.Audience}} {
			if c[1] != "" {
				sep()
				pyString(&p, c[0])
				p.WriteByte(':')
				pyString(&p, c[1])
			}
		}
		sep()
		p.WriteString(`"iat":` + strconv.FormatInt(now.Unix(), 10))
		p.WriteString(`,"exp":` + strconv.FormatInt(now.Add(ttl).Unix(), 10))
		p.WriteString(`,"jti":`)
		pyString(&p, nonce)
	} else {
		if s.Username == "" {
			return "", errors.New("jwt: username must not be empty")
		}
		p.WriteString(`{"username":`)
		pyString(&p, s.Username)
		p.WriteString(`,"time":` + strconv.FormatInt(now.Unix(), 10))
		p.WriteString(`,"nonce":`)
		pyString(&p, nonce)
	}
	if s.Scope != "" {
		p.WriteString(`,"scope":`)
		pyString(&p, s.Scope)
	}
	p.WriteByte('}')

	input := base64.RawURLEncoding.EncodeToString([]byte(h.String())) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(p.String()))
	sig, err := signJWS(s.Key, alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (s *JWTSigner) algorithm() (string, error) {
	switch k := s.Key.(type) {
	case ed25519.PrivateKey:
		if s.Algorithm == "" || s.Algorithm == "EdDSA" {
			return "EdDSA", nil
		}
	case *ecdsa.PrivateKey:
		want := map[string]string{"P-256": "ES256", "P-384": "ES384"}[k.Curve.Params().Name]
		if want == "" {
			return "", errors.New("jwt: only P-256 and P-384 ECDSA keys are supported")
		}
		if s.Algorithm == "" || s.Algorithm == want {
			return want, nil
		}
	case *rsa.PrivateKey:
		switch s.Algorithm {
		case "":
			return "RS512", nil
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return s.Algorithm, nil
		}
	default:
		return "", errors.New("jwt: key must be Ed25519, ECDSA or RSA")
	}
	return "", errors.New("jwt: algorithm " + s.Algorithm + " does not fit the key")
}

func signJWS(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	if alg == "EdDSA" {
		return ed25519.Sign(key.(ed25519.PrivateKey), input), nil
	}
	var hf crypto.Hash
	var h hash.Hash
	switch alg[2:] {
	case "256":
		hf, h = crypto.SHA256, sha256.New()
	case "384":
		hf, h = crypto.SHA384, sha512.New384()
	default:
		hf, h = crypto.SHA512, sha512.New()
	}
	h.Write(input)
	digest := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		return rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), hf, digest)
	case "PS":
		return rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), hf, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default: // ES
		k := key.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	}
}

// PublicPEM is the SubjectPublicKeyInfo PEM text of pub, as Python's
// cryptography writes it (64-column lines, trailing newline).
func PublicPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// Fingerprint is asymmetric-jwt-auth's key id: the lower-case hex SHA-256 of
// the public key's PEM text.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	p, err := PublicPEM(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:]), nil
}

// PublicJWK renders pub as a JSON Web Key with the given kid.
func PublicJWK(pub crypto.PublicKey, kid string) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var b strings.Builder
	b.WriteByte('{')
	switch k := pub.(type) {
	case ed25519.PublicKey:
		b.WriteString(`"kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":"` + b64(k) + `"`)
	case *ecdsa.PublicKey:
		// Bytes is the uncompressed point 0x04 || X || Y, each coordinate
		// padded to the curve's size, as a JWK wants them.
		pt, err := k.Bytes()
		if err != nil {
			return "", err
		}
		size := (len(pt) - 1) / 2
		x, y := pt[1:1+size], pt[1+size:]
		crv, alg := "P-256", "ES256"
		if k.Curve == elliptic.P384() {
			crv, alg = "P-384", "ES384"
		}
		b.WriteString(`"kty":"EC","crv":"` + crv + `","alg":"` + alg + `","x":"` + b64(x) + `","y":"` + b64(y) + `"`)
	case *rsa.PublicKey:
		b.WriteString(`"kty":"RSA","alg":"RS512","n":"` + b64(k.N.Bytes()) + `","e":"` + b64(big.NewInt(int64(k.E)).Bytes()) + `"`)
	default:
		return "", errors.New("jwk: unsupported key type")
	}
	b.WriteString(`,"use":"sig","kid":`)
	pyString(&b, kid)
	b.WriteByte('}')
	return b.String(), nil
}
