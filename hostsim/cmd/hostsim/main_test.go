package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs inside the scripts")

// TestMain lets the scripts run this binary as the `hostsim` command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostsim": func() { os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// realPlugin is the built tokengate module (TOKENGATE_WASM overrides it).
func realPlugin() string {
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "..", "..", "build", "tokengate.wasm"))
	return p
}

// TestScripts runs testdata/script/*.txtar. $GUEST is the scenario test
// guest, $TOKENGATE the real plugin; scripts that need the real plugin
// start with [!tokengate] skip (it exists after `make wasm`).
func TestScripts(t *testing.T) {
	guest, err := guesttest.ScenarioPath()
	if err != nil {
		t.Fatal(err)
	}
	// One on-disk compilation cache for every hostsim the scripts start.
	cacheDir := t.TempDir()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Setup: func(e *testscript.Env) error {
			e.Setenv("GUEST", guest)
			e.Setenv("TOKENGATE", realPlugin())
			e.Setenv("TESTDATA", testdata)
			e.Setenv("HOSTSIM_CACHE_DIR", cacheDir)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "tokengate" {
				_, err := os.Stat(realPlugin())
				return err == nil, nil
			}
			return false, nil
		},
	})
}
