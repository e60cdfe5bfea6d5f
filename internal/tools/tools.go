//go:build tools

// Package tools pins the module's dependencies that are needed before any
// package imports them (build tools and libraries the team is adopting), so
// that `go mod tidy` keeps them. It is never built.
package tools

import (
	_ "github.com/buger/jsonparser"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/go-containerregistry/pkg/v1"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	_ "github.com/tetratelabs/wazero"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	_ "istio.io/api/extensions/v1alpha1"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "golang.org/x/tools/go/packages"
	_ "gonum.org/v1/plot"
	_ "sigs.k8s.io/yaml"
)
