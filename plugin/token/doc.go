// Package token mints every credential tokengate verifies, for Go bots and
// for the tokengate CLI: m2m-token rolling codes, Django-signed scoped
// temporary tokens (drf-tmp-scoped-token), bottleship signed payloads,
// authnzerver Fernet-wrapped API keys, client-signed JWTs in the shape of
// asymmetric-jwt-auth (and standard claims), RFC 9421 HTTP message
// signatures and tokengate API keys. A [Transport] adds a fresh credential
// to every outgoing request, so a bot changes one line:
//
//	client := &http.Client{Transport: token.NewTransport(nil, token.JWTCredential(signer, "JWT"))}
//
// # What mints what
//
//	api_key          NewAPIKey (key, hash, config entry), APIKeyHash, APIKeyCredential
//	rolling_code     RollingCode + RollingCredential (mode hmac); M2MCode + M2MCredential (m2m_token)
//	scoped_token     ScopedToken, DjangoSign
//	jwt              JWTSigner (asymmetric-jwt-auth shape or standard claims), JWTCredential
//	authnzerver_key  AuthnzerverAPIKey, FernetEncrypt
//	signed_payload   BottleshipSign
//	http_signature   HTTPSigner (RFC 9421, Content-Digest per RFC 9530), HTTPSignatureCredential
//	keys             PublicPEM, PublicJWK, Fingerprint (the kid asymmetric-jwt-auth sends)
//
// session and introspection tokens are opaque and issued by their services;
// send them with HeaderCredential.
//
// # Independence from the verifiers
//
// This package is native-only and deliberately shares no code with the
// verifiers in plugin/provider: both sides are written from the formats
// (shared/docs/seed-formats.md) and the public vectors, so when a minted
// token passes the plugin that agreement is evidence, not a tautology. The
// tests use the verifiers (and the original Python libraries, when
// installed) only as the other side of that check.
//
// # Time
//
// Every minting function takes the instant to mint for; pass time.Now() in
// production and a fixed time in tests.
package token
