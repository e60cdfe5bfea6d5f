package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/envoy/deploy"
	"github.com/tokengate/tokengate/tests/internal/repo"
	"sigs.k8s.io/yaml"
)

func repoRoot(t testing.TB) string { return repo.Root(t) }

// readFile reads a repository file by slash path.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// builtModule is build/tokengate.wasm, checked against its .sha256 file.
// A missing module fails the test (never skips): `make test` builds it.
func builtModule(t testing.TB) []byte {
	t.Helper()
	m, err := deploy.ReadModule(filepath.Join(repoRoot(t), filepath.FromSlash(deploy.DefaultModulePath)))
	if err != nil {
		t.Fatalf("%v (make test builds it first)", err)
	}
	return m
}

// splitDocs splits a multi-document YAML stream. Documents that hold only
// comments are dropped.
func splitDocs(src []byte) [][]byte {
	var docs [][]byte
	for _, part := range strings.Split("\n"+string(src), "\n---") {
		if i := strings.IndexByte(part, '\n'); i >= 0 {
			part = part[i+1:] // rest of the separator line
		} else {
			part = ""
		}
		meaningful := false
		for _, line := range strings.Split(part, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "#") {
				meaningful = true
				break
			}
		}
		if meaningful {
			docs = append(docs, []byte(part))
		}
	}
	return docs
}

// yamlToTree converts one YAML document into a generic JSON tree, the form
// the mutation tests edit.
func yamlToTree(t testing.TB, doc []byte) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(js, &tree); err != nil {
		t.Fatalf("YAML is not an object: %v", err)
	}
	return tree
}

func treeJSON(t testing.TB, tree any) []byte {
	t.Helper()
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deepCopy clones a JSON tree through JSON.
func deepCopy(t testing.TB, tree map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(treeJSON(t, tree), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// at walks a JSON tree by a dotted path whose numeric parts index lists,
// e.g. "static_resources.listeners.0.name", and returns the container and
// the final key so callers can read, replace or delete the member.
func at(tree any, path string) (parent any, key string, err error) {
	parts := strings.Split(path, ".")
	cur := tree
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				return c, p, nil
			}
			next, ok := c[p]
			if !ok {
				return nil, "", fmt.Errorf("%s: no member %q", path, p)
			}
			cur = next
		case []any:
			var idx int
			if _, err := fmt.Sscanf(p, "%d", &idx); err != nil || idx < 0 || idx >= len(c) {
				return nil, "", fmt.Errorf("%s: bad index %q", path, p)
			}
			if last {
				return c, p, nil
			}
			cur = c[idx]
		default:
			return nil, "", fmt.Errorf("%s: cannot index into %T at %q", path, cur, p)
		}
	}
	return nil, "", fmt.Errorf("empty path")
}

// set replaces (or adds) the member at path.
func set(t testing.TB, tree any, path string, v any) {
	t.Helper()
	parent, key, err := at(tree, path)
	if err != nil {
		t.Fatal(err)
	}
	switch p := parent.(type) {
	case map[string]any:
		p[key] = v
	case []any:
		var i int
		fmt.Sscanf(key, "%d", &i)
		p[i] = v
	}
}

// get reads the member at path.
func get(t testing.TB, tree any, path string) any {
	t.Helper()
	parent, key, err := at(tree, path)
	if err != nil {
		t.Fatal(err)
	}
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[key]
		if !ok {
			t.Fatalf("%s: missing", path)
		}
		return v
	case []any:
		var i int
		fmt.Sscanf(key, "%d", &i)
		return p[i]
	}
	return nil
}

// del removes the member at path (maps only).
func del(t testing.TB, tree any, path string) {
	t.Helper()
	parent, key, err := at(tree, path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := parent.(map[string]any)
	if !ok {
		t.Fatalf("%s: can only delete object members", path)
	}
	if _, ok := m[key]; !ok {
		t.Fatalf("%s: missing", path)
	}
	delete(m, key)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// yamlDocToTree is yamlToTree for callers without a testing.TB.
func yamlDocToTree(doc []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	err = json.Unmarshal(js, &tree)
	return tree, err
}

var (
	digestsOnce sync.Once
	digestsVal  deploy.Digests
	digestsErr  error
)

// currentDigests computes the module and image digests of the built module
// once per test binary (building the image compresses the whole module).
func currentDigests(t testing.TB) deploy.Digests {
	t.Helper()
	module := builtModule(t)
	digestsOnce.Do(func() { digestsVal, digestsErr = deploy.DigestsFor(module) })
	if digestsErr != nil {
		t.Fatal(digestsErr)
	}
	return digestsVal
}
