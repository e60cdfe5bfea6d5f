// Package deploycheck proves the shipped deployment files are valid: every
// Envoy and Istio YAML under envoy/ is decoded with the projects' own API
// types (go-control-plane and istio.io/api, strict protojson, Any types
// resolved, generated validation rules run), the embedded plugin
// configuration is checked, and every digest the files name is compared with
// the module `make wasm` built. Mutated copies prove the checks can fail.
//
// The package has no code of its own outside its tests.
package deploycheck
