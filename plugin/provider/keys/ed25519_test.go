package keys

// Differential tests of the decoded-once Ed25519 verifier (ed25519.go)
// against crypto/ed25519.Verify, the fuzz target FuzzEd25519Verify, and the
// parse-time refusal of keys that are not curve points.
//
// TestEd25519Differential runs about 4,200 comparisons by default (300
// iterations of 14). Set TOKENGATE_ED25519_DIFF=<iterations> for a long run
// and TOKENGATE_ED25519_SEED=<uint64> to vary the inputs; 150000 iterations
// are 2.1 million comparisons, about 4.5 minutes of one core:
//
//	TOKENGATE_ED25519_DIFF=150000 go test -run 'TestEd25519Differential$' -timeout 60m -v ./plugin/provider/keys/
//
// The fuzz target explores beyond these shapes:
//
//	go test -run '^$' -fuzz FuzzEd25519Verify -fuzztime 3m ./plugin/provider/keys/

import (
	"bufio"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"filippo.io/edwards25519"
	"github.com/tokengate/tokengate/plugin/provider"
)

// Curve constants for the math/big oracle: p = 2^255 − 19, d = −121665/121666,
// L the prime order of the base point.
var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD = func() *big.Int {
		inv := new(big.Int).ModInverse(big.NewInt(121666), edP)
		d := new(big.Int).Mul(big.NewInt(-121665), inv)
		return d.Mod(d, edP)
	}()
	edL, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
)

// leInt reads a little-endian integer.
func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	return new(big.Int).SetBytes(be)
}

// leBytes writes v as 32 little-endian bytes (v < 2^256).
func leBytes(v *big.Int) []byte {
	be := v.FillBytes(make([]byte, 32))
	out := make([]byte, 32)
	for i, c := range be {
		out[31-i] = c
	}
	return out
}

// decodable is an independent oracle for which 32-byte strings Go's
// Point.SetBytes accepts: y is the low 255 bits reduced mod p (non-canonical
// y ≥ p accepted), and a point exists when x² = (y² − 1)/(d·y² + 1) is a
// square or zero; the sign bit is then always satisfiable (−0 = 0).
func decodable(enc []byte) bool {
	if len(enc) != 32 {
		return false
	}
	b := append([]byte(nil), enc...)
	b[31] &= 0x7f
	y := leInt(b)
	y.Mod(y, edP)
	y2 := new(big.Int).Mul(y, y)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	v := new(big.Int).Mul(edD, y2)
	v.Add(v, big.NewInt(1))
	x2 := u.Mul(u, new(big.Int).ModInverse(v.Mod(v, edP), edP))
	x2.Mod(x2, edP)
	return x2.Sign() == 0 || big.Jacobi(x2, edP) == 1
}

// torsion returns the eight points of order dividing 8, [j]T for j = 0..7,
// with T of order 8: T = [L]P for a point P whose [L]P has order 8.
var torsion = sync.OnceValue(func() [8]*edwards25519.Point {
	for i := 0; ; i++ {
		h := sha512.Sum512([]byte("tokengate torsion " + strconv.Itoa(i)))
		var p edwards25519.Point
		if _, err := p.SetBytes(h[:32]); err != nil {
			continue
		}
		t := mulBig(&p, edL)
		t4 := mulBig(t, big.NewInt(4))
		if t4.Equal(edwards25519.NewIdentityPoint()) == 1 {
			continue // order divides 4: try another P
		}
		var out [8]*edwards25519.Point
		out[0] = edwards25519.NewIdentityPoint()
		for j := 1; j < 8; j++ {
			out[j] = new(edwards25519.Point).Add(out[j-1], t)
		}
		return out
	}
})

// mulBig is [n]P by double-and-add with the exported Add, for scalars
// (like L) that edwards25519.Scalar cannot hold.
func mulBig(p *edwards25519.Point, n *big.Int) *edwards25519.Point {
	q := edwards25519.NewIdentityPoint()
	for i := n.BitLen() - 1; i >= 0; i-- {
		q.Add(q, q)
		if n.Bit(i) == 1 {
			q.Add(q, p)
		}
	}
	return q
}

// oddEncodings lists the encodings the literature on EdDSA corner cases
// (small-order and non-canonical points) asks to test: the 8 small-order
// points, each with its sign bit flipped, and every y < 19 written both
// canonically and as y + p (the only y ≥ p that fit in 255 bits), with
// both sign bits. Some are not points at all.
var oddEncodings = sync.OnceValue(func() [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	add := func(b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, b)
		}
	}
	for _, t := range torsion() {
		enc := t.Bytes()
		add(enc)
		flipped := append([]byte(nil), enc...)
		flipped[31] ^= 0x80
		add(flipped)
	}
	for y := int64(0); y < 19; y++ {
		for _, v := range []*big.Int{big.NewInt(y), new(big.Int).Add(big.NewInt(y), edP)} {
			enc := leBytes(v)
			add(enc)
			neg := append([]byte(nil), enc...)
			neg[31] |= 0x80
			add(neg)
		}
	}
	return out
})

// edVerdict verifies through the package's public path: a parsed key and
// Key.Verify. A key refused at parse time verifies nothing.
func edVerdict(t testing.TB, pub, msg, sig []byte) bool {
	k, err := newEd25519(pub)
	if err != nil {
		if len(pub) == edPublicKeySize && (!errors.Is(err, ErrBadEd25519) || decodable(pub)) {
			t.Fatalf("key %x refused with %v; decodable %v", pub, err, decodable(pub))
		}
		return false
	}
	if !decodable(pub) {
		t.Fatalf("key %x accepted but is not a curve point", pub)
	}
	return k.Verify(EdDSA, msg, sig)
}

// diffStats counts verdicts per category.
type diffStats map[string]*[2]int // [rejected, accepted]

func (s diffStats) add(cat string, ok bool) {
	c := s[cat]
	if c == nil {
		c = new([2]int)
		s[cat] = c
	}
	if ok {
		c[1]++
	} else {
		c[0]++
	}
}

func (s diffStats) total() (n int) {
	for _, c := range s {
		n += c[0] + c[1]
	}
	return n
}

// compare checks one input against crypto/ed25519.Verify.
func compare(t testing.TB, st diffStats, cat string, pub, msg, sig []byte) bool {
	want := ed25519.Verify(pub, msg, sig)
	got := edVerdict(t, pub, msg, sig)
	if got != want {
		t.Fatalf("%s: keys says %v, crypto/ed25519 says %v\npub %x\nmsg %x\nsig %x", cat, got, want, pub, msg, sig)
	}
	st.add(cat, got)
	return got
}

// edSigner signs with a scalar a for a public key that may carry a torsion
// component (A = [a]B + T_A) and a nonce point that may too (R = [r]B + T_R):
// the signatures a cofactorless verifier accepts only when T_R = −[k]T_A.
type edSigner struct {
	a   edwards25519.Scalar
	pub []byte
}

func newEdSigner(rng *rand.Rand, tA *edwards25519.Point) *edSigner {
	var seed [64]byte
	fill(rng, seed[:])
	s := &edSigner{}
	_, _ = s.a.SetUniformBytes(seed[:])
	var a edwards25519.Point
	a.ScalarBaseMult(&s.a)
	s.pub = a.Add(&a, tA).Bytes()
	return s
}

func (s *edSigner) sign(rng *rand.Rand, msg []byte, tR *edwards25519.Point) []byte {
	var seed [64]byte
	fill(rng, seed[:])
	var r, k, sc edwards25519.Scalar
	_, _ = r.SetUniformBytes(seed[:])
	var R edwards25519.Point
	R.ScalarBaseMult(&r)
	rb := R.Add(&R, tR).Bytes()
	h := sha512.New()
	h.Write(rb)
	h.Write(s.pub)
	h.Write(msg)
	_, _ = k.SetUniformBytes(h.Sum(nil))
	sc.MultiplyAdd(&k, &s.a, &r)
	return append(rb, sc.Bytes()...)
}

func fill(rng *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(b[i:], w[:])
	}
}

func flipBit(rng *rand.Rand, b []byte, from, to int) []byte {
	c := append([]byte(nil), b...)
	i := from*8 + rng.IntN((to-from)*8)
	c[i/8] ^= 1 << (i % 8)
	return c
}

// withS replaces S by v mod 2^256.
func withS(sig []byte, v *big.Int) []byte {
	v = new(big.Int).Mod(v, new(big.Int).Lsh(big.NewInt(1), 256))
	return append(append([]byte(nil), sig[:32]...), leBytes(v)...)
}

// edIteration compares one random key's valid, damaged and odd inputs.
func edIteration(t testing.TB, rng *rand.Rand, st diffStats) {
	var seed [ed25519.SeedSize]byte
	fill(rng, seed[:])
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := []byte(priv.Public().(ed25519.PublicKey))
	msg := make([]byte, rng.IntN(301))
	fill(rng, msg)
	sig := ed25519.Sign(priv, msg)

	if !compare(t, st, "valid", pub, msg, sig) {
		t.Fatal("valid signature refused")
	}
	compare(t, st, "flip R", pub, msg, flipBit(rng, sig, 0, 32))
	compare(t, st, "flip S", pub, msg, flipBit(rng, sig, 32, 64))
	if len(msg) > 0 {
		compare(t, st, "flip msg", pub, flipBit(rng, msg, 0, len(msg)), sig)
	}
	compare(t, st, "flip key", flipBit(rng, pub, 0, 32), msg, sig)
	s := leInt(sig[32:])
	compare(t, st, "S+L", pub, msg, withS(sig, new(big.Int).Add(s, edL)))
	j := big.NewInt(int64(2 + rng.IntN(14)))
	compare(t, st, "S+jL", pub, msg, withS(sig, j.Add(s, j.Mul(j, edL))))
	high := append([]byte(nil), sig...)
	high[63] |= 0x20 << rng.IntN(3)
	compare(t, st, "S high bits", pub, msg, high)

	// Mixed-order key and nonce: accepted only when T_R = −[k]T_A.
	tors := torsion()
	signer := newEdSigner(rng, tors[1+rng.IntN(7)])
	compare(t, st, "mixed-order A", signer.pub, msg, signer.sign(rng, msg, tors[0]))
	compare(t, st, "mixed-order A and R", signer.pub, msg, signer.sign(rng, msg, tors[rng.IntN(8)]))
	plain := newEdSigner(rng, tors[0])
	if !compare(t, st, "own signer", plain.pub, msg, plain.sign(rng, msg, tors[0])) {
		t.Fatal("the test's own signer made a signature crypto/ed25519 refuses")
	}
	compare(t, st, "mixed-order R", plain.pub, msg, plain.sign(rng, msg, tors[1+rng.IntN(7)]))

	// Odd (small-order, non-canonical, off-curve) encodings as A or as R.
	odd := oddEncodings()
	e := odd[rng.IntN(len(odd))]
	compare(t, st, "odd A", e, msg, sig)
	compare(t, st, "odd R", pub, msg, append(append([]byte(nil), e...), sig[32:]...))
}

func envInt(t testing.TB, name string, def uint64) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// TestEd25519Differential: the decoded-once verifier gives crypto/ed25519's
// verdict on valid, damaged, non-canonical, small- and mixed-order inputs.
func TestEd25519Differential(t *testing.T) {
	iterations := envInt(t, "TOKENGATE_ED25519_DIFF", 300)
	seed := envInt(t, "TOKENGATE_ED25519_SEED", 1)
	rng := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24),
		byte(seed >> 32), byte(seed >> 40), byte(seed >> 48), byte(seed >> 56)}))
	st := diffStats{}
	for i := uint64(0); i < iterations; i++ {
		edIteration(t, rng, st)
	}
	logStats(t, st)
	// Each category must have happened; mixed-order pairs must have been
	// accepted sometimes (1 in 8), or the test would not show the
	// cofactorless equation is the standard library's.
	for _, cat := range []string{"valid", "flip key", "S+L", "mixed-order A", "mixed-order A and R", "odd A", "odd R"} {
		if st[cat] == nil {
			t.Errorf("category %q never ran", cat)
		}
	}
	if iterations >= 100 && (st["mixed-order A and R"][1] == 0 || st["mixed-order A"][1] == 0) {
		t.Error("no mixed-order input was ever accepted: the accepting branch is untested")
	}
}

// TestEd25519SmallOrder compares every pair of odd encodings as A and R,
// with S = 0 (accepted exactly when R = −[k]A, possible for small-order A
// and R) and with a random S.
func TestEd25519SmallOrder(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	odd := oddEncodings()
	st := diffStats{}
	msg := []byte("small order")
	for _, a := range odd {
		for _, r := range odd {
			sig := append(append([]byte(nil), r...), make([]byte, 32)...)
			compare(t, st, "S=0", a, msg, sig)
			fill(rng, sig[32:])
			sig[63] &= 0x0f
			compare(t, st, "random S", a, msg, sig)
		}
	}
	logStats(t, st)
	if st["S=0"][1] == 0 {
		t.Error("no small-order signature was accepted: the accepting branch is untested")
	}
}

func logStats(t testing.TB, st diffStats) {
	cats := make([]string, 0, len(st))
	for c := range st {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		t.Logf("%-20s accepted %8d  refused %8d", c, st[c][1], st[c][0])
	}
	t.Logf("%d comparisons with crypto/ed25519.Verify, all equal", st.total())
}

// TestEd25519Oracle: the math/big decodability oracle agrees with
// crypto/ed25519 on points it certainly knows (real keys, torsion points),
// so its verdicts on the other encodings mean something.
func TestEd25519Oracle(t *testing.T) {
	for i, p := range torsion() {
		if !decodable(p.Bytes()) {
			t.Errorf("torsion point %d not decodable", i)
		}
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	if !decodable(pub) {
		t.Error("a generated key is not decodable")
	}
	if _, err := newEd25519(offCurveKey(t)); !errors.Is(err, ErrBadEd25519) {
		t.Errorf("off-curve key: %v", err)
	}
}

// offCurveKey is the first little-endian y = 2, 3, … that is not a point.
func offCurveKey(t testing.TB) []byte {
	for y := int64(2); ; y++ {
		enc := leBytes(big.NewInt(y))
		if !decodable(enc) {
			return enc
		}
	}
}

// TestEd25519GoVectors verifies the known-answer vectors the Go
// distribution ships for crypto/ed25519 (src/crypto/ed25519/testdata/
// sign.input.gz: lines "private:public:message:signature‖message:", hex)
// through ParsePublicKey and Key.Verify, and refuses each one with its
// message changed.
func TestEd25519GoVectors(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(goroot)), "src", "crypto", "ed25519", "testdata", "sign.input.gz"))
	if err != nil {
		t.Skipf("Go's Ed25519 vectors not found: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(z)
	lines.Buffer(nil, 1<<20)
	n := 0
	for lines.Scan() {
		parts := strings.Split(lines.Text(), ":")
		if len(parts) != 5 {
			t.Fatalf("line %d: %d fields", n+1, len(parts))
		}
		var raw [4][]byte
		for i := range raw {
			if raw[i], err = hex.DecodeString(parts[i]); err != nil {
				t.Fatalf("line %d field %d: %v", n+1, i, err)
			}
		}
		pub, msg, sig := raw[1], raw[2], raw[3][:ed25519.SignatureSize]
		k, err := ParsePublicKey([]byte(jwk(ed25519.PublicKey(pub), "")))
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if !k.Verify(EdDSA, msg, sig) {
			t.Fatalf("line %d: valid signature refused", n+1)
		}
		if k.Verify(EdDSA, append(msg, 0), sig) {
			t.Fatalf("line %d: signature accepted for another message", n+1)
		}
		n++
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d vectors", n)
	}
}

// TestEd25519OffCurveRefused: a 32-byte Ed25519 key that is not a curve
// point is refused in every form, naming the problem, and a JWKS holding
// one is refused whole (like an EC point off its curve), so a Remote keeps
// serving its last good set.
func TestEd25519OffCurveRefused(t *testing.T) {
	bad := offCurveKey(t)
	good, _, _ := ed25519.GenerateKey(nil)
	badJWK := `{"kty":"OKP","crv":"Ed25519","kid":"bad","x":"` + base64.RawURLEncoding.EncodeToString(bad) + `"}`
	goodJWK := jwk(good, `,"kid":"good"`)
	offEC := `{"kty":"EC","crv":"P-256","kid":"ec","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 42) + `E"}`
	spki := spki(appendTLV(nil, tagOID, oidEd25519), bad)
	forms := []struct {
		name string
		text string
	}{
		{"jwk", badJWK},
		{"spki pem", "-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString(spki) + "\n-----END PUBLIC KEY-----\n"},
		{"openssh", "ssh-ed25519 " + sshWire([]byte("ssh-ed25519"), bad) + " x"},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			k, err := ParsePublicKey([]byte(f.text))
			if k != nil || !errors.Is(err, ErrBadEd25519) {
				t.Fatalf("got %v, %v; want ErrBadEd25519", k, err)
			}
			if strings.Contains(err.Error(), hex.EncodeToString(bad)) {
				t.Fatal("error echoes the key")
			}
		})
	}
	sets := []struct {
		name, doc string
		want      error
	}{
		{"bad ed25519 beside a good key", `{"keys":[` + goodJWK + `,` + badJWK + `]}`, ErrBadEd25519},
		{"bad EC point beside a good key", `{"keys":[` + goodJWK + `,` + offEC + `]}`, ErrBadPoint},
	}
	for _, c := range sets {
		t.Run("jwks/"+c.name, func(t *testing.T) {
			if s, err := ParseJWKS([]byte(c.doc)); s != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", s, err, c.want)
			}
			r := newTestRemote(&provider.MemSharedData{})
			now := 1000 * sec
			_, _ = r.Tick(now)[0].Resume(&provider.CalloutResponse{Status: 200, Body: []byte(`{"keys":[` + goodJWK + `]}`)})
			c2 := r.Tick(now + 61*sec)
			if len(c2) != 1 {
				t.Fatal("no refresh")
			}
			if _, err := c2[0].Resume(&provider.CalloutResponse{Status: 200, Body: []byte(c.doc)}); err == nil {
				t.Fatal("a set with a bad key was accepted")
			}
			if k, err := r.Lookup("good", now+62*sec); k == nil || err != nil || r.Failures() != 1 {
				t.Fatalf("last good set not kept: %v, %v, failures %d", k, err, r.Failures())
			}
		})
	}
}

// TestEd25519VerifyAllocs: verification allocates nothing natively.
func TestEd25519VerifyAllocs(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	k, err := newEd25519(pub)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJib3QifQ")
	sig := ed25519.Sign(priv, msg)
	if n := testing.AllocsPerRun(50, func() {
		if !k.Verify(EdDSA, msg, sig) {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("%v allocations per verification", n)
	}
}

// BenchmarkEd25519Verify compares Key.Verify with crypto/ed25519.Verify on
// the same input (a JWT-sized message).
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	k, err := newEd25519(pub)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJib3QifQ", 5))
	sig := ed25519.Sign(priv, msg)
	b.Run("keys.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.Verify(EdDSA, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto-ed25519.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
}

// FuzzEd25519Verify: on arbitrary key, message and signature, the parsed key
// verifies exactly when crypto/ed25519.Verify does, is refused at parse
// time exactly when it is not a curve point, and nothing panics.
func FuzzEd25519Verify(f *testing.F) {
	rng := rand.New(rand.NewChaCha8([32]byte{9}))
	_, priv, _ := ed25519.GenerateKey(nil)
	pub := []byte(priv.Public().(ed25519.PublicKey))
	msg := []byte("header.payload")
	sig := ed25519.Sign(priv, msg)
	f.Add(pub, msg, sig)
	f.Add(pub, []byte{}, ed25519.Sign(priv, nil))
	f.Add(pub, msg, withS(sig, new(big.Int).Add(leInt(sig[32:]), edL)))
	high := append([]byte(nil), sig...)
	high[63] |= 0x80
	f.Add(pub, msg, high)
	f.Add(pub[:31], msg, sig)
	f.Add(pub, msg, sig[:63])
	tors := torsion()
	s := newEdSigner(rng, tors[3])
	f.Add(s.pub, msg, s.sign(rng, msg, tors[5]))
	for _, e := range oddEncodings() {
		f.Add(e, msg, append(append([]byte(nil), e...), make([]byte, 32)...))
		f.Add(pub, msg, append(append([]byte(nil), e...), sig[32:]...))
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		k, err := newEd25519(pub)
		if len(pub) != edPublicKeySize {
			if k != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%d-byte key: %v, %v", len(pub), k, err)
			}
			return // crypto/ed25519.Verify panics on such keys
		}
		got := edVerdict(t, pub, msg, sig)
		if want := ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("keys says %v, crypto/ed25519 says %v", got, want)
		}
	})
}
