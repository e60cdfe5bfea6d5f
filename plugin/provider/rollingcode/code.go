package rollingcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"strconv"
	"unicode/utf8"
)

// Mode selects how codes are derived.
type Mode int

const (
	// ModeHMAC is the secure default: HMAC-SHA256 of the 8-byte big-endian
	// time-step counter (RFC 6238 with SHA-256), the 256-bit MAC written in
	// base len(alphabet), least-significant digit first, cut to Length
	// characters.
	ModeHMAC Mode = iota
	// ModeM2M reproduces Maskime/m2m_token's generate() exactly. Weak: see
	// the package documentation.
	ModeM2M
)

// Limits on parameters; they keep the scratch space fixed.
const (
	MaxLength        = 64
	MaxAlphabet      = 256
	MaxSeedLen       = 1024
	maxCodeBytes     = MaxLength * utf8.UTFMax
	maxSkewSeconds   = 120
	nsPerSecond      = int64(1e9)
	usPerSecond      = int64(1e6)
	defaultM2MLength = 6
)

// DefaultAlphabet is m2m-token's default sequence: a-z, A-Z, 0-9.
const DefaultAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Params are the code parameters shared by every client of a provider.
type Params struct {
	Mode Mode
	// TTLSeconds is the window length. In ModeM2M windows are anchored to
	// the minute, so anything above 60 behaves like 60.
	TTLSeconds int64
	// Alphabet is indexed by code point.
	Alphabet string
	// Length is the number of characters of a code.
	Length int
	// UTCOffsetSeconds is the UTC offset of the client's process (ModeM2M
	// only: the original treats naive UTC as local time).
	UTCOffsetSeconds int64
}

// Errors of Params.Validate name the m2m-token field they concern.
var (
	ErrSeed     = errors.New("seed must not be empty")
	ErrTTL      = errors.New("ttl must be a positive integer")
	ErrSequence = errors.New("sequence (alphabet) must not be empty")
	ErrTokenLen = errors.New("token_len (length) must be a positive integer")
)

// Validate checks p the way m2m-token's generate() checks its arguments,
// plus this package's size limits.
func (p Params) Validate() error {
	if p.TTLSeconds <= 0 {
		return ErrTTL
	}
	if p.Alphabet == "" || !utf8.ValidString(p.Alphabet) || utf8.RuneCountInString(p.Alphabet) > MaxAlphabet {
		return ErrSequence
	}
	if p.Length <= 0 || p.Length > MaxLength {
		return ErrTokenLen
	}
	return nil
}

// generator holds the scratch space for computing codes, so verification
// does not allocate. Not safe for concurrent use.
type generator struct {
	p        Params
	alphabet []rune
	mt       mt19937
	seedBuf  [MaxSeedLen + 32]byte
	keyWords [(maxSeedBytes + 3) / 4]uint32 // seedCPython's words for the longest seed
	// msg and sum live here, not on the stack: handing stack arrays to a
	// hash.Hash interface makes them escape (one allocation each).
	msg [8]byte
	sum [sha256.Size]byte
	// computed counts codes computed (tests check the cache holds).
	computed int
}

func newGenerator(p Params) *generator {
	return &generator{p: p, alphabet: []rune(p.Alphabet)}
}

// code writes the code for window w (m2m anchor, or HMAC step counter) of
// the given seed into dst and returns it. mac, when not nil, is an
// HMAC-SHA256 keyed with seed, reused so the HMAC mode does not allocate.
func (g *generator) code(seed []byte, mac hash.Hash, w int64, dst []byte) []byte {
	dst = dst[:0]
	g.computed++
	if g.p.Mode == ModeM2M {
		// random.seed(seed + str(float(anchor))): the anchor is a float, so
		// its text always ends in ".0".
		s := append(g.seedBuf[:0], seed...)
		s = strconv.AppendInt(s, w, 10)
		s = append(s, '.', '0')
		g.mt.seedCPython(s, g.keyWords[:])
		n := float64(len(g.alphabet))
		for i := 0; i < g.p.Length; i++ {
			dst = utf8.AppendRune(dst, g.alphabet[int(g.mt.random()*n)])
		}
		return dst
	}
	binary.BigEndian.PutUint64(g.msg[:], uint64(w))
	if mac == nil {
		mac = hmac.New(sha256.New, seed)
	}
	mac.Reset()
	mac.Write(g.msg[:])
	num := mac.Sum(g.sum[:0])
	// Write the MAC, a big-endian 256-bit number, in base n by repeated
	// long division; each remainder is the next digit.
	n := uint32(len(g.alphabet))
	for i := 0; i < g.p.Length; i++ {
		var rem uint32
		for j := range num {
			cur := rem<<8 | uint32(num[j])
			num[j] = byte(cur / n)
			rem = cur % n
		}
		dst = utf8.AppendRune(dst, g.alphabet[rem])
	}
	return dst
}

// m2mAnchor is the anchor m2m-token's generate() uses at instant nowNs
// (unix ns, true UTC): round(local-naive timestamp) minus (UTC seconds mod ttl).
func m2mAnchor(ttl, offset, nowNs int64) int64 {
	us := floorDiv(nowNs, 1000) // datetime has microsecond resolution
	sec := floorDiv(us, usPerSecond)
	frac := us - sec*usPerSecond
	t := sec - offset
	// Python's round() is half to even.
	if frac > usPerSecond/2 || (frac == usPerSecond/2 && t&1 != 0) {
		t++
	}
	return t - secondsField(sec)%ttl
}

func secondsField(sec int64) int64 {
	s := sec % 60
	if s < 0 {
		s += 60
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// windows appends to dst every window (m2m anchor or HMAC counter) whose
// code a client could have produced at some instant in [lo, hi] (unix ns),
// without duplicates, in ascending order of instant.
func windows(p Params, lo, hi int64, dst []int64) []int64 {
	add := func(w int64) {
		for _, x := range dst {
			if x == w {
				return
			}
		}
		dst = append(dst, w)
	}
	if p.Mode != ModeM2M {
		step := p.TTLSeconds * nsPerSecond
		for c := floorDiv(lo, step); c <= floorDiv(hi, step); c++ {
			add(c)
		}
		return dst
	}
	lo, hi = floorDiv(lo, 1000), floorDiv(hi, 1000) // microseconds
	half := usPerSecond / 2
	for s := floorDiv(lo, usPerSecond); s <= floorDiv(hi, usPerSecond); s++ {
		d := secondsField(s) % p.TTLSeconds
		t := s - p.UTCOffsetSeconds
		base := s * usPerSecond
		// [s, s+.5) rounds down.
		if base <= hi && base+half > lo {
			add(t - d)
		}
		// s+.5 rounds to even.
		if mid := base + half; lo <= mid && mid <= hi {
			if t&1 != 0 {
				add(t + 1 - d)
			} else {
				add(t - d)
			}
		}
		// (s+.5, s+1) rounds up.
		if base+half < hi && base+usPerSecond > lo {
			add(t + 1 - d)
		}
	}
	return dst
}

// windowEnd is the last instant (unix ns) at which window w's code can
// still be produced; replay memory must outlive it plus the look-back.
func windowEnd(p Params, w int64) int64 {
	if p.Mode != ModeM2M {
		return (w + 1) * p.TTLSeconds * nsPerSecond
	}
	ttl := p.TTLSeconds
	if ttl > 60 {
		ttl = 60
	}
	return (w + p.UTCOffsetSeconds + ttl + 1) * nsPerSecond
}

// Generate returns the code a client holding seed produces at nowNs (unix
// ns). In ModeM2M it is exactly m2m_token.generate(seed, ttl, sequence,
// token_len) on a host with the configured UTC offset.
func Generate(p Params, seed []byte, nowNs int64) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if len(seed) == 0 || len(seed) > MaxSeedLen {
		return "", ErrSeed
	}
	g := newGenerator(p)
	var w int64
	if p.Mode == ModeM2M {
		w = m2mAnchor(p.TTLSeconds, p.UTCOffsetSeconds, nowNs)
	} else {
		w = floorDiv(nowNs, p.TTLSeconds*nsPerSecond)
	}
	var buf [maxCodeBytes]byte
	return string(g.code(seed, nil, w, buf[:0])), nil
}
