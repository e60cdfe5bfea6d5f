// Command tokengate is the client side of the tokengate proxy-wasm plugin:
// it makes keys and credentials, checks configurations, explains what the
// plugin decides for a request, and runs the demo.
//
//	tokengate keygen --type ed25519 --out bot          # bot.key, bot.pub.pem, bot.jwk.json
//	tokengate mint jwt --key bot.key --username bot    # Authorization: JWT eyJ...
//	tokengate apikey new ci-bot --subject ci          # the key, once, and its config entry
//	tokengate config check envoy/demo/tokengate.json
//	tokengate explain --config cfg.json --wasm build/tokengate.wasm -- curl -H 'x-api-key: ...' http://h/api
//	tokengate demo --wasm build/tokengate.wasm       # what `make run` starts
//
// Minting uses package plugin/token; config check uses plugin/config (the
// plugin's own validator); explain and demo run the real .wasm module in
// hostsim. main only wires the commands.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line and returns the exit code: 0 success, 1 a
// failure (or a refused configuration).
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		if code, ok := err.(exitError); ok {
			return int(code)
		}
		fmt.Fprintln(stderr, "tokengate:", err)
		return 1
	}
	return 0
}

// exitError ends a command with a code after it printed its own message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "tokengate",
		Short: "Keys, credentials, configuration checks and a demo for the tokengate plugin",
		Long: `tokengate works with the tokengate proxy-wasm plugin for Envoy:

  keygen      make a signing key pair (Ed25519, ECDSA P-256, RSA) with its public PEM and JWK
  mint        print a credential of any kind the plugin verifies (as headers to send)
  apikey new  make an API key and the configuration entry holding its hash
  config      check a plugin configuration with the plugin's own validator
  explain     run one request through the real .wasm module and say what the plugin decided
  demo        serve the plugin in front of an echo upstream and print curl lines to try

Secrets are given as a literal, "env:NAME" (read from the environment) or
"file:PATH" (read from a file, trailing newline dropped). Prefer env: or file:
so secrets stay out of shell history.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newKeygen(), newMint(), newAPIKey(), newConfig(), newExplain(), newDemo())
	return root
}
