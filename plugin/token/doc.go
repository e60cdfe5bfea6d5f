// Package token mints every credential tokengate verifies, for Go bots and
// for the tokengate CLI: m2m-token rolling codes, Django-signed scoped
// temporary tokens (drf-tmp-scoped-token), bottleship signed payloads,
// authnzerver Fernet-wrapped API keys, client-signed JWTs in the shape of
// asymmetric-jwt-auth (and standard claims), RFC 9421 HTTP message
// signatures and tokengate API keys. A [Transport] adds a fresh credential
// to every outgoing request, so a bot changes one line:
//
//	client := &http.Client{Transport: token.NewTransport(nil, token.JWTCredential(signer))}
//
// # Independence from the verifiers
//
// This package is native-only and deliberately shares no code with the
// verifiers in plugin/provider: both sides are written from the formats
// (shared/docs/seed-formats.md) and the public vectors, so when a minted
// token passes the plugin that agreement is evidence, not a tautology.
//
// # Time
//
// Every minting function takes the instant to mint for; pass time.Now() in
// production and a fixed time in tests.
package token
