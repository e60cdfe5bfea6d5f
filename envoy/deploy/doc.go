// Package deploy builds and checks tokengate's deployment artefacts: the
// Wasm OCI image Istio pulls, and the digests the shipped Envoy and Istio
// files must name.
//
// It lives next to the files it serves (envoy/) and is used by two small
// commands, plugin/cmd/ocibuild (`make oci`) and plugin/cmd/syncsha
// (`make sync-sha`), and by the tests in tests/deploy. It is never compiled
// into the plugin.
//
// # Which digest goes where
//
// Two different sha256 values describe one build, and each consumer checks
// a different one:
//
//   - the module digest, sha256 of build/tokengate.wasm (what `make wasm`
//     writes to build/tokengate.wasm.sha256). Envoy verifies it for a
//     remote code source (RemoteDataSource.sha256); Istio verifies it for
//     http(s) URLs. Envoy's local source (DataSource) has no sha256 field, so
//     envoy/envoy.yaml records it in the listener's filter metadata, where
//     the tests (and an operator reading /config_dump) can compare it.
//   - the image digest, sha256 of the OCI manifest `make oci` builds. For
//     oci:// URLs Istio's agent compares a WasmPlugin's sha256 against the
//     manifest digest of the pulled image, not against the module.
//
// # Keeping files in sync
//
// Every line of a shipped file that holds a digest ends with a marker
// comment, `# tokengate:module-sha256` or `# tokengate:image-digest`.
// [Rewrite] replaces the 64-hex-digit values on marked lines and nothing
// else, so comments and layout survive; [Stale] reports marked lines whose
// value is out of date. Nobody edits a digest by hand.
package deploy
