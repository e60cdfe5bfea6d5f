package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/serve"
)

const serveUsage = `Usage: hostsim serve --wasm FILE --config FILE --upstream URL [--listen ADDR]
                     [--cluster NAME=URL]... [--env NAME=VALUE]... [--profile NAME] [--workers N]
                     [--log-level LEVEL] [--failure-policy closed|open|reload]
                     [--allow-on-headers-stop-iteration]

An HTTP proxy in front of --upstream: every request goes through the plugin
in a simulated Envoy. Allowed requests are forwarded with the headers and
:path the plugin left; refused ones get the plugin's local reply. The
plugin's callouts go to the --cluster URLs over real HTTP. Plugin logs and
one line per request go to stderr. Stop with Ctrl-C.

Examples:
  hostsim serve --wasm build/tokengate.wasm --config envoy/demo/config.json \
      --upstream http://127.0.0.1:9000 --listen 127.0.0.1:8080
  hostsim serve --wasm plugin.wasm --config cfg.json --upstream http://127.0.0.1:9000 \
      --cluster auth=http://127.0.0.1:9100 --env INTROSPECT_SECRET=s3cret --workers 2

Flags:
`

// pairsFlag collects repeated NAME=VALUE flags.
type pairsFlag struct {
	what string
	m    map[string]string
}

func (p *pairsFlag) String() string { return "" }

func (p *pairsFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want %s=VALUE, got %q", p.what, s)
	}
	if _, dup := p.m[name]; dup {
		return fmt.Errorf("%s %q given twice", strings.ToLower(p.what), name)
	}
	p.m[name] = value
	return nil
}

// serveCmd is `hostsim serve`.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hostsim serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := fs.String("wasm", "", "the proxy-wasm module (`FILE`)")
	configPath := fs.String("config", "", "the plugin configuration (`FILE`), passed to the plugin as is")
	listen := fs.String("listen", "127.0.0.1:8080", "listen `ADDR`ess")
	upstream := fs.String("upstream", "", "where allowed requests go (base `URL`)")
	vmConfig := fs.String("vm-config", "", "VM configuration `STRING`")
	rootID := fs.String("root-id", "", "root context `ID`")
	name := fs.String("name", "", "plugin `NAME` (Envoy's plugin_name)")
	host := addHostFlags(fs, "number of worker VMs (`N`); each runs one request at a time", "info")
	failure := fs.String("failure-policy", "closed", "after a VM traps: `closed` (503), open (bypass the plugin) or reload (new VM after 1 s)")
	clusters := &pairsFlag{what: "NAME", m: map[string]string{}}
	env := &pairsFlag{what: "NAME", m: map[string]string{}}
	fs.Var(clusters, "cluster", "callout cluster `NAME=URL` (repeatable)")
	fs.Var(env, "env", "VM environment variable `NAME=VALUE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	if code, done := parse(fs, args); done {
		return code
	}
	if *wasmPath == "" || *configPath == "" || *upstream == "" {
		return usageError(fs, "--wasm, --config and --upstream are required")
	}
	if err := host.check(); err != nil {
		return usageError(fs, err.Error())
	}
	policy, ok := map[string]hostsim.FailurePolicy{"closed": hostsim.FailClosed, "open": hostsim.FailOpen,
		"reload": hostsim.FailReload}[*failure]
	if !ok {
		return usageError(fs, fmt.Sprintf("unknown failure policy %q (closed, open, reload)", *failure))
	}
	wasm, err := os.ReadFile(*wasmPath)
	if err != nil {
		return fail(stderr, err)
	}
	config, err := os.ReadFile(*configPath)
	if err != nil {
		return fail(stderr, err)
	}
	base, release, err := hostConfig(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer release()
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	srv, err := serve.New(ctx, wasm, serve.Options{
		Name: *name, Upstream: *upstream, Clusters: clusters.m, PluginConfig: config, VMConfig: []byte(*vmConfig),
		RootID: *rootID, Env: env.m, Profile: hostsim.Profile(*host.profile), Workers: *host.workers, Logger: logger,
		FailurePolicy: policy, Config: base.WithLogLevel(host.level), AllowOnHeadersStopIteration: *host.allowStop,
	})
	if err != nil {
		return fail(stderr, err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		srv.Close(context.Background())
		return fail(stderr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
	logger.Printf("hostsim serve: listening on http://%s, forwarding to %s", ln.Addr(), *upstream)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	srv.Close(context.Background())
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(stderr, err)
	}
	return 0
}
