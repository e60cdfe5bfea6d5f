package token

import (
	"crypto/sha512"
	"errors"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// DefaultM2MAlphabet is m2m-token's default alphabet: a-z, A-Z, 0-9.
const DefaultM2MAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// M2MConfig describes an m2m-token client (Maskime/m2m_token generate()).
type M2MConfig struct {
	Seed     string // shared secret
	TTL      int    // window length in seconds, > 0
	Alphabet string // "" means DefaultM2MAlphabet
	Length   int    // 0 means 6
	// UTCOffsetSeconds is the local UTC offset of the client process: the
	// original mixes naive UTC with local time, so it shifts the anchor.
	UTCOffsetSeconds int
}

// M2MCode returns exactly what m2m-token's generate(seed, ttl, sequence,
// token_len) returns at instant now. This scheme is weak (a Mersenne Twister
// seeded from the secret and the time): use it only for bots that cannot
// change; prefer [RollingCode].
func M2MCode(c M2MConfig, now time.Time) (string, error) {
	if c.Seed == "" {
		return "", errors.New("m2m: seed must not be empty")
	}
	if c.TTL <= 0 {
		return "", errors.New("m2m: ttl must be greater than 0")
	}
	if c.Alphabet == "" {
		c.Alphabet = DefaultM2MAlphabet
	}
	if c.Length == 0 {
		c.Length = 6
	}
	if c.Length < 0 {
		return "", errors.New("m2m: length must be greater than 0")
	}
	anchor := M2MAnchor(now, c.TTL, c.UTCOffsetSeconds)
	return m2mFromAnchor(c, anchor), nil
}

// M2MAnchor is the window anchor generate() derives from now: the rounded
// (half to even) local-time timestamp minus (UTC seconds field mod ttl).
func M2MAnchor(now time.Time, ttl, utcOffsetSeconds int) int64 {
	us := now.UnixMicro() - int64(utcOffsetSeconds)*1e6
	sec := floorDiv(us, 1e6)
	frac := us - sec*1e6
	t := sec
	if frac > 500000 || (frac == 500000 && sec%2 != 0) {
		t++
	}
	secondsField := floorDiv(now.UnixMicro(), 1e6) % 60
	if secondsField < 0 {
		secondsField += 60
	}
	return t - secondsField%int64(ttl)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func m2mFromAnchor(c M2MConfig, anchor int64) string {
	seedString := c.Seed + strconv.FormatInt(anchor, 10) + ".0"
	var mt mt19937
	mt.seedPython([]byte(seedString))
	alphabet := []rune(c.Alphabet)
	out := make([]rune, c.Length)
	for i := range out {
		r := mt.random()
		out[i] = alphabet[int(math.Floor(r*float64(len(alphabet))))]
	}
	if !utf8.ValidString(string(out)) {
		return ""
	}
	return string(out)
}

// mt19937 is CPython's Mersenne Twister, enough of it to reproduce
// random.seed(str) followed by random.random().
type mt19937 struct {
	state [624]uint32
	index int
}

func (m *mt19937) initGenrand(s uint32) {
	m.state[0] = s
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.index = 624
}

func (m *mt19937) initByArray(key []uint32) {
	m.initGenrand(19650218)
	i, j := 1, 0
	k := 624
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			m.state[0] = m.state[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			m.state[0] = m.state[623]
			i = 1
		}
	}
	m.state[0] = 0x80000000
}

// seedPython is random.seed(s) for a str s (version 2): the UTF-8 bytes
// followed by their SHA-512, read as one big-endian integer, split into
// 32-bit words from the least significant end.
func (m *mt19937) seedPython(s []byte) {
	sum := sha512.Sum512(s)
	n := new(big.Int).SetBytes(append(append([]byte(nil), s...), sum[:]...))
	var key []uint32
	mask := big.NewInt(0xffffffff)
	for n.Sign() > 0 {
		key = append(key, uint32(new(big.Int).And(n, mask).Uint64()))
		n.Rsh(n, 32)
	}
	if len(key) == 0 {
		key = []uint32{0}
	}
	m.initByArray(key)
}

func (m *mt19937) next() uint32 {
	if m.index >= 624 {
		for i := 0; i < 624; i++ {
			y := (m.state[i] & 0x80000000) | (m.state[(i+1)%624] & 0x7fffffff)
			v := m.state[(i+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			m.state[i] = v
		}
		m.index = 0
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// random is random.random(): 53 bits from two outputs.
func (m *mt19937) random() float64 {
	a, b := m.next()>>5, m.next()>>6
	return (float64(a)*67108864.0 + float64(b)) / 9007199254740992.0
}
