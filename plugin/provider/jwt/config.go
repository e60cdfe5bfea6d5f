package jwt

import (
	"strconv"
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"github.com/tokengate/tokengate/plugin/provider/keys"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
	"github.com/tokengate/tokengate/plugin/provider/tokencache"
	"github.com/tokengate/tokengate/plugin/replay"
)

// Profiles preset the claim names and checks; every preset can be
// overridden field by field.
const (
	ProfileAsymmetric = "asymmetric_jwt_auth"
	ProfileStandard   = "standard"
)

// FromConfig builds a "jwt" provider. See README.md for the fields.
func FromConfig(name string, o *conf.Object, d provider.Deps) provider.Provider {
	errsBefore := len(o.Errs().List)
	profile := o.Enum("profile", ProfileStandard, ProfileStandard, ProfileAsymmetric)
	asym := profile == ProfileAsymmetric

	p := &Provider{name: name}
	p.header = strings.ToLower(o.String("header", "authorization"))
	if p.header == "" || strings.HasPrefix(p.header, ":") {
		o.Fail("header", "must be a regular header name")
	}
	defScheme := "Bearer"
	if asym {
		defScheme = "JWT"
	}
	p.schemes = o.Strings("schemes")
	if p.schemes == nil {
		p.schemes = []string{defScheme}
	}
	for i, s := range p.schemes {
		if s == "" || strings.ContainsAny(s, " \t") {
			o.Fail("schemes["+strconv.Itoa(i)+"]", "must be one word")
		}
	}
	if len(p.schemes) == 0 {
		o.Fail("schemes", "must not be empty")
	} else {
		p.challenge = p.schemes[0] + ` realm="tokengate"`
	}
	p.maxBytes = int(o.Int("max_token_bytes", 8192, 64, 65536))

	def := func(a, s string) string {
		if asym {
			return a
		}
		return s
	}
	p.subjectClaim = o.String("subject_claim", def("username", "sub"))
	p.clientClaim = o.String("client_claim", def("username", ""))
	p.timeClaim = o.String("time_claim", def("time", ""))
	p.nonceClaim = o.String("nonce_claim", def("nonce", "jti"))
	p.singleUse = o.Bool("single_use", asym)
	p.tolerance = o.Int("tolerance_seconds", 20, 0, 3600) * 1e9
	p.leeway = o.Int("leeway_seconds", 0, 0, 3600) * 1e9
	p.requireExp = o.Bool("require_exp", !asym)
	p.maxLifetime = o.Int("max_lifetime_seconds", 0, 0, 86400*366) * 1e9
	p.issuer = o.String("issuer", "")
	p.audiences = o.Strings("audiences")
	if p.subjectClaim == "" {
		o.Fail("subject_claim", "must not be empty")
	}
	if p.singleUse && p.nonceClaim == "" {
		o.Fail("nonce_claim", "is required with single_use")
	}
	if p.singleUse && p.timeClaim == "" && !p.requireExp {
		o.Fail("single_use", "needs time_claim or require_exp, so each nonce has a bounded lifetime")
	}
	if p.singleUse && p.timeClaim == "" && p.maxLifetime == 0 {
		d.Warn("jwt provider " + strconv.Quote(name) + ": single_use without time_claim or max_lifetime_seconds keeps each jti until exp; long-lived tokens can fill the replay store")
	}

	allowed := keys.AllAlgs
	if asym {
		allowed = keys.RSAPKCS1 | 1<<keys.EdDSA | 1<<keys.ES256 | 1<<keys.ES384
	}
	if names := o.Strings("algorithms"); names != nil {
		allowed = 0
		for i, n := range names {
			a := keys.ParseAlg(n)
			if a == keys.AlgUnknown {
				o.Fail("algorithms["+strconv.Itoa(i)+"]", strconv.Quote(n)+" is not an asymmetric JWS algorithm (none and HS* are never accepted)")
				continue
			}
			allowed = allowed.With(a)
		}
	}

	prefix := ""
	if p.clientClaim != "" {
		clients := o.Object("clients")
		if clients == nil {
			o.Fail("clients", "is required with client_claim")
		} else {
			p.clients = map[string]*client{}
			for _, cname := range clients.Names() {
				co := clients.Object(cname)
				if co == nil {
					continue
				}
				cl := &client{}
				cl.keys = readKeys(co, "keys", allowed)
				cl.set = readJWKS(co, "jwks", allowed)
				if ro := co.Object("remote_jwks"); ro != nil {
					cl.remote = keys.RemoteFromConfig(ro, name+"/"+cname, allowed, d, prefix+cname+".")
					p.remotes = append(p.remotes, cl.remote)
				}
				co.Done()
				if len(cl.keys) > 16 {
					co.Fail("keys", "at most 16 keys per client")
				}
				p.clients[cname] = cl
			}
		}
		if o.Has("keys") || o.Has("jwks") || o.Has("remote_jwks") {
			o.Fail("", "with client_claim, keys belong under clients.<name>")
		}
	} else {
		if o.Has("clients") {
			o.Fail("clients", "needs client_claim")
		}
		stored := readKeys(o, "keys", allowed)
		p.set = readJWKS(o, "jwks", allowed)
		if len(stored) > 0 {
			all := append(append([]*keys.Key(nil), p.set.Keys()...), stored...)
			s, err := keys.NewSet(all)
			if err != nil {
				o.Fail("keys", err.Error())
			}
			p.set = s
		}
		if ro := o.Object("remote_jwks"); ro != nil {
			p.remote = keys.RemoteFromConfig(ro, name, allowed, d, prefix)
			p.remotes = append(p.remotes, p.remote)
		}
		if p.set.Len() == 0 && p.remote == nil {
			o.Fail("", `needs keys, jwks or remote_jwks`)
		}
	}

	if h := o.Object("claims_to_headers"); h != nil {
		for _, claim := range h.Names() {
			hdr := h.String(claim, "")
			if !validHeaderName(hdr) {
				h.Fail(claim, "must be a lower-case header name (not a pseudo-header, not authorization)")
				continue
			}
			p.toHeaders = append(p.toHeaders, claimHeader{claim: claim, header: hdr})
		}
		h.Done()
	}

	capacity := o.Int("cache_capacity", 1024, 0, 1<<20)
	p.cacheTTL = o.Int("cache_ttl_seconds", 300, 1, 86400) * 1e9
	if p.singleUse {
		if o.Has("cache_capacity") && capacity > 0 {
			o.Fail("cache_capacity", "must be 0 with single_use: a cache hit would skip the replay check")
		}
	} else if capacity > 0 {
		p.cache = tokencache.New(tokencache.Config{
			Capacity: int(capacity), MaxTokenBytes: p.maxBytes,
			Hits: d.Counter("cache_hit"), Misses: d.Counter("cache_miss"),
		})
	}

	if p.singleUse {
		p.replay = d.Replay
		if p.replay == nil && d.Shared != nil {
			p.replay = replay.New(d.Shared, replay.Config{Namespace: "jwt/" + name, Full: d.Counter("replay_store_full")})
		}
		if p.replay == nil {
			o.Fail("single_use", "needs the shared replay store, which this host does not provide")
		}
	}
	o.Done()
	if len(o.Errs().List) > errsBefore {
		return nil
	}
	return p
}

func validHeaderName(h string) bool {
	if h == "" || h == "authorization" || h[0] == ':' {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// readKeys reads an array of keys; each is a string (PEM, OpenSSH or JWK
// text), a JWK object, or {"env": "NAME"} naming a VM environment variable
// holding one of those texts.
func readKeys(o *conf.Object, member string, allowed keys.AlgSet) []*keys.Key {
	raw, typ := o.Raw(member)
	if typ == jsonparser.NotExist {
		return nil
	}
	if typ != jsonparser.Array {
		o.Fail(member, "must be an array of keys")
		return nil
	}
	var out []*keys.Key
	i := 0
	_, _ = jsonparser.ArrayEach(raw, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
		at := member + "[" + strconv.Itoa(i) + "]"
		i++
		var text []byte
		switch t {
		case jsonparser.String:
			s, err := jsonparser.ParseString(v)
			if err != nil {
				o.Fail(at, "invalid string escape")
				return
			}
			text = []byte(s)
		case jsonparser.Object:
			env, isEnv := envRef(v)
			if !isEnv {
				text = v
				break
			}
			val, ok := o.Env().Lookup(env)
			if !ok {
				o.Fail(at, "environment variable "+strconv.Quote(env)+" is not set in vm_config.environment_variables")
				return
			}
			text = []byte(val)
		default:
			o.Fail(at, "must be a PEM/OpenSSH string, a JWK object or {\"env\": NAME}")
			return
		}
		k, err := keys.ParsePublicKey(text)
		if err != nil {
			o.Fail(at, err.Error())
			return
		}
		if k = k.Restrict(allowed); k.Algs == 0 {
			o.Fail(at, k.Type.String()+" key has no algorithm left in algorithms")
			return
		}
		out = append(out, k)
	})
	return out
}

// envRef recognises {"env": "NAME"} (and nothing else).
func envRef(v []byte) (string, bool) {
	name, members := "", 0
	err := jsonobj.Each(v, func(n, val []byte, t jsonparser.ValueType) error {
		members++
		if string(n) == "env" && t == jsonparser.String {
			name, _ = jsonparser.ParseString(val)
		}
		return nil
	})
	return name, err == nil && members == 1 && name != ""
}

func readJWKS(o *conf.Object, member string, allowed keys.AlgSet) *keys.Set {
	raw, typ := o.Raw(member)
	if typ == jsonparser.NotExist {
		return nil
	}
	if typ != jsonparser.Object {
		o.Fail(member, "must be a JWKS object")
		return nil
	}
	s, err := keys.ParseJWKS(raw)
	if err != nil {
		o.Fail(member, err.Error())
		return nil
	}
	list := make([]*keys.Key, 0, s.Len())
	for _, k := range s.Keys() {
		if k = k.Restrict(allowed); k.Algs != 0 {
			list = append(list, k)
		}
	}
	s, err = keys.NewSet(list)
	if err != nil {
		o.Fail(member, err.Error())
		return nil
	}
	return s
}
