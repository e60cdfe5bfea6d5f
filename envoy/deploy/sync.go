package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Marker names, written as `# tokengate:<marker>` at the end of a line.
const (
	MarkerModule = "module-sha256"
	MarkerImage  = "image-digest"
)

// ShippedFiles are the files, relative to the repository root, whose
// digests `make sync-sha` maintains. Each must carry at least one marker.
var ShippedFiles = []string{
	"envoy/envoy.yaml",
	"envoy/istio/wasmplugin.yaml",
}

// Digests are the values the shipped files must name.
type Digests struct {
	Module string // hex sha256 of build/tokengate.wasm
	Image  string // hex sha256 of the compat image's manifest
}

// DigestsFor computes both digests for module.
func DigestsFor(module []byte) (Digests, error) {
	img, err := ImageDigest(module)
	if err != nil {
		return Digests{}, err
	}
	return Digests{Module: ModuleSHA256(module), Image: img}, nil
}

var (
	markerRE = regexp.MustCompile(`#\s*tokengate:([a-z0-9-]+)\s*$`)
	hexRE    = regexp.MustCompile(`[0-9a-f]{64}`)
)

// MarkedValue is one digest found on a marked line.
type MarkedValue struct {
	Line   int    // 1-based
	Marker string // MarkerModule or MarkerImage
	Value  string // the 64-hex-digit value found
}

// Scan lists the digests on marked lines. A marked line with no 64-hex
// value, or an unknown marker name, is an error: it would silently escape
// the sync.
func Scan(src []byte) ([]MarkedValue, error) {
	var out []MarkedValue
	for i, line := range strings.Split(string(src), "\n") {
		m := markerRE.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		marker := line[m[2]:m[3]]
		if marker != MarkerModule && marker != MarkerImage {
			return nil, fmt.Errorf("line %d: unknown marker tokengate:%s", i+1, marker)
		}
		values := hexRE.FindAllString(line[:m[0]], -1)
		if len(values) == 0 {
			return nil, fmt.Errorf("line %d: marker tokengate:%s but no 64-hex-digit value", i+1, marker)
		}
		for _, v := range values {
			out = append(out, MarkedValue{Line: i + 1, Marker: marker, Value: v})
		}
	}
	return out, nil
}

func (d Digests) want(marker string) string {
	if marker == MarkerModule {
		return d.Module
	}
	return d.Image
}

func (d Digests) check() error {
	if !hexRE.MatchString(d.Module) || len(d.Module) != 64 || !hexRE.MatchString(d.Image) || len(d.Image) != 64 {
		return errors.New("deploy: digests must be 64 lower-case hex digits")
	}
	return nil
}

// Rewrite returns src with the value on every marked line replaced by the
// matching digest, and how many values changed. Unmarked lines are copied
// byte for byte. A file without any marker is an error.
func Rewrite(src []byte, d Digests) ([]byte, int, error) {
	if err := d.check(); err != nil {
		return nil, 0, err
	}
	if _, err := Scan(src); err != nil {
		return nil, 0, err
	}
	lines := strings.Split(string(src), "\n")
	changed, marked := 0, 0
	for i, line := range lines {
		m := markerRE.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		marked++
		want := d.want(line[m[2]:m[3]])
		head := hexRE.ReplaceAllStringFunc(line[:m[0]], func(old string) string {
			if old != want {
				changed++
			}
			return want
		})
		lines[i] = head + line[m[0]:]
	}
	if marked == 0 {
		return nil, 0, errors.New("deploy: no tokengate:… digest markers found")
	}
	return []byte(strings.Join(lines, "\n")), changed, nil
}

// Stale describes every marked value in src that differs from d, one string
// per value ("line 12: module-sha256 is abc…, want def…"). Empty means in sync.
func Stale(src []byte, d Digests) ([]string, error) {
	values, err := Scan(src)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.New("deploy: no tokengate:… digest markers found")
	}
	var out []string
	for _, v := range values {
		if want := d.want(v.Marker); v.Value != want {
			out = append(out, fmt.Sprintf("line %d: %s is %s, want %s", v.Line, v.Marker, v.Value, want))
		}
	}
	return out, nil
}

// SyncFiles rewrites ShippedFiles under root in place and returns the ones
// that changed. Files are replaced atomically (write, then rename).
func SyncFiles(root string, d Digests) ([]string, error) {
	var changed []string
	for _, rel := range ShippedFiles {
		path := filepath.Join(root, filepath.FromSlash(rel))
		src, err := os.ReadFile(path)
		if err != nil {
			return changed, err
		}
		out, n, err := Rewrite(src, d)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", rel, err)
		}
		if n == 0 || bytes.Equal(out, src) {
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return changed, err
		}
		tmp := path + ".sync-sha.tmp"
		if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
			return changed, err
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return changed, err
		}
		changed = append(changed, rel)
	}
	return changed, nil
}
