// Package signedpayload verifies omtinez/bottleship's signed data,
// "!" ‖ B64(HMAC-SHA256(key, B64(data))) ‖ "?" ‖ B64(data), against a key
// per client. It is the "signed_payload" provider type.
//
// # Format and checks
//
// B64 is standard, padded base64. The MAC covers the base64 text of the
// data, not the data. The value must start with '!' and contain a '?'; it is
// split at the first '?'. The signature is recomputed and compared in
// constant time (length included); then the data part must be canonical
// base64 (bottleship's Python decoder would silently drop stray characters;
// a real client never sends them, so they are refused).
//
// # Where the value is carried
//
// "source": "header" reads the named header; "source": "body" reads the
// whole request body, which the route must buffer (Request.Body). A value
// longer than max_bytes (default 8192) is refused before any MAC work.
//
// # Clients
//
// Keys belong to clients; the client name becomes the subject. The signed
// value does not name its signer: with client_header set, the header names
// the client and only its key is tried; otherwise every key is tried (at
// most 16 clients, all of them in constant time).
//
// # Configuration
//
//	{"name": "signed", "type": "signed_payload", "source": "header",
//	 "header": "x-signed-payload", "client_header": "x-client",
//	 "clients": {"reporter": {"key": {"env": "REPORTER_HMAC_KEY"}}}}
//
// Client (Python, bottleship's own helper):
//
//	from bottleship import BottleShip
//	value = BottleShip.data_encode('{"job": 42}', KEY)
//	requests.post(url, headers={"X-Signed-Payload": value, "X-Client": "reporter"})
package signedpayload

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Kind is the configuration type of this provider.
const Kind = "signed_payload"

// MaxClientsWithoutHeader bounds how many keys are tried per request when
// no client header names the client.
const MaxClientsWithoutHeader = 16

const sigLen = 44 // padded base64 of 32 bytes

var (
	ErrNotEncoded   = provider.NewError(provider.ReasonMalformed, "value is not '!signature?data'")
	ErrBadSignature = provider.NewError(provider.ReasonBadSignature, "signature does not verify with the client's key")
	ErrData         = provider.NewError(provider.ReasonMalformed, "signed data is not canonical base64")
	ErrOversize     = provider.NewError(provider.ReasonOversize, "signed value is too long")
	ErrClient       = provider.NewError(provider.ReasonUnknown, "unknown client")
	errClientHeader = provider.NewError(provider.ReasonMalformed, "client header missing")
	errAmbiguous    = provider.NewError(provider.ReasonAmbiguous, "header repeated")
)

// Sign is bottleship's data_encode(text, key).
func Sign(data, key []byte) []byte {
	d := base64.StdEncoding.EncodeToString(data)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(d))
	return []byte("!" + base64.StdEncoding.EncodeToString(m.Sum(nil)) + "?" + d)
}

// Verifier checks signed values for a fixed set of keys. It keeps scratch
// space: not safe for concurrent use, one per VM.
type Verifier struct {
	macs []hash.Hash
	sum  [sha256.Size]byte
	enc  [sigLen]byte
	data []byte
}

// NewVerifier builds a verifier for keys; maxBytes bounds a value.
func NewVerifier(keys [][]byte, maxBytes int) *Verifier {
	v := &Verifier{data: make([]byte, 0, maxBytes)}
	for _, k := range keys {
		v.macs = append(v.macs, hmac.New(sha256.New, k))
	}
	return v
}

// Verify checks value with key ci, or with every key when ci is -1, and
// returns the matching key's index and the decoded data (a view into
// scratch space, valid until the next call).
func (v *Verifier) Verify(ci int, value []byte) (int, []byte, error) {
	if len(value) > cap(v.data)+sigLen+2 {
		return -1, nil, ErrOversize
	}
	if len(value) == 0 || value[0] != '!' {
		return -1, nil, ErrNotEncoded
	}
	q := -1
	for i, c := range value {
		if c == '?' {
			q = i
			break
		}
	}
	if q < 0 {
		return -1, nil, ErrNotEncoded
	}
	sig, d := value[1:q], value[q+1:]
	first, last := 0, len(v.macs)-1
	if ci >= 0 {
		if ci >= len(v.macs) {
			return -1, nil, ErrClient
		}
		first, last = ci, ci
	}
	match := -1
	for i := first; i <= last; i++ {
		m := v.macs[i]
		m.Reset()
		m.Write(d)
		base64.StdEncoding.Encode(v.enc[:], m.Sum(v.sum[:0]))
		if subtle.ConstantTimeCompare(v.enc[:], sig) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return -1, nil, ErrBadSignature
	}
	out := v.data[:base64.StdEncoding.DecodedLen(len(d))]
	n, err := strictStd.Decode(out, d)
	if err != nil || len(d)%4 != 0 {
		return -1, nil, ErrData
	}
	return match, out[:n], nil
}

var strictStd = base64.StdEncoding.Strict()

// Provider is a configured signed_payload provider.
type Provider struct {
	name         string
	body         bool
	header       string
	clientHeader string
	names        []string
	index        map[string]int
	v            *Verifier

	okCount, badCount provider.Counter
}

// FromConfig builds a signed_payload provider (see the package doc).
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	before := len(o.Errs().List)
	p := &Provider{
		name:         name,
		body:         o.Enum("source", "header", "header", "body") == "body",
		header:       provider.LowerASCII(o.String("header", "x-signed-payload")),
		clientHeader: provider.LowerASCII(o.String("client_header", "")),
		index:        map[string]int{},
	}
	maxBytes := int(o.Int("max_bytes", 8192, 64, 1<<20))
	var keys [][]byte
	if co := o.Object("clients"); co == nil {
		o.Fail("clients", "is required (an object of client name to {\"key\": ...})")
	} else {
		for _, cn := range co.Names() {
			c := co.Object(cn)
			if c == nil {
				continue
			}
			k := c.RequiredSecret("key", 16)
			c.Done()
			p.index[cn] = len(keys)
			p.names = append(p.names, cn)
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			o.Fail("clients", "must name at least one client")
		}
		if p.clientHeader == "" && len(keys) > MaxClientsWithoutHeader {
			o.Fail("clients", "more than "+strconv.Itoa(MaxClientsWithoutHeader)+" clients need \"client_header\"")
		}
	}
	o.Done()
	if len(o.Errs().List) > before {
		return nil
	}
	p.v = NewVerifier(keys, maxBytes)
	p.okCount = d.Counter("signed_payload.ok")
	p.badCount = d.Counter("signed_payload.refused")
	return p
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Kind implements provider.Provider.
func (p *Provider) Kind() string { return Kind }

// Challenge implements provider.Provider.
func (p *Provider) Challenge() string { return "" }

// Verify implements provider.Provider.
func (p *Provider) Verify(req *provider.Request) (provider.Identity, error) {
	id, err := p.verify(req)
	if err == nil {
		p.okCount.Increment(1)
	} else if err != provider.ErrNoCredential {
		p.badCount.Increment(1)
	}
	return id, err
}

func (p *Provider) verify(req *provider.Request) (provider.Identity, error) {
	var value []byte
	if p.body {
		if len(req.Body) == 0 {
			return provider.Identity{}, provider.ErrNoCredential
		}
		value = req.Body
	} else {
		h, n := req.Header(p.header)
		switch {
		case n == 0:
			return provider.Identity{}, provider.ErrNoCredential
		case n > 1:
			return provider.Identity{}, errAmbiguous
		}
		value = unsafeBytes(h)
	}
	ci := -1
	if p.clientHeader != "" {
		name, n := req.Header(p.clientHeader)
		switch {
		case n == 0:
			return provider.Identity{}, errClientHeader
		case n > 1:
			return provider.Identity{}, errAmbiguous
		}
		i, ok := p.index[name]
		if !ok {
			return provider.Identity{}, ErrClient
		}
		ci = i
	}
	m, _, err := p.v.Verify(ci, value)
	if err != nil {
		return provider.Identity{}, err
	}
	return provider.Identity{Subject: p.names[m]}, nil
}
