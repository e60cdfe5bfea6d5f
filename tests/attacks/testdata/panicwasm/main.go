// Command panicwasm is a test build of the tokengate module whose providers
// panic on demand (tests/attacks/panicky). TestPanicContainmentWasm builds it
// like the production module (wasip1, c-shared, compatibility pass) and shows
// that a provider panic inside the .wasm refuses the request, keeps the VM
// alive and lets the next request through.
//
// It needs filter.Register (see SECURITY.md, "Panic containment"): the
// production main registers the filter through plugin/internal/proxywasm,
// which a main outside plugin/ cannot import.
package main

import (
	"github.com/tokengate/tokengate/plugin/filter"
	"github.com/tokengate/tokengate/tests/attacks/panicky"
)

func init() { filter.Register(filter.Options{Kinds: panicky.Kinds()}) }

func main() {}
