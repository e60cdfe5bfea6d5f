package authnz

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

var (
	ErrRevoked      = provider.NewError(provider.ReasonRevoked, "api key is revoked or unknown to authnzerver")
	errRevokeFailed = provider.NewError(provider.ReasonCalloutFailed, "authnzerver did not answer the revocation check usably")
)

// revocation asks authnzerver whether a key is still live, with its own
// protocol: POST of base64(Fernet(JSON request)) to the server, answered the
// same way (authnzerver/messaging.py). The action is apikey-verify-nosession
// for keys without a user agent and apikey-verify for session-tied ones;
// both check the key's row (tkn, uid, rol, expiry) in the auth database,
// which is where revocation shows. Answers are cached per key (hash of its
// tkn) for cache_seconds, positive and negative alike, in a bounded map.
type revocation struct {
	cluster, authority, path string
	timeoutMs                uint32
	cacheNs                  int64
	size                     int
	cache                    map[[32]byte]revEntry
	f                        *Fernet
	seq                      uint64
	name                     string
}

type revEntry struct {
	revoked bool
	until   int64
}

func newRevocation(name string, o *conf.Object) *revocation {
	r := &revocation{
		name:      name,
		cluster:   o.RequiredString("cluster"),
		authority: o.String("authority", ""),
		path:      o.String("path", "/"),
		timeoutMs: uint32(o.Int("timeout_ms", 300, 1, 60000)),
		cacheNs:   o.Int("cache_seconds", 30, 0, 3600) * 1e9,
		size:      int(o.Int("cache_size", 4096, 1, 1<<20)),
		cache:     map[[32]byte]revEntry{},
	}
	if r.authority == "" {
		r.authority = r.cluster
	}
	o.Done()
	return r
}

func (r *revocation) check(id provider.Identity, c *Claims, req *provider.Request, keyJSON []byte) (provider.Identity, error) {
	k := sha256.Sum256(c.Tkn)
	if e, ok := r.cache[k]; ok && e.until > req.Now {
		if e.revoked {
			return provider.Identity{}, ErrRevoked
		}
		return id, nil
	}
	r.seq++
	reqid := "tokengate-" + r.name + "-" + strconv.FormatUint(r.seq, 10)
	action := "apikey-verify-nosession"
	if c.HasUsa {
		action = "apikey-verify"
	}
	ip := ""
	if req.ClientAddr().IsValid() {
		ip = req.ClientAddr().String()
	}
	msg := make([]byte, 0, len(keyJSON)+256)
	msg = append(msg, `{"request": "`...)
	msg = append(msg, action...)
	msg = append(msg, `", "body": {"apikey_dict": `...)
	msg = append(msg, keyJSON...)
	msg = append(msg, `, "user_id": `...)
	msg = append(msg, c.Uid...)
	msg = append(msg, `, "user_role": "`...)
	msg = append(msg, c.Rol...)
	msg = append(msg, `", "client_ipaddr": "`...)
	msg = append(msg, ip...)
	msg = append(msg, `"}, "reqid": "`...)
	msg = append(msg, reqid...)
	msg = append(msg, `", "client_ipaddr": "`...)
	msg = append(msg, ip...)
	msg = append(msg, `"}`...)
	tok, err := r.f.Encrypt(msg, req.Now)
	if err != nil {
		return provider.Identity{}, errRevokeFailed
	}
	body := make([]byte, base64.StdEncoding.EncodedLen(len(tok)))
	base64.StdEncoding.Encode(body, tok)
	now := req.Now
	return provider.Identity{}, &provider.NeedCallout{
		Call: provider.Callout{
			Cluster: r.cluster,
			Headers: []provider.Header{
				{Name: ":method", Value: "POST"}, {Name: ":path", Value: r.path},
				{Name: ":authority", Value: r.authority},
				{Name: "content-type", Value: "application/octet-stream"},
			},
			Body:          body,
			TimeoutMillis: r.timeoutMs,
		},
		Resume: func(resp *provider.CalloutResponse) (provider.Identity, error) {
			live, ok := r.answer(resp, reqid, now)
			if !ok {
				return provider.Identity{}, errRevokeFailed // deny by default
			}
			r.remember(k, !live, now)
			if !live {
				return provider.Identity{}, ErrRevoked
			}
			return id, nil
		},
	}
}

// answer decodes authnzerver's reply: live is true when both the envelope's
// and the action's "success" are true; ok is false when the reply is not a
// usable answer to this very request (status, envelope, reqid).
func (r *revocation) answer(resp *provider.CalloutResponse, reqid string, now int64) (live, ok bool) {
	if resp == nil || resp.Status != 200 {
		return false, false
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(resp.Body)))
	n, err := strictStd.Decode(raw, resp.Body)
	if err != nil {
		return false, false
	}
	plain, _, err := r.f.Decrypt(raw[:n], now, 0)
	if err != nil {
		return false, false
	}
	id, err := jsonparser.GetString(plain, "reqid")
	if err != nil || id != reqid {
		return false, false
	}
	outer, err1 := jsonparser.GetBoolean(plain, "success")
	inner, err2 := jsonparser.GetBoolean(plain, "response", "success")
	if err1 != nil {
		return false, false
	}
	return outer && err2 == nil && inner, true
}

func (r *revocation) remember(k [32]byte, revoked bool, now int64) {
	if r.cacheNs == 0 {
		return
	}
	if len(r.cache) >= r.size {
		for key, e := range r.cache {
			if e.until <= now {
				delete(r.cache, key)
			}
		}
		for key := range r.cache {
			if len(r.cache) < r.size {
				break
			}
			delete(r.cache, key)
		}
	}
	r.cache[k] = revEntry{revoked: revoked, until: now + r.cacheNs}
}
