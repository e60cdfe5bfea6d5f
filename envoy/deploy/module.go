package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// DefaultModulePath is where `make wasm` leaves the plugin, relative to the
// repository root; its sha256 is next to it in DefaultModulePath+".sha256".
const DefaultModulePath = "build/tokengate.wasm"

// ReadModule reads the built module and checks it against the sha256 file
// `make wasm` writes beside it (`sha256sum` format), so a module copied in by
// hand, or a stale checksum file, is noticed before anything is published.
// A missing module is reported with the command that builds it.
func ReadModule(path string) ([]byte, error) {
	module, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing: run make wasm", path)
	}
	if err != nil {
		return nil, err
	}
	if err := checkModule(module); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sumFile, err := os.ReadFile(path + ".sha256")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s.sha256 is missing: run make wasm", path)
	}
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(sumFile))
	if len(fields) == 0 {
		return nil, fmt.Errorf("%s.sha256 is empty: run make wasm", path)
	}
	if got := ModuleSHA256(module); fields[0] != got {
		return nil, fmt.Errorf("%s.sha256 says %s but the module's sha256 is %s: run make wasm", path, fields[0], got)
	}
	return module, nil
}
