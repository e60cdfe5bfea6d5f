package deploycheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/envoy/deploy"
)

// TestShippedFilesInSync: every marked digest in every shipped file is the
// current build's. The semantic tests check the fields Envoy and Istio
// read; this one also catches markers they do not look at.
func TestShippedFilesInSync(t *testing.T) {
	d := currentDigests(t)
	for _, rel := range deploy.ShippedFiles {
		stale, err := deploy.Stale(readFile(t, rel), d)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if len(stale) > 0 {
			t.Errorf("%s is stale, run make sync-sha:\n  %s", rel, strings.Join(stale, "\n  "))
		}
	}
}

// TestEveryMarkedFileIsSynced: a file under envoy/ that carries a digest
// marker but is missing from deploy.ShippedFiles would never be updated.
func TestEveryMarkedFileIsSynced(t *testing.T) {
	listed := map[string]bool{}
	for _, f := range deploy.ShippedFiles {
		listed[f] = true
	}
	root := repoRoot(t)
	err := filepath.WalkDir(filepath.Join(root, "envoy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if values, err := deploy.Scan(b); err == nil && len(values) > 0 && !listed[rel] {
			t.Errorf("%s has digest markers but is not in deploy.ShippedFiles", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range listed {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err != nil {
			t.Errorf("deploy.ShippedFiles names %s: %v", f, err)
		}
	}
}
