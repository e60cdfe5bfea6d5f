package scopedtoken

import (
	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
)

var (
	ErrUnknownUser = provider.NewError(provider.ReasonUnknown, "scoped token user does not exist")
	ErrExpired     = provider.NewError(provider.ReasonExpired, "scoped token is older than its max_age")
	ErrFuture      = provider.NewError(provider.ReasonNotYetValid, "scoped token is dated in the future beyond the allowed skew")
	ErrEndpoint    = provider.NewError(provider.ReasonScope, "endpoint interaction not permitted by token")
	ErrPath        = provider.NewError(provider.ReasonBadRequest, "request path cannot be matched")
)

// Config is a verifier's configuration.
type Config struct {
	SecretKey []byte
	// Salt is the signing salt (DefaultSalt unless the issuer changed it).
	Salt string
	// LegacySHA1 also accepts HMAC-SHA1 signatures (Django 3.1/3.2).
	LegacySHA1 bool
	// Users, when non-nil, lists the user ids that exist; any other id is
	// refused (the original looks the user up before checking expiry).
	Users []int64
	// MaxFutureSkewNs bounds how far in the future the token's timestamp
	// may be. The original accepts any future timestamp; -1 keeps that.
	MaxFutureSkewNs int64
}

// Claims are a verified token's contents.
type Claims struct {
	User   int64
	MaxAge int64
	// IssuedAt is the signing time in unix seconds.
	IssuedAt int64
	// Recipient is the token's recipient, or "" (a view into the
	// verifier's scratch space, valid until the next Verify).
	Recipient []byte
}

// validity is a token's signing time and max_age, in seconds: what the
// time checks read. It holds no pointer, so the cache stores it without
// GC write barriers.
type validity struct{ issuedAt, maxAge int64 }

// expiresAt is when the token stops being valid, in unix nanoseconds.
func (t validity) expiresAt() int64 { return (t.issuedAt + t.maxAge) * 1e9 }

// Verifier checks drf-tmp-scoped-token tokens. It keeps scratch buffers, so
// it is not safe for concurrent use: one per VM.
type Verifier struct {
	cfg     Config
	signer  *Signer
	payload []byte
	path    []byte
	method  [16]byte
	recip   []byte
	scope   scope // the last parsed token's endpoints
}

// NewVerifier builds a verifier.
func NewVerifier(cfg Config) *Verifier {
	if cfg.Salt == "" {
		cfg.Salt = DefaultSalt
	}
	return &Verifier{
		cfg:     cfg,
		signer:  NewSigner(cfg.SecretKey, cfg.Salt, cfg.LegacySHA1),
		payload: make([]byte, 0, MaxTokenBytes),
		path:    make([]byte, 0, 1024),
		recip:   make([]byte, 0, 256),
		scope:   scope{prefixes: make([]byte, 0, 512), spans: make([]span, 0, 32)},
	}
}

var allowedMethods = [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Verify checks token for a request with the given method and path (the
// normalised path, no query) at nowNs, in the original's order: signature,
// user, expiry, fields, scope.
func (v *Verifier) Verify(token []byte, method, path string, nowNs int64) (Claims, error) {
	return v.verify(token, method, path, false, nowNs)
}

// verify is Verify; slash appends a '/' to path (see rawTrailingSlash).
func (v *Verifier) verify(token []byte, method, path string, slash bool, nowNs int64) (Claims, error) {
	c, recip, err := v.parse(token)
	if err != nil {
		return Claims{}, err
	}
	if err := v.authorize(validity{c.IssuedAt, c.MaxAge}, &v.scope, method, path, slash, nowNs); err != nil {
		return Claims{}, err
	}
	if len(recip) > 0 {
		if bytesIndexByte(recip, '\\') >= 0 {
			out, e := jsonparser.Unescape(recip, v.recip[:0])
			if e != nil {
				return Claims{}, ErrPayload
			}
			recip = out
		}
		c.Recipient = recip
	}
	return c, nil
}

// parse runs the checks that depend on the token alone and must pass
// before any other: size, signature, payload fields, user. It compiles the
// endpoints into v.scope and returns the recipient still JSON-escaped.
func (v *Verifier) parse(token []byte) (c Claims, recip []byte, err error) {
	if len(token) > MaxTokenBytes {
		return Claims{}, nil, ErrOversize
	}
	seg, ts, err := v.signer.Unsign(token)
	if err != nil {
		return Claims{}, nil, err
	}
	js, err := decodePayload(seg, v.payload[:0])
	if err != nil {
		return Claims{}, nil, err
	}
	c.IssuedAt = ts
	var (
		seen      uint8
		bad       bool
		endpoints []byte
	)
	err = jsonparser.ObjectEach(js, func(key, val []byte, typ jsonparser.ValueType, _ int) error {
		var bit uint8
		switch string(key) {
		case "user":
			bit = 1
			n, e := jsonparser.ParseInt(val)
			if typ != jsonparser.Number || e != nil {
				bad = true
			}
			c.User = n
		case "max_age":
			bit = 2
			n, e := jsonparser.ParseInt(val)
			if typ != jsonparser.Number || e != nil {
				bad = true
			}
			c.MaxAge = n
		case "endpoints":
			bit = 4
			if typ != jsonparser.Object {
				bad = true
			}
			endpoints = val
		case "recipient":
			bit = 8
			switch typ {
			case jsonparser.String:
				recip = val
			case jsonparser.Null:
			default:
				bad = true
			}
		}
		if seen&bit != 0 {
			bad = true // duplicate member: refuse rather than guess which wins
		}
		seen |= bit
		return nil
	})
	if err != nil || bad || seen&7 != 7 {
		return Claims{}, nil, ErrPayload
	}
	if v.cfg.Users != nil {
		known := false
		for _, u := range v.cfg.Users {
			known = known || u == c.User
		}
		if !known {
			return Claims{}, nil, ErrUnknownUser
		}
	}
	v.scope.compile(endpoints)
	return c, recip, nil
}

// authorize runs the checks that depend on the request, in the original's
// order: expiry, future skew, max_age sign, path, endpoint validity, scope.
// It is shared by fresh verifications and cache hits (Provider.check), so
// a cached token gets exactly the answers a fresh verification would.
func (v *Verifier) authorize(t validity, sc *scope, method, path string, slash bool, nowNs int64) error {
	ts := t.issuedAt
	// Expired when now - ts > max_age; age == max_age is still valid.
	if nowNs-ts*1e9 > t.maxAge*1e9 {
		return ErrExpired
	}
	if v.cfg.MaxFutureSkewNs >= 0 && ts*1e9-nowNs > v.cfg.MaxFutureSkewNs {
		return ErrFuture
	}
	if t.maxAge < 0 {
		return ErrPayload
	}
	m := upperASCII(v.method[:0], method)
	p, ok := djangoPath(v.path[:0], path)
	if !ok {
		return ErrPath
	}
	if slash && (len(p) == 0 || p[len(p)-1] != '/') {
		p = append(p, '/')
	}
	if cap(p) > cap(v.path) {
		v.path = p[:0] // keep a grown buffer (stored only then: no write barrier per request)
	}
	if sc.invalid {
		return ErrPayload
	}
	if !sc.allows(m, p) {
		return ErrEndpoint
	}
	return nil
}

// scope is a token's endpoints object, {"METHOD": ["/prefix", ...], ...},
// compiled once for matching: every prefix unescaped, with its method.
type scope struct {
	prefixes []byte // every prefix, concatenated
	spans    []span
	// invalid is set when a method is not one the original allows, a
	// member is not an array of strings starting with '/', or the object
	// is not valid JSON: the token is refused (after the path check).
	invalid bool
}

// span is one prefix: prefixes[previous span's end:end] under
// allowedMethods[method].
type span struct {
	method uint8
	end    uint32
}

// maxScratchScope: a Verifier does not keep more scope storage than this
// after a token with an unusually large endpoints object.
const maxScratchScope = 16 << 10

// size is the memory sc's contents take, in bytes.
func (sc *scope) size() int { return len(sc.prefixes) + len(sc.spans)*8 }

// compile replaces sc's contents with endpoints', reusing its storage.
func (sc *scope) compile(endpoints []byte) {
	if cap(sc.prefixes)+cap(sc.spans)*8 > maxScratchScope {
		sc.prefixes, sc.spans = nil, nil
	}
	// Separate self-slicing assignments change lengths only (no pointer
	// store, so no GC write barrier).
	sc.prefixes = sc.prefixes[:0]
	sc.spans = sc.spans[:0]
	sc.invalid = false
	var unesc [512]byte
	err := jsonparser.ObjectEach(endpoints, func(key, val []byte, typ jsonparser.ValueType, _ int) error {
		method := methodIndex(key)
		if method < 0 || typ != jsonparser.Array {
			sc.invalid = true
			return nil
		}
		_, e := jsonparser.ArrayEach(val, func(p []byte, t jsonparser.ValueType, _ int, _ error) {
			if t != jsonparser.String {
				sc.invalid = true
				return
			}
			if bytesIndexByte(p, '\\') >= 0 {
				out, e := jsonparser.Unescape(p, unesc[:0])
				if e != nil {
					sc.invalid = true
					return
				}
				p = out
			}
			if len(p) == 0 || p[0] != '/' {
				sc.invalid = true
				return
			}
			sc.prefixes = append(sc.prefixes, p...)
			sc.spans = append(sc.spans, span{uint8(method), uint32(len(sc.prefixes))})
		})
		if e != nil {
			sc.invalid = true
		}
		return nil
	})
	if err != nil {
		sc.invalid = true
	}
}

// allows reports whether a prefix listed under method (upper case) is a
// plain string prefix of path: no segment boundary, exactly as the
// original.
func (sc *scope) allows(method, path []byte) bool {
	m := methodIndex(method)
	if m < 0 {
		return false
	}
	start := uint32(0)
	for _, s := range sc.spans {
		p := sc.prefixes[start:s.end]
		start = s.end
		if int(s.method) == m && len(path) >= len(p) && string(path[:len(p)]) == string(p) {
			return true
		}
	}
	return false
}

// methodIndex is name's index in allowedMethods, or -1.
func methodIndex(name []byte) int {
	for i, a := range allowedMethods {
		if string(name) == a {
			return i
		}
	}
	return -1
}

func bytesIndexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func upperASCII(dst []byte, s string) []byte {
	if len(s) > cap(dst) {
		return append(dst, '?') // no allowed method is this long
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// djangoPath is what the original matches on: iri_to_uri(request.path),
// where request.path is the percent-decoded path. Decoding once and
// re-encoding gives: every %XX decoded, then bytes >= 0x80 and ASCII
// characters outside iri_to_uri's safe set written back as %XX (upper
// case). Malformed escapes stay literal, as in urllib.
func djangoPath(dst []byte, path string) ([]byte, bool) {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) && isHex(path[i+1]) && isHex(path[i+2]) {
			c = unhex(path[i+1])<<4 | unhex(path[i+2])
			i += 2
		}
		if c == 0 {
			return nil, false // NUL never reaches a Django view
		}
		if c >= 0x80 || !uriSafe(c) {
			const hexd = "0123456789ABCDEF"
			dst = append(dst, '%', hexd[c>>4], hexd[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst, true
}

// uriSafe reports whether iri_to_uri leaves c as is: alphanumerics,
// "_.-~" and "/#%[]=:;$&()+,!?*@'".
func uriSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '_', '.', '-', '~', '/', '#', '%', '[', ']', '=', ':', ';', '$', '&', '(', ')', '+', ',', '!', '?', '*', '@', '\'':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
