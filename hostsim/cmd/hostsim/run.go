package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/guestprof"
	"github.com/tokengate/tokengate/hostsim/scenario"
)

const runUsage = `Usage: hostsim run --wasm FILE --scenario FILE [--profile NAME] [--workers N] [--log-level LEVEL]
                   [--allow-on-headers-stop-iteration] [--pprof FILE]

Replays a scenario (shared/docs/scenario.md) on the module and prints the
result JSON on stdout, in a fixed layout: the same run gives the same bytes.
A plugin that refuses its configuration, or a module that does not load
under the profile, is a result (configure_ok false), not an error.

--workers N starts N worker VMs after the canary, as Envoy does; every
request still goes to worker 0 (scenario.md: one VM, in order).

--pprof FILE profiles the guest over the whole run (start-up included) and
writes calls and self time per call stack for 'go tool pprof' (package
hostsim/guestprof says how to read them; the run itself is slower).

Examples:
  hostsim run --wasm build/tokengate.wasm --scenario tests/parity/testdata/core.json
  hostsim run --wasm plugin.wasm --scenario s.json --profile envoy-current --workers 2 > out.json
  hostsim run --wasm plugin.wasm --scenario s.json --pprof guest.pb.gz > out.json
  go tool pprof -sample_index=self -top guest.pb.gz

Flags:
`

// runCmd is `hostsim run`.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hostsim run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := fs.String("wasm", "", "the proxy-wasm module (`FILE`)")
	scenPath := fs.String("scenario", "", "the scenario JSON (`FILE`, - for stdin)")
	host := addHostFlags(fs, "number of worker VMs (`N`)", "trace")
	pprofPath := fs.String("pprof", "", "write a guest profile to `FILE` (pprof format)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), runUsage)
		fs.PrintDefaults()
	}
	if code, done := parse(fs, args); done {
		return code
	}
	if *wasmPath == "" || *scenPath == "" {
		return usageError(fs, "--wasm and --scenario are required")
	}
	if err := host.check(); err != nil {
		return usageError(fs, err.Error())
	}
	wasm, err := os.ReadFile(*wasmPath)
	if err != nil {
		return fail(stderr, err)
	}
	var in io.Reader = os.Stdin
	if *scenPath != "-" {
		f, err := os.Open(*scenPath)
		if err != nil {
			return fail(stderr, err)
		}
		defer f.Close()
		in = f
	}
	s, err := scenario.Decode(in)
	if err != nil {
		return fail(stderr, fmt.Errorf("%s: %w", *scenPath, err))
	}
	base, release, err := hostConfig(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer release()
	runCtx := ctx
	var prof *guestprof.Profiler
	if *pprofPath != "" {
		prof = guestprof.New()
		runCtx = prof.Context(ctx)
		prof.Start()
	}
	res, err := scenario.Run(runCtx, wasm, s, scenario.Options{Profile: hostsim.Profile(*host.profile), Workers: *host.workers,
		Config: base.WithLogLevel(host.level), AllowOnHeadersStopIteration: *host.allowStop})
	if err != nil {
		return fail(stderr, err)
	}
	if prof != nil {
		prof.Stop()
		if err := prof.WritePprofFile(*pprofPath); err != nil {
			return fail(stderr, err)
		}
	}
	if err := res.Encode(stdout); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// parse parses flags; done is true when the command must stop (help or a
// flag error) with the returned code.
func parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		return 2, true // flag has printed the error and the usage
	case fs.NArg() > 0:
		return usageError(fs, "unexpected arguments: "+strings.Join(fs.Args(), " ")), true
	}
	return 0, false
}

func usageError(fs *flag.FlagSet, msg string) int {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), msg)
	fs.Usage()
	return 2
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "hostsim: %v\n", err)
	return 1
}

func checkProfile(p string) error {
	if p == "" {
		return nil
	}
	var names []string
	for _, known := range hostsim.Profiles() {
		if hostsim.Profile(p) == known {
			return nil
		}
		names = append(names, string(known))
	}
	return fmt.Errorf("unknown profile %q (known: %s)", p, strings.Join(names, ", "))
}
