package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/plugin/token"
)

func newAPIKey() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Make API keys for the api_key provider",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var subject, expires string
	var scopes []string
	newCmd := &cobra.Command{
		Use:   "new ID",
		Short: "Print a new key (once) and the configuration entry holding its hash",
		Long: `new prints a fresh key "tg_<ID>_<43 base62 characters>" (256 random bits) and the
entry for the api_key provider's "keys" list. The configuration stores only the
SHA-256 hash: the key itself is shown this one time and is nowhere else.`,
		Example: `  tokengate apikey new ci-bot --subject ci --scope deploy --expires 2027-01-01T00:00:00Z`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires != "never" {
				t, err := time.Parse(time.RFC3339, expires)
				if err != nil {
					return fmt.Errorf("--expires %q: want RFC 3339 or never", expires)
				}
				expires = t.UTC().Format(time.RFC3339)
			}
			k, err := token.NewAPIKey(args[0], nil)
			if err != nil {
				return err
			}
			if subject == "" {
				subject = k.ID
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, "key (shown once; give it to the client):")
			fmt.Fprintln(w, k.Key)
			fmt.Fprintln(w, `configuration entry (add to the api_key provider's "keys"):`)
			fmt.Fprintln(w, k.ConfigEntry(subject, scopes, expires))
			return nil
		},
	}
	newCmd.Flags().StringVar(&subject, "subject", "", "identity subject (default: the id)")
	newCmd.Flags().StringArrayVar(&scopes, "scope", nil, "scope the key grants (repeatable)")
	newCmd.Flags().StringVar(&expires, "expires", time.Now().AddDate(1, 0, 0).UTC().Truncate(24*time.Hour).Format(time.RFC3339), `expiry, RFC 3339, or "never"`)
	cmd.AddCommand(newCmd)
	return cmd
}
