// Package authnz verifies waqasbhatti/authnzerver API keys at the edge. It
// is the "authnzerver_key" provider type.
//
// # Format
//
// authnzerver's apikey-new(-nosession) returns the key as a JSON object
// (iss, ver, uid, rol, usa, aud, sub, ipa, tkn, iat, nbf, exp; times as
// naive-UTC ISO-8601). The wire form is a Fernet token of that JSON
// ("envelope": "fernet", as the repository's former frontend expected in
// "Authorization: Bearer <key>"), or base64 of the Fernet token
// ("b64-fernet", authnzerver.messaging's envelope). The Fernet key is
// authnzerver's shared secret (padded base64url of 32 bytes).
//
// # Checks
//
//  1. Carrier: one Authorization header "<scheme> <key>" (scheme "Bearer",
//     any case; another scheme means "not mine"). Longer than 8 KiB is
//     refused as oversize.
//  2. Fernet: canonical padded base64url (and canonical padded base64 for
//     the outer layer: Python's decoder would skip stray characters, we
//     refuse them), version 0x80, HMAC-SHA256 compared in constant time,
//     then AES-128-CBC and PKCS#7. With ttl_seconds > 0, Python's rule on
//     the integer second: expired when issued + ttl < now, refused when
//     stamped more than 60 s ahead.
//  3. Claims, strictly: every member once, of the type authnzerver writes.
//     exp > now, nbf < now and iat < now, strictly (apikey-verify's rule;
//     at the issue instant a key is not yet valid). iss must equal
//     "issuer"; ver must equal "api_version" with the same JSON type;
//     aud must equal the request's Host (:authority) or, when
//     "audiences" is set, one of them; with check_ip (default on) ipa must
//     equal the client address (fails closed when it is unknown); with
//     check_user_agent, usa must be present and equal the User-Agent; with
//     check_subject (default on) sub must be "all", the request path, or a
//     list holding the path.
//  4. Identity: the subject is uid, the role is rol (Identity.Role, which
//     the rules check); ExpiresAt is exp.
//
// # Revocation
//
// Only authnzerver knows whether a key was revoked. With "revocation", a
// key that passed every local check is confirmed by a call-out to the
// server in its own protocol (POST of base64(Fernet(JSON)) with request
// apikey-verify-nosession, or apikey-verify for session-tied keys; the
// reply's reqid must match and both success flags be true). Answers are
// cached per key (SHA-256 of tkn) for cache_seconds in a bounded map;
// a failed or late call-out (timeout_ms) refuses the request
// (callout_failed) and is not cached. Without "revocation" a revoked key
// keeps working until exp, as with the original frontend.
//
// # Single use
//
// API keys carry no nonce and are replayable until exp. With "single_use":
// true a key (its tkn) is accepted once across all VMs, through the shared
// replay guard, until exp; meant for one-shot keys.
//
// # Configuration
//
//	{"name": "authnz-keys", "type": "authnzerver_key",
//	 "fernet_key": {"env": "AUTHNZERVER_SECRET"}, "envelope": "fernet",
//	 "scheme": "Bearer", "ttl_seconds": 86400, "issuer": "authnzerver",
//	 "api_version": 1, "check_ip": true, "check_user_agent": false,
//	 "revocation": {"cluster": "authnzerver", "authority": "authnzerver",
//	                "path": "/", "timeout_ms": 300, "cache_seconds": 30}}
//
// Client (Python):
//
//	from cryptography.fernet import Fernet
//	key_json = <"apikey" string returned by authnzerver apikey-new-nosession>
//	bearer = Fernet(AUTHNZERVER_SECRET).encrypt(key_json.encode()).decode()
//	requests.get(url, headers={"Authorization": "Bearer " + bearer})
//
// # Cost
//
// A verification without revocation makes no heap allocation once the
// key's uid and role have been seen (TestVerifyAllocations).
package authnz
