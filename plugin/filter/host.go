package filter

// This is the only file of the package that names the proxy-wasm runtime
// package. It points at SDK v0.24 directly until the project facade
// (plugin/internal/proxywasm) lands; switching is a one-line import change.

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// host is the set of runtime calls the filter makes, bound once so the rest
// of the package never imports the runtime package by name.
var (
	hostGetPluginConfiguration = proxywasm.GetPluginConfiguration
	hostLogCritical            = proxywasm.LogCritical
)
