// Command tokengate-wasm is the proxy-wasm module Envoy loads. It only registers the root
// context; everything else lives in plugin/filter.
//
// Build (standard Go, reactor): GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
// -o build/tokengate.raw.wasm ./plugin/cmd/tokengate-wasm  (or `make wasm`).
package main

import (
	"github.com/tokengate/tokengate/plugin/filter"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// init, not main: with -buildmode=c-shared the module is a WASI reactor and Envoy only runs
// _initialize (which runs package init), never main.
func init() { proxywasm.SetVMContext(filter.NewVMContext()) }

func main() {}
