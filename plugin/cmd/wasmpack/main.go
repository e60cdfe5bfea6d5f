// Command wasmpack runs the data-segment coalescing pass (package
// plugin/wasmpack) over a built module:
//
//	go run ./plugin/cmd/wasmpack -in build/tokengate.wasm -out build/tokengate.packed.wasm
//
// It merges neighbouring data segments where writing the zero gap costs
// fewer bytes than a segment header, checks that the result compiles
// (wazero), and writes it atomically. A module with nothing to merge is
// copied unchanged; one the pass cannot transform safely is refused and
// nothing is written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/plugin/wasmpack"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("wasmpack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input module (required)")
	out := fs.String("out", "", "output module (required; may equal -in)")
	quiet := fs.Bool("q", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: wasmpack -in module.wasm -out module.wasm [-q]")
		return 2
	}
	st, err := pack(*in, *out)
	if err != nil {
		fmt.Fprintln(stderr, "wasmpack:", err)
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stderr, "wasmpack: %s: %d data segments → %d, data section %d → %d bytes (%d saved)\n",
			*in, st.SegmentsIn, st.SegmentsOut, st.DataIn, st.DataOut, st.Saved())
	}
	return 0
}

func pack(inPath, outPath string) (wasmpack.Stats, error) {
	in, err := os.ReadFile(inPath)
	if err != nil {
		return wasmpack.Stats{}, err
	}
	out, st, err := wasmpack.Coalesce(in)
	if err != nil {
		return st, fmt.Errorf("%s: %w", inPath, err)
	}
	if err := validate(out); err != nil {
		// A bug in the pass, not in the input: never ship it.
		return st, fmt.Errorf("%s: packed module does not compile: %w", inPath, err)
	}
	return st, writeAtomic(outPath, out)
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
	f, err := os.CreateTemp(filepath.Dir(path), ".wasmpack-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
