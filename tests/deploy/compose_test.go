package deploycheck

import (
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const composeFile = "envoy/docker-compose.yaml"

// TestComposeMatchesBootstrap: the compose file runs envoy.yaml with the
// module and every environment variable the bootstrap passes to the VM, on
// the host network its 127.0.0.1 clusters assume.
func TestComposeMatchesBootstrap(t *testing.T) {
	c := yamlToTree(t, readFile(t, composeFile))
	envoySvc, ok := get(t, c, "services.envoy").(map[string]any)
	if !ok {
		t.Fatal("no services.envoy")
	}
	mounts := map[string]bool{}
	volumes, _ := envoySvc["volumes"].([]any)
	for _, v := range volumes {
		vs, _ := v.(string)
		parts := strings.Split(vs, ":")
		if len(parts) < 2 {
			t.Fatalf("volume %q", v)
		}
		// Sources are relative to the compose file's directory.
		src := filepath.ToSlash(filepath.Clean(filepath.Join("envoy", parts[0])))
		mounts[src+"→"+parts[1]] = true
	}
	wd, _ := envoySvc["working_dir"].(string)
	for _, rel := range []string{"envoy/envoy.yaml", "build/tokengate.wasm"} {
		if !mounts[rel+"→"+wd+"/"+rel] {
			t.Errorf("%s: %s is not mounted at %s/%s (mounts: %v)", composeFile, rel, wd, rel, mounts)
		}
	}
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := envoySvc["environment"].(map[string]any)
	for _, k := range g.plugin.GetVmConfig().GetEnvironmentVariables().GetHostEnvKeys() {
		v, ok := env[k].(string)
		if !ok {
			t.Errorf("%s: envoy service does not set %s, which the bootstrap passes to the VM", composeFile, k)
		} else if !strings.Contains(v, ":?") {
			t.Errorf("%s: %s should be required from the caller's environment (${%s:?...}), not written in the file", composeFile, k, k)
		}
	}
	services, _ := get(t, c, "services").(map[string]any)
	for name, svc := range services {
		if m, _ := svc.(map[string]any); m["network_mode"] != "host" {
			t.Errorf("%s: service %s must use host networking: envoy.yaml names 127.0.0.1", composeFile, name)
		}
	}
	if port := get(t, c, "services.echo.environment.HTTP_PORT"); port != "18080" {
		t.Errorf("%s: echo listens on %v, the bootstrap's upstream is 127.0.0.1:18080", composeFile, port)
	}
}

// TestEveryShippedYAMLIsChecked: a YAML file added under envoy/ (outside
// the demo) must be added to these tests too.
func TestEveryShippedYAMLIsChecked(t *testing.T) {
	checked := map[string]bool{envoyFile: true, composeFile: true}
	for _, f := range istioFiles {
		checked[f] = true
	}
	root := repoRoot(t)
	var unchecked []string
	filepath.WalkDir(filepath.Join(root, "envoy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && rel == "envoy/demo" {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(rel); (ext == ".yaml" || ext == ".yml") && !checked[rel] {
			unchecked = append(unchecked, rel)
		}
		return nil
	})
	sort.Strings(unchecked)
	if len(unchecked) > 0 {
		t.Errorf("YAML files no test validates: %v", unchecked)
	}
}
