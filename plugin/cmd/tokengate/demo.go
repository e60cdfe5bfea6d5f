package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/envoy/demo"
)

func newDemo() *cobra.Command {
	var wasmPath, listen, dir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve the plugin in front of an echo upstream and print curl lines to try",
		Long: `demo runs the real module in hostsim (Envoy simulated in-process) on --listen,
with envoy/demo/tokengate.template.json: one route per credential kind, in front
of an echo upstream that shows the headers it received. Secrets are generated
on first run into envoy/demo/secrets/. It prints curl lines with freshly minted
credentials, one allowed and one refused per kind, and serves until interrupted.`,
		Example: `  make run
  tokengate demo --wasm build/tokengate.wasm --listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wasm, err := readWasm(wasmPath)
			if err != nil {
				return err
			}
			setup, err := demo.Load(filepath.Join(dir, "tokengate.template.json"), filepath.Join(dir, "secrets"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			run, err := setup.Start(ctx, wasm, 2)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				run.Close(context.Background())
				return err
			}
			base := "http://" + ln.Addr().String()
			srv := &http.Server{Handler: run.Handler, ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			if err := printExamples(cmd.OutOrStdout(), setup, base, filepath.Join(dir, "secrets")); err != nil {
				srv.Close()
				run.Close(context.Background())
				return err
			}
			select {
			case <-ctx.Done():
				fmt.Fprintln(cmd.OutOrStdout(), "\nstopping")
			case err = <-done:
			}
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shut)
			_ = run.Close(shut)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&wasmPath, "wasm", "build/tokengate.wasm", "the built module")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on")
	cmd.Flags().StringVar(&dir, "dir", "envoy/demo", "demo directory (template; secrets/ is made inside)")
	return cmd
}

func printExamples(w io.Writer, s *demo.Setup, base, secrets string) error {
	ex, err := s.Examples(base, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tokengate demo: the plugin (hostsim) listens on %s\n", base)
	fmt.Fprintf(w, "configuration: %s/tokengate.json; secrets in %s/ (delete it for new ones)\n", secrets, secrets)
	fmt.Fprintln(w, "Time-based credentials below are short-lived and some are single use; restart the demo for fresh ones.")
	demo.WriteExamples(w, ex, "go run ./plugin/cmd/tokengate")
	fmt.Fprintln(w, "\nserving until interrupted (Ctrl-C)")
	return nil
}
