package compat

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

// cache shares compiled code between every Host of the package: each
// module is compiled once, not once per profile and test.
var cache wazero.CompilationCache

func TestMain(m *testing.M) {
	cache = wazero.NewCompilationCache()
	code := m.Run()
	cache.Close(context.Background())
	os.Exit(code)
}

// hostConfig is the base configuration of every Host here.
func hostConfig(p hostsim.Profile) hostsim.Config {
	return hostsim.Config{}.WithProfile(p).WithCompilationCache(cache)
}
