package main

import (
	"errors"
	"flag"

	"github.com/tokengate/tokengate/hostsim"
)

// hostFlags are the flags run and serve share: how the simulated Envoy is
// set up. check validates them in one place, so both commands refuse the
// same values with the same messages.
type hostFlags struct {
	profile   *string
	workers   *int
	logLevel  *string
	allowStop *bool
	level     hostsim.LogLevel // set by check
}

// allowStopHelp documents --allow-on-headers-stop-iteration.
const allowStopHelp = "let a plugin that pauses in on_request_headers read the body and resume from the body callback, " +
	"as Envoy's Wasm filter option allow_on_headers_stop_iteration: true does; without it (Envoy's default) " +
	"such requests are never resumed (run: paused_forever, serve: 503). Rules that buffer the body " +
	"(tokengate's buffer_body) need it, in Envoy too"

func addHostFlags(fs *flag.FlagSet, workersHelp, defaultLevel string) *hostFlags {
	return &hostFlags{
		profile:   fs.String("profile", "", "Envoy profile `NAME`: envoy-1.32, envoy-1.33 (default), envoy-current, full-wasi"),
		workers:   fs.Int("workers", 1, workersHelp),
		logLevel:  fs.String("log-level", defaultLevel, "proxy wasm log `LEVEL`; records below it are dropped (Istio runs at warn)"),
		allowStop: fs.Bool("allow-on-headers-stop-iteration", false, allowStopHelp),
	}
}

// check validates the parsed flags; its error is a usage error.
func (h *hostFlags) check() error {
	if err := checkProfile(*h.profile); err != nil {
		return err
	}
	if *h.workers < 1 {
		return errors.New("--workers must be at least 1")
	}
	level, err := parseLogLevel(*h.logLevel)
	if err != nil {
		return err
	}
	h.level = level
	return nil
}
