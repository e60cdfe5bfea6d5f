// Package rollingcode verifies rolling codes: short codes derived from a
// seed shared with each client and the current time window, presented in a
// request header. It is the "rolling_code" provider type.
//
// # Modes
//
// "hmac" (the default) is RFC 6238 with HMAC-SHA256: the MAC of the 8-byte
// big-endian step counter floor(unix/ttl), keyed with the client's seed
// (at least 16 bytes), written in base len(alphabet) least-significant
// digit first and cut to length characters.
//
// "m2m_token" accepts exactly what Maskime/m2m_token's generate() produces:
// CPython's random.seed(seed + str(float(anchor))) (version-2 seeding:
// UTF-8 bytes followed by their SHA-512, read as one big-endian integer,
// fed to MT19937 init_by_array), then length draws of random() indexing the
// alphabet by code point. The anchor is round(local naive timestamp) minus
// (UTC seconds mod ttl): windows restart every minute and, inside a window,
// the code flips at every half second (round() is half to even). The UTC
// offset of the client's host is configured with utc_offset_seconds.
//
// This construction is weak and the provider logs a warning at start: the
// Mersenne Twister is not a cryptographic generator, so one observed code
// and its approximate time allow an offline search of a low-entropy seed;
// 6 characters of 62 are 35.7 bits; a code is replayable by anyone inside
// its window. Use it to front existing m2m-token clients, with single_use
// on, and move clients to "hmac".
//
// # Time
//
// A code is accepted when the client could have produced it at some instant
// in [now-max_past_seconds, now+max_future_seconds] (defaults 2 and 1). With
// both at 0 the check is m2m-token's own (the code of this very instant),
// which refuses about half the codes made in the previous half second.
// A code outside the allowed interval is refused as bad_signature: the
// verifier only computes the codes of allowed windows, so it cannot tell an
// old code from a wrong one without extra work an attacker could trigger.
//
// # Clients
//
// Each client has its own seed and its name becomes the subject. A code
// does not say who made it: with client_header set, the header names the
// client and only its seed is tried; without it, every seed is tried (all
// of them, in constant time, not stopping at the first match) and the number
// of clients is limited to 16.
//
// # Single use
//
// With single_use on, a code is accepted once per (client, window) across
// all VMs of the proxy, through the shared replay guard; the entry lives
// until the code can no longer be accepted.
//
// # Cost
//
// Codes of recent windows are cached per client, so a verification inside a
// known window makes no heap allocation (TestVerifyDoesNotAllocate). A new
// m2m window costs one SHA-512 and one MT19937 seeding per client.
//
// # Configuration
//
//	{"name": "bots", "type": "rolling_code", "mode": "hmac",
//	 "header": "x-rolling-code", "client_header": "x-rolling-code-client",
//	 "ttl_seconds": 30, "alphabet": "0123456789", "length": 8,
//	 "max_past_seconds": 2, "max_future_seconds": 1, "single_use": true,
//	 "clients": {"billing": {"seed": {"env": "BILLING_SEED"}}}}
//
// m2m-token clients (Python, unchanged):
//
//	{"name": "legacy-bots", "type": "rolling_code", "mode": "m2m_token",
//	 "ttl_seconds": 30, "length": 6, "utc_offset_seconds": 0,
//	 "single_use": true, "client_header": "x-client",
//	 "clients": {"reporter": {"seed": {"env": "REPORTER_SEED"}}}}
//
//	# client
//	from m2m_token.token import generate
//	requests.get(url, headers={"X-Rolling-Code": generate(SEED, 30),
//	                           "X-Client": "reporter"})
package rollingcode
