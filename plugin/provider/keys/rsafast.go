package keys

import (
	"crypto/rsa"
	"sync"

	"github.com/tokengate/tokengate/plugin/provider/keys/rsapub"
)

// RS256/384/512 with per-key Montgomery constants.
//
// rsapub verifies PKCS#1 v1.5 signatures about 1.5× faster than crypto/rsa
// in Wasm, from constants computed once per key (R^e mod N: about 0.3 ms
// in wazero for a 2048-bit key, about 6.5 ms for the worst key the parser
// accepts, 8192 bits with e = 2³¹−1). Key sets are untrusted input (a
// remote JWKS may list MaxSetKeys keys and is parsed again on every
// refresh), so the constants are not computed at parse time but on the
// key's first RS* verification, which then costs about one extra
// crypto/rsa verification with that key. Restrict copies share them.

// rsaFast holds a key's rsapub constants once built.
type rsaFast struct {
	once sync.Once // natively, providers may verify concurrently
	pub  *rsapub.PublicKey
}

// get returns the key's rsapub constants, building them on first use;
// nil when rsapub refuses the key (an even modulus: crypto/rsa then
// refuses every signature).
func (f *rsaFast) get(pub *rsa.PublicKey) *rsapub.PublicKey {
	f.once.Do(func() {
		if p, err := rsapub.New(pub.N, pub.E); err == nil {
			f.pub = p
		}
	})
	return f.pub
}
