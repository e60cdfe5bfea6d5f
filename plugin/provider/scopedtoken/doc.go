// Package scopedtoken verifies Cadasta/drf-tmp-scoped-token tokens: Django
// signed values (django.core.signing.dumps) carrying a user id, a max_age
// and a method → path-prefix allow-list. It is the "scoped_token" provider.
//
// # Format
//
//	payload ':' base62(unix seconds) ':' b64url(HMAC-SHA256(K, payload ':' ts))
//	K = SHA256(salt + "signer" + SECRET_KEY)   (Django's salted_hmac)
//
// payload is unpadded base64url of the JSON, or '.' followed by the
// base64url of its zlib stream. With accept_legacy_sha1, HMAC-SHA1
// signatures (Django ≤ 3.0 tokens, still accepted by 3.1/3.2) pass too.
// Signatures are compared in constant time.
//
// # Checks, in the original's order
//
// 1. Carrier: "Authorization: TmpToken <t>" (keyword any case, exactly two
// words, else refused without falling back), any other Authorization falls
// back to the TOKEN query parameter (percent-decoded). A repeated header or
// query parameter is refused (the original takes the last value).
// 2. Signature. 3. User: when "users" is configured the id must be listed.
// 4. Expiry with the token's own max_age: now − ts > max_age is expired
// (age == max_age passes). Unlike the original, a timestamp more than
// max_future_skew_seconds (default 60; -1 = unlimited like the original)
// ahead is refused as not_yet_valid. 5. Fields: methods among GET POST PUT
// PATCH DELETE HEAD OPTIONS, prefixes strings starting with '/'; duplicate
// members refused. 6. Scope: a prefix listed under the request method must
// be a plain string prefix of the path: no segment boundary, HEAD not
// implied by GET, case-sensitive, exactly as the original.
//
// # Path
//
// The prefix test runs on Request.Path, the path plugin/policy normalised:
// decoded once, ";params" cut, "//" merged, dot-segments resolved, no
// trailing slash ("/api/v1/foo/../admin" arrives as "/api/admin"; encoded
// slashes and double encoding are refused before we are asked). Django
// matches on iri_to_uri(request.path), the decoded path with non-ASCII and
// unsafe characters written back as upper-case %XX; the same re-encoding
// is applied here (a remaining %XX is decoded once, never twice). One
// difference is undone: when the raw path ends with '/', the slash the
// normaliser removed is put back, because prefixes such as
// "/api/v1/reports/" depend on it and the upstream sees it. Everything
// else the normaliser changes makes the check stricter than the original
// (a dot-segment can no longer walk out of an allowed prefix), never looser.
//
// # Identity
//
// The user id becomes the subject; a recipient is passed upstream in
// X-API-Token-Recipient (name configurable). The TOKEN query parameter is
// removed from the forwarded path and a TmpToken Authorization header is
// removed (provider.Stripper).
//
// # Configuration
//
//	{"name": "tmp-tokens", "type": "scoped_token",
//	 "secret_key": {"env": "DJANGO_SECRET_KEY"}, "salt": "django.core.signing",
//	 "accept_legacy_sha1": false, "header_keyword": "TmpToken",
//	 "query_param": "TOKEN", "recipient_header": "x-api-token-recipient",
//	 "users": [7, 8], "max_future_skew_seconds": 60}
//
// Client (Python, unchanged):
//
//	from rest_framework_tmp_scoped_token import TokenManager
//	t = TokenManager(user=bot, endpoints={"GET": ["/api/v1/reports/"]},
//	                 max_age=300, recipient="partner@example.org").generate_token()
//	requests.get(url, headers={"Authorization": "TmpToken " + t})
//
// # Single use
//
// The original lets a token be replayed until max_age. With "single_use":
// true a token (identified by its signature) is accepted once across all
// VMs, through the shared replay guard, and remembered until it expires.
//
// # Verified-token cache
//
// A scoped token is a bearer token meant to be presented many times until
// max_age, and the original has no revocation: whether its signature and
// payload verify depends on the token and the configuration alone. Each
// VM therefore remembers up to 256 tokens that passed every check, with
// their claims and compiled endpoints (tokens of at most 2 KiB with at most
// 2 KiB of compiled endpoints: about 1 MiB per VM at worst). When the
// same token comes again — compared in full and in constant time, the hash
// only picks the slot — the HMAC, base64 and JSON work is skipped, and only
// what depends on the request runs again, through the same code as a fresh
// verification (Verifier.authorize): expiry (age == max_age passes), future
// skew, path and scope, in the original's order. single_use still consults
// the replay guard on every request, cached or not. The table is
// direct-mapped: a token evicts the one in its slot, which is then simply
// verified in full next time. Tokens that fail are never cached.
//
// # Cost
//
// A verification of an uncompressed token makes no heap allocation
// (TestVerifyAllocations), except the recipient header when one is present;
// a cache hit makes none at all (TestCacheHitAllocations).
package scopedtoken
