// Command wasmcompat runs the Envoy compatibility pass (package
// plugin/compat) over a built proxy-wasm module:
//
//	go run ./plugin/cmd/wasmcompat -in build/tokengate.raw.wasm -out build/tokengate.wasm
//
// It replaces the WASI imports older Envoy hosts lack or answer badly with
// functions defined in the module, checks that the result compiles (wazero),
// and writes it atomically. A module with nothing to replace is copied
// unchanged. Any module the pass does not fully understand is refused and no
// output is written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/plugin/compat"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("wasmcompat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input module (required)")
	out := fs.String("out", "", "output module (required; may equal -in)")
	replace := fs.String("replace", strings.Join(compat.DefaultReplacements(), ","),
		"comma-separated WASI functions to define inside the module")
	quiet := fs.Bool("q", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: wasmcompat -in module.wasm -out module.wasm [-replace names]")
		return 2
	}
	var names []string
	for _, n := range strings.Split(*replace, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if err := convert(*in, *out, names, stderr, *quiet); err != nil {
		fmt.Fprintln(stderr, "wasmcompat:", err)
		return 1
	}
	return 0
}

func convert(inPath, outPath string, names []string, log io.Writer, quiet bool) error {
	in, err := os.ReadFile(inPath)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{} // an explicit empty list: validate and copy
	}
	out, reps, err := compat.Rewrite(in, compat.Config{Replace: names})
	if err != nil {
		return fmt.Errorf("%s: %w", inPath, err)
	}
	if err := validate(out); err != nil {
		// A bug in the pass, not in the input: never ship it.
		return fmt.Errorf("%s: rewritten module does not compile: %w", inPath, err)
	}
	if err := writeAtomic(outPath, out); err != nil {
		return err
	}
	if !quiet {
		if len(reps) == 0 {
			fmt.Fprintf(log, "wasmcompat: %s: nothing to replace; copied unchanged to %s\n", inPath, outPath)
		}
		for _, r := range reps {
			fmt.Fprintf(log, "wasmcompat: %s.%s now defined in the module (function %d → %d)\n", r.Module, r.Name, r.OldIndex, r.NewIndex)
		}
	}
	return nil
}

// validate compiles the module with wazero's interpreter (fast to compile;
// validation is the same as the compiler's).
func validate(module []byte) error {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, module)
	if err != nil {
		return err
	}
	return cm.Close(ctx)
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wasmcompat-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
