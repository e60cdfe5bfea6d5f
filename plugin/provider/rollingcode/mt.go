package rollingcode

import (
	"crypto/sha512"
	"encoding/binary"
)

// mt19937 is the Mersenne Twister as CPython's random module runs it. It is
// here only to reproduce m2m-token codes bit for bit: it is not a
// cryptographic generator and nothing else may use it.
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

// initByArray is MT19937's init_by_array, the routine CPython's seed() ends in.
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
	m.index = 624
}

func (m *mt19937) next() uint32 {
	if m.index >= 624 {
		m.twist()
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (m *mt19937) twist() {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	for i := 0; i < 624; i++ {
		y := (m.state[i] & upper) | (m.state[(i+1)%624] & lower)
		v := m.state[(i+397)%624] ^ (y >> 1)
		if y&1 != 0 {
			v ^= matrixA
		}
		m.state[i] = v
	}
	m.index = 0
}

// random is CPython's random.random(): 53 bits from two outputs.
func (m *mt19937) random() float64 {
	a := m.next() >> 5
	b := m.next() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// maxSeedBytes bounds the seed string plus its SHA-512 so the key words fit
// the generator's fixed scratch space.
const maxSeedBytes = 1024 + 32 + sha512.Size

// seedCPython reproduces random.seed(s) for a str s with version 2: the
// UTF-8 bytes, followed by their SHA-512, read as one big-endian integer,
// split into 32-bit words from the least-significant end, fed to
// init_by_array. keyBuf is scratch space of at least len(s)/4+2 words.
func (m *mt19937) seedCPython(s []byte, keyBuf []uint32) {
	sum := sha512.Sum512(s)
	n := len(s) + len(sum)
	// Word w (least significant first) covers bytes [n-4(w+1), n-4w) of
	// s‖sum; bytes before the start are zero.
	words := (n + 3) / 4
	key := keyBuf[:words]
	for w := 0; w < words; w++ {
		var b [4]byte
		for t := 0; t < 4; t++ {
			idx := n - 4*(w+1) + t
			if idx < 0 {
				continue
			}
			if idx < len(s) {
				b[t] = s[idx]
			} else {
				b[t] = sum[idx-len(s)]
			}
		}
		key[w] = binary.BigEndian.Uint32(b[:])
	}
	// Leading zero words are not part of the integer's representation.
	for len(key) > 1 && key[len(key)-1] == 0 {
		key = key[:len(key)-1]
	}
	if len(key) == 1 && key[0] == 0 && n == 0 {
		key = keyBuf[:1]
	}
	m.initByArray(key)
}
