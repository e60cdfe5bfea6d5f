package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/token"
)

// Authority every request is addressed to, and the JWT issuer/audience.
const (
	Authority = "api.bench"
	Issuer    = "https://idp.bench"
	Audience  = "api.bench"
	clientIP  = "10.1.2.3"
)

// T0 is where every benchmark host's clock starts.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// World holds the secrets, keys and the plugin configuration every
// measurement shares. Secrets are fresh per process (crypto/rand).
type World struct {
	APIKey      token.APIKey
	RollingSeed []byte
	M2MSeed     string
	Django      []byte
	HSSecret    []byte
	Ed          ed25519.PrivateKey
	EC          *ecdsa.PrivateKey
	RSA         *rsa.PrivateKey
	IntroToken  string // the live introspection token
	PayloadKey  []byte // signed_payload client "reporter"
	FernetKey   string // authnzerver_key
	Config      []byte

	scopedSerial int64 // makes every scopedFreshReq token distinct
}

func randText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// NewWorld makes the secrets and the configuration.
func NewWorld() (*World, error) {
	w := &World{RollingSeed: []byte(randText(32)), M2MSeed: randText(32), Django: []byte(randText(48)),
		HSSecret: []byte(randText(40)), IntroToken: randText(32), PayloadKey: []byte(randText(32))}
	kb := make([]byte, 32)
	if _, err := rand.Read(kb); err != nil {
		return nil, err
	}
	w.FernetKey = base64.URLEncoding.EncodeToString(kb)
	var err error
	if w.APIKey, err = token.NewAPIKey("bench", nil); err != nil {
		return nil, err
	}
	if _, w.Ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	if w.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if w.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	doc, err := w.document()
	if err != nil {
		return nil, err
	}
	w.Config, err = json.Marshal(doc)
	return w, err
}

type obj = map[string]any

func (w *World) document() (obj, error) {
	edPEM, err := token.PublicPEM(w.Ed.Public())
	if err != nil {
		return nil, err
	}
	ecPEM, err := token.PublicPEM(w.EC.Public())
	if err != nil {
		return nil, err
	}
	rsaPEM, err := token.PublicPEM(w.RSA.Public())
	if err != nil {
		return nil, err
	}
	jwtProv := func(name, alg, pem string, extra obj) obj {
		o := obj{"name": name, "type": "jwt", "issuer": Issuer, "audiences": []string{Audience},
			"algorithms": []string{alg}, "keys": []string{pem}, "require_exp": true}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	providers := []any{
		obj{"name": "keys", "type": "api_key", "keys": []any{obj{"id": w.APIKey.ID, "hash": w.APIKey.Hash,
			"subject": "svc", "scopes": []string{"read"}, "expires": "2027-06-30T00:00:00Z"}}},
		obj{"name": "office", "type": "ip_rule", "allow": []string{"10.0.0.0/8", "2001:db8::/32"}, "deny": []string{"10.66.0.0/16"}},
		obj{"name": "codes", "type": "rolling_code", "mode": "hmac", "client_header": "x-rolling-code-client",
			"clients": obj{"billing": obj{"seed": string(w.RollingSeed)}}},
		obj{"name": "m2m", "type": "rolling_code", "mode": "m2m_token", "header": "x-m2m-code",
			"client_header": "x-m2m-client", "ttl_seconds": 30, "clients": obj{"legacy": obj{"seed": w.M2MSeed}}},
		obj{"name": "tmp", "type": "scoped_token", "secret_key": string(w.Django), "users": []int{7}},
		jwtProv("jwt_ed", "EdDSA", edPEM, nil),
		jwtProv("jwt_es", "ES256", ecPEM, nil),
		jwtProv("jwt_rs", "RS256", rsaPEM, nil),
		jwtProv("jwt_once", "EdDSA", edPEM, obj{"single_use": true, "nonce_claim": "jti", "cache_capacity": 0}),
		obj{"name": "hs_hmac", "type": "http_signature", "keys": obj{"partner": obj{"alg": "hmac-sha256", "secret": string(w.HSSecret)}}},
		obj{"name": "hs_ed", "type": "http_signature", "keys": obj{"edpartner": obj{"alg": "ed25519", "key": edPEM}}},
		obj{"name": "intro", "type": "introspection", "cluster": "idp", "authority": "idp.bench"},
		obj{"name": "sp", "type": "signed_payload", "clients": obj{"reporter": obj{"key": string(w.PayloadKey)}}},
		obj{"name": "az", "type": "authnzerver_key", "fernet_key": w.FernetKey, "issuer": "authnzerver",
			"api_version": 1, "audiences": []string{Audience}, "ttl_seconds": 3600},
	}
	rule := func(name string, extra obj) obj {
		r := obj{"name": name, "paths": []any{obj{"prefix": "/" + name}}}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	anyOf := func(p string) obj { return obj{"any_of": []string{p}} }
	rules := []any{
		rule("open", obj{"anonymous": true}),
		rule("k", anyOf("keys")),
		rule("ip", obj{"all_of": []string{"office"}}),
		rule("rc", anyOf("codes")),
		rule("m2m", anyOf("m2m")),
		rule("st", anyOf("tmp")),
		rule("jwted", anyOf("jwt_ed")),
		rule("jwtes", anyOf("jwt_es")),
		rule("jwtrs", anyOf("jwt_rs")),
		rule("jwtonce", anyOf("jwt_once")),
		rule("hsh", anyOf("hs_hmac")),
		rule("hse", anyOf("hs_ed")),
		rule("intro", anyOf("intro")),
		rule("sp", anyOf("sp")),
		rule("az", anyOf("az")),
	}
	return obj{"providers": providers, "rules": rules,
		"replay": obj{"max_entries": ReplayMaxEntries, "shards": 64}}, nil
}

// ReplayMaxEntries is the configured bound of the cross-VM replay store.
const ReplayMaxEntries = 16384

// IntroHandler is the introspection service behind cluster "idp".
func (w *World) IntroHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rw.Header().Set("content-type", "application/json")
		if r.PostForm.Get("token") != w.IntroToken {
			rw.Write([]byte(`{"active":false}`))
			return
		}
		rw.Write([]byte(`{"active":true,"sub":"svc-intro","scope":"read"}`))
	})
}

// HostConfig is the hostsim configuration of every benchmark host: the
// introspection cluster, the clock at T0, Istio's warn log level (so the
// per-request info log line is not part of what we measure, as in
// production), and not interruptible: Envoy's V8 has no context-done checks
// and hostsim's cost a goroutine per callback and a check per loop turn.
func (w *World) HostConfig() hostsim.Config {
	return hostsim.Config{}.WithStartTime(T0).WithLogLevel(hostsim.LogWarn).
		WithCluster("idp", w.IntroHandler()).WithInterruptible(false)
}

func req(path string, headers ...[2]string) hostsim.Request {
	return hostsim.Request{Method: "GET", Path: path, Authority: Authority, Headers: headers,
		SourceAddress: clientIP + ":40000"}
}

// Minting, each at instant now. A credential is a request to send.

func (w *World) apiKeyReq() hostsim.Request {
	return req("/k/x", [2]string{"x-api-key", w.APIKey.Key})
}

func (w *World) rollingReq(now time.Time) hostsim.Request {
	c, err := token.RollingCode(token.RollingConfig{Seed: w.RollingSeed}, now)
	must(err)
	return req("/rc/x", [2]string{"x-rolling-code-client", "billing"}, [2]string{"x-rolling-code", c})
}

func (w *World) m2mReq(now time.Time) hostsim.Request {
	c, err := token.M2MCode(token.M2MConfig{Seed: w.M2MSeed, TTL: 30}, now)
	must(err)
	return req("/m2m/x", [2]string{"x-m2m-client", "legacy"}, [2]string{"x-m2m-code", c})
}

func (w *World) scopedReq(now time.Time) hostsim.Request {
	s, err := token.ScopedToken(w.Django, token.ScopedClaims{User: 7, MaxAge: 3600,
		Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/st"}}}}, now, token.ScopedOptions{})
	must(err)
	return req("/st/x", [2]string{"authorization", "TmpToken " + s})
}

// scopedFreshReq is scopedReq with a token no earlier call returned (its
// max_age counts up), so that a pool of them misses the scoped_token
// provider's verified-token cache (256 slots) on every send.
func (w *World) scopedFreshReq(now time.Time) hostsim.Request {
	w.scopedSerial++
	s, err := token.ScopedToken(w.Django, token.ScopedClaims{User: 7, MaxAge: 3600 + w.scopedSerial,
		Endpoints: []token.ScopedEndpoint{{Method: "GET", Prefixes: []string{"/st"}}}}, now, token.ScopedOptions{})
	must(err)
	return req("/st/x", [2]string{"authorization", "TmpToken " + s})
}

// JWT returns a standard JWT signed by key (fresh jti each call).
func (w *World) JWT(key crypto.Signer, alg string, now time.Time) string {
	signer := token.JWTSigner{Key: key}
	signer.Algorithm, signer.Standard, signer.Issuer = alg, true, Issuer
	signer.Subject, signer.Audience, signer.TTL = "robot", Audience, time.Minute
	t, err := signer.Sign(now)
	must(err)
	return t
}

func jwtReq(path, tok string) hostsim.Request {
	return req(path, [2]string{"authorization", "Bearer " + tok})
}

func (w *World) httpSigReq(path, keyID string, key any, nonce bool, now time.Time) hostsim.Request {
	s := &token.HTTPSigner{KeyID: keyID, Key: key, Nonce: nonce}
	hr, _ := http.NewRequest("GET", "http://"+Authority+path, nil)
	must(s.Sign(hr, now))
	r := req(path)
	for _, name := range []string{"Signature-Input", "Signature"} {
		r.Headers = append(r.Headers, [2]string{strings.ToLower(name), hr.Header.Get(name)})
	}
	return r
}

func (w *World) payloadReq() hostsim.Request {
	return req("/sp/x", [2]string{"x-signed-payload", token.BottleshipSign(`{"report":"daily"}`, w.PayloadKey)})
}

func (w *World) authnzReq(now time.Time) hostsim.Request {
	k := token.AuthnzerverKey{Issuer: "authnzerver", Version: 1, UserID: 42, Role: "staff", Audience: Audience,
		Subject: "all", IPAddress: clientIP, IssuedAt: now.Add(-time.Minute), NotBefore: now.Add(-time.Minute),
		Expires: now.Add(time.Hour)}
	s, err := token.AuthnzerverAPIKey(w.FernetKey, k, now, nil)
	must(err)
	return req("/az/x", [2]string{"authorization", "Bearer " + s})
}

func (w *World) introReq() hostsim.Request {
	return req("/intro/x", [2]string{"authorization", "Bearer " + w.IntroToken})
}

func must(err error) {
	if err != nil {
		panic(err) // minting with the world's own valid keys cannot fail
	}
}
