// Command hostsim runs a proxy-wasm module in hostsim, a simulated Envoy.
//
//	hostsim run   --wasm FILE --scenario FILE [--profile NAME] [--workers N]
//	hostsim serve --wasm FILE --config FILE --upstream URL [--listen ADDR]
//	              [--cluster NAME=URL]... [--env NAME=VALUE]... [--profile NAME] [--workers N]
//
// run replays a scenario file (shared/docs/scenario.md) and prints the
// result JSON on stdout; serve is a small HTTP proxy that sends every
// request through the plugin (package hostsim/serve). `hostsim help`
// and `hostsim COMMAND --help` show the flags and examples.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `hostsim runs a proxy-wasm module the way Envoy does (hostsim, a simulated Envoy).

Usage:
  hostsim run   --wasm FILE --scenario FILE [--profile NAME] [--workers N]
  hostsim serve --wasm FILE --config FILE --upstream URL [--listen ADDR]
                [--cluster NAME=URL]... [--env NAME=VALUE]... [--profile NAME] [--workers N]

Commands:
  run     replay a scenario file and print the result JSON (shared/docs/scenario.md)
  serve   HTTP proxy: every request goes through the plugin, then to the upstream

Profiles: envoy-1.32, envoy-1.33 (default), envoy-current, full-wasi.
Environment: HOSTSIM_CACHE_DIR keeps compiled modules in that directory, so
repeated runs of a large module skip most of the start-up cost.
Run 'hostsim COMMAND --help' for the flags and examples of a command.
`

// cli runs one command line and returns the exit code: 0 success, 1 a
// failure while running, 2 a usage error.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "serve":
		return serveCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hostsim: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// hostConfig is the base host configuration: a compilation cache on disk
// when HOSTSIM_CACHE_DIR is set. The returned function releases it.
func hostConfig(ctx context.Context) (hostsim.Config, func(), error) {
	dir := os.Getenv("HOSTSIM_CACHE_DIR")
	if dir == "" {
		return hostsim.Config{}, func() {}, nil
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return hostsim.Config{}, nil, fmt.Errorf("HOSTSIM_CACHE_DIR: %w", err)
	}
	return hostsim.Config{}.WithCompilationCache(cache), func() { cache.Close(ctx) }, nil
}

// parseLogLevel maps a level name to the proxy's wasm log level.
func parseLogLevel(name string) (hostsim.LogLevel, error) {
	for l := hostsim.LogTrace; l <= hostsim.LogCritical; l++ {
		if l.String() == name {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown log level %q (trace, debug, info, warn, error, critical)", name)
}
