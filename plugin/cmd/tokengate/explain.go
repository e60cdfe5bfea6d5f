package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

func newExplain() *cobra.Command {
	var cfgPath, wasmPath, at, source string
	var envs, envFiles []string
	var repeat int
	cmd := &cobra.Command{
		Use:   "explain --config FILE [--wasm MODULE] -- [curl] [-X METHOD] [-H 'Name: value']... [-d BODY] URL",
		Short: "Run a request through the real plugin module and say what it decided, and why",
		Long: `explain loads the built module (build/tokengate.wasm) into hostsim, Envoy's
behaviour simulated in-process, starts it with the configuration, sends the
request written like a curl command line, and prints the decision: allowed or
denied, the rule, the provider and the reason code, with the reply. Nothing
leaves the machine; the upstream is simulated and answers 200.

--repeat sends the request several times (rate limits, single-use credentials);
--at moves the plugin's clock (expiry). Secrets written as {"env": "NAME"} come
from this process's environment, --env-file or --env.`,
		Example: `  tokengate explain --config cfg.json -- curl -H "x-api-key: $KEY" http://api.example.test/api/orders
  tokengate explain --config envoy/demo/secrets/tokengate.json --env-file envoy/demo/secrets/vm_env.json \
      -- curl http://127.0.0.1:8080/apikey/orders
  tokengate explain --config cfg.json --repeat 3 -- -H "x-api-key: $KEY" http://api.example.test/api/orders
  tokengate explain --config cfg.json --at 2030-01-01T00:00:00Z -- -H "$(tokengate mint jwt --key bot.key --username bot)" http://h/jwt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := parseCurl(args)
			if err != nil {
				return err
			}
			req.SourceAddress = source
			cfg, err := os.ReadFile(cfgPath)
			if err != nil {
				return err
			}
			wasm, err := readWasm(wasmPath)
			if err != nil {
				return err
			}
			env, err := processEnv(envs, envFiles)
			if err != nil {
				return err
			}
			when, err := parseInstant(at)
			if err != nil {
				return err
			}
			ctx := context.Background()
			g, err := startGate(ctx, wasm, cfg, env, nil, when, 1)
			if err != nil {
				return err
			}
			defer g.Close(ctx)
			asks := ruleProviders(cfg, env)
			for i := 1; i <= repeat; i++ {
				res, dec := g.do(ctx, req, when)
				explainResult(cmd.OutOrStdout(), i, req, res, dec, asks)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "plugin configuration (JSON)")
	f.StringVar(&wasmPath, "wasm", "build/tokengate.wasm", "the built module")
	f.StringArrayVar(&envs, "env", nil, "NAME=VALUE for the VM environment (repeatable)")
	f.StringArrayVar(&envFiles, "env-file", nil, `JSON object {"NAME": "value"} for the VM environment (repeatable)`)
	f.StringVar(&at, "at", "", "the plugin's clock (RFC 3339 or unix seconds; default now)")
	f.StringVar(&source, "source", "127.0.0.1:50000", "client address ip:port as Envoy reports it")
	f.IntVar(&repeat, "repeat", 1, "send the request this many times")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// parseCurl reads a curl-like command line: [curl] options and one URL.
func parseCurl(args []string) (hostsim.Request, error) {
	var req hostsim.Request
	if len(args) > 0 && args[0] == "curl" {
		args = args[1:]
	}
	var rawURL string
	hasBody := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch a {
		case "-X", "--request":
			v, err := val()
			if err != nil {
				return req, err
			}
			req.Method = v
		case "-H", "--header":
			v, err := val()
			if err != nil {
				return req, err
			}
			n, hv, ok := strings.Cut(v, ":")
			if !ok || strings.TrimSpace(n) == "" {
				return req, fmt.Errorf("header %q: want 'Name: value'", v)
			}
			req.Headers = append(req.Headers, [2]string{strings.ToLower(strings.TrimSpace(n)), strings.TrimSpace(hv)})
		case "-d", "--data", "--data-raw", "--data-binary":
			v, err := val()
			if err != nil {
				return req, err
			}
			req.Body = append(req.Body, v...)
			hasBody = true
		case "-A", "--user-agent":
			v, err := val()
			if err != nil {
				return req, err
			}
			req.Headers = append(req.Headers, [2]string{"user-agent", v})
		case "-i", "-s", "-S", "-v", "-k", "--silent", "--include", "--fail", "-f", "-sS":
			// output options: nothing to simulate
		default:
			if strings.HasPrefix(a, "-") {
				return req, fmt.Errorf("curl option %s is not supported by explain", a)
			}
			if rawURL != "" {
				return req, fmt.Errorf("more than one URL: %q and %q", rawURL, a)
			}
			rawURL = a
		}
	}
	if rawURL == "" {
		return req, fmt.Errorf("no URL in the request")
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return req, fmt.Errorf("URL %q: want http://host/path", rawURL)
	}
	req.Authority = u.Host
	req.Path = u.RequestURI()
	if req.Method == "" {
		req.Method = "GET"
		if hasBody {
			req.Method = "POST"
		}
	}
	if hasBody && !hasHeader(req.Headers, "content-type") {
		req.Headers = append(req.Headers, [2]string{"content-type", "application/x-www-form-urlencoded"})
	}
	return req, nil
}

func hasHeader(h [][2]string, name string) bool {
	for _, p := range h {
		if p[0] == name {
			return true
		}
	}
	return false
}

// ruleProviders maps each rule name to its providers, "name (type)", from
// the configuration parsed natively with the plugin's own parser (the
// module already accepted it, so this cannot disagree about validity).
func ruleProviders(cfg []byte, env map[string]string) map[string][]string {
	c, _, err := config.Parse(cfg, conf.MapEnv(env), provider.Deps{Shared: &provider.MemSharedData{}})
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, r := range c.Policy.Rules() {
		for _, p := range r.Providers() {
			out[r.Name] = append(out[r.Name], p.Name()+" ("+p.Kind()+")")
		}
	}
	return out
}

func explainResult(w io.Writer, n int, req hostsim.Request, res *hostsim.Result, dec *decision, asks map[string][]string) {
	fmt.Fprintf(w, "request %d: %s http://%s%s\n", n, req.Method, req.Authority, req.Path)
	switch {
	case res.Outcome == hostsim.OutcomeForwarded && dec != nil && dec.Outcome == "shadow_denied":
		fmt.Fprintf(w, "  decision: allowed (shadow rule; enforcing it would deny)\n")
	case res.Outcome == hostsim.OutcomeForwarded:
		fmt.Fprintf(w, "  decision: allowed (forwarded to the upstream)\n")
	case res.Outcome == hostsim.OutcomeLocalReply:
		fmt.Fprintf(w, "  decision: denied (%d)\n", res.Status)
	default:
		fmt.Fprintf(w, "  decision: %s\n", res.Outcome)
	}
	if dec != nil {
		prov := dec.Provider
		if prov == "_none" {
			prov = "- (the plugin names none for this reason)"
		}
		fmt.Fprintf(w, "  rule:     %s\n  provider: %s\n  reason:   %s\n", dec.Rule, prov, dec.Reason)
		if a := asks[dec.Rule]; len(a) > 0 {
			fmt.Fprintf(w, "  rule asks: %s\n", strings.Join(a, ", "))
		}
	} else {
		fmt.Fprintf(w, "  rule:     (the plugin counted no decision)\n")
	}
	for _, l := range res.Logs {
		if i := strings.Index(l.Message, " detail="); i >= 0 && strings.Contains(l.Message, "tokengate: ") {
			fmt.Fprintf(w, "  detail:   %s\n", l.Message[i+len(" detail="):])
		}
	}
	if res.Outcome == hostsim.OutcomeForwarded {
		for _, h := range res.Headers {
			if strings.HasPrefix(h[0], "x-tokengate-") {
				fmt.Fprintf(w, "  upstream sees %s: %s\n", h[0], h[1])
			}
		}
	} else if res.Response != nil {
		for _, h := range res.Response.Headers {
			if h[0] == "www-authenticate" || h[0] == "retry-after" {
				fmt.Fprintf(w, "  reply header %s: %s\n", h[0], h[1])
			}
		}
		fmt.Fprintf(w, "  reply body: %s\n", strings.TrimSpace(string(res.Response.Body)))
	}
}
