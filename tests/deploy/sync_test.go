package deploycheck

import (
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
