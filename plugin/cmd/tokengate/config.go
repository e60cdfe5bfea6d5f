package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/conf"
)

func newConfig() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with plugin configurations",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var envs, envFiles []string
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration with the plugin's own parser",
		Long: `check runs plugin/config.Parse, the validator the plugin runs at start, and prints
the same messages: every error with its JSON path, then the warnings. Secrets
written as {"env": "NAME"} are read from this process's environment (or --env);
their values are never printed. Exit status 1 when the plugin would refuse to start.`,
		Example: `  tokengate config check envoy/demo/tokengate.json
  TG_BILLING_SEED=... tokengate config check cfg.json
  tokengate config check --env TG_BILLING_SEED=0123456789abcdef0123 cfg.json
  tokengate config check --env-file envoy/demo/secrets/vm_env.json envoy/demo/secrets/tokengate.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			env, err := processEnv(envs, envFiles)
			if err != nil {
				return err
			}
			warnings, err := checkConfig(data, env)
			w := cmd.OutOrStdout()
			if err != nil {
				fmt.Fprintln(w, "tokengate: invalid configuration; refusing to start:")
				fmt.Fprintln(w, err.Error())
			}
			for _, wn := range warnings {
				fmt.Fprintln(w, "tokengate: configuration warning: "+wn)
			}
			if err != nil {
				return exitError(1)
			}
			fmt.Fprintln(w, args[0]+": ok")
			return nil
		},
	}
	check.Flags().StringArrayVar(&envs, "env", nil, "NAME=VALUE for {\"env\": NAME} secrets (repeatable)")
	check.Flags().StringArrayVar(&envFiles, "env-file", nil, `JSON object {"NAME": "value"} of secrets (repeatable; the demo writes secrets/vm_env.json)`)
	cmd.AddCommand(check)
	return cmd
}

// checkConfig parses data as the plugin does at start.
func checkConfig(data []byte, env map[string]string) ([]string, error) {
	_, warnings, err := config.Parse(data, conf.MapEnv(env), provider.Deps{Shared: &provider.MemSharedData{}})
	return warnings, err
}

// processEnv is this process's environment, then the JSON objects of
// envFiles ({"NAME": "value"}), then NAME=VALUE overrides; it stands in for
// the VM environment Envoy would give the plugin.
func processEnv(overrides, envFiles []string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for _, f := range envFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("--env-file %s: want a JSON object of strings", f)
		}
		for k, v := range m {
			env[k] = v
		}
	}
	for _, kv := range overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--env %q: want NAME=VALUE", kv)
		}
		env[k] = v
	}
	return env, nil
}
