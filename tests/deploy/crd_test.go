package deploycheck

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// Istio publishes the Kubernetes CRDs of its API, with their OpenAPI v3
// schemas, in the istio.io/api module this repository already requires
// (kubernetes/customresourcedefinitions.gen.yaml). The API server validates
// a resource against that schema before Istio ever sees it, so the tests do
// the same for the keywords those schemas use: type, properties (unknown
// fields refused, as kubectl's strict field validation does), required,
// enum, pattern, min/maxLength, min/maxItems, maxProperties, minimum,
// maximum, int32 format, additionalProperties, anyOf, nullable,
// x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields.
//
// CEL rules (x-kubernetes-validations) need a CEL evaluator the module does
// not have; the ones that matter here are restated in checkWasmPlugin.

var (
	crdOnce    sync.Once
	crdSchemas map[string]map[string]any // "group/version/Kind" -> openAPIV3Schema
	crdErr     error
)

func loadCRDs() (map[string]map[string]any, error) {
	crdOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/api").Output()
		if err != nil {
			crdErr = fmt.Errorf("locating istio.io/api: %w", err)
			return
		}
		path := filepath.Join(strings.TrimSpace(string(out)), "kubernetes", "customresourcedefinitions.gen.yaml")
		src, err := os.ReadFile(path)
		if err != nil {
			crdErr = err
			return
		}
		crdSchemas = map[string]map[string]any{}
		for _, doc := range splitDocs(src) {
			tree, err := yamlDocToTree(doc)
			if err != nil || tree["kind"] != "CustomResourceDefinition" {
				continue
			}
			spec, _ := tree["spec"].(map[string]any)
			group, _ := spec["group"].(string)
			names, _ := spec["names"].(map[string]any)
			kind, _ := names["kind"].(string)
			versions, _ := spec["versions"].([]any)
			for _, v := range versions {
				vm, _ := v.(map[string]any)
				schema, _ := vm["schema"].(map[string]any)
				oas, _ := schema["openAPIV3Schema"].(map[string]any)
				if oas != nil {
					crdSchemas[group+"/"+fmt.Sprint(vm["name"])+"/"+kind] = oas
				}
			}
		}
		if len(crdSchemas) == 0 {
			crdErr = fmt.Errorf("%s: no CRD schemas found", path)
		}
	})
	return crdSchemas, crdErr
}

// crdCheck validates a resource against the schema its apiVersion and kind
// name. Resources of core Kubernetes kinds (no group) have no CRD and pass.
func crdCheck(doc map[string]any) error {
	av, _ := doc["apiVersion"].(string)
	kind, _ := doc["kind"].(string)
	if !strings.Contains(av, "/") {
		return nil
	}
	schemas, err := loadCRDs()
	if err != nil {
		return err
	}
	schema, ok := schemas[av+"/"+kind]
	if !ok {
		return fmt.Errorf("no CRD schema for %s %s in istio.io/api", av, kind)
	}
	// Round-trip through JSON so every number is a float64, as it would be
	// when decoded from the file, whatever a test's mutation inserted.
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	var norm any
	if err := json.Unmarshal(js, &norm); err != nil {
		return err
	}
	var problems []string
	validateSchema(schema, norm, "", &problems)
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("CRD schema: %s", strings.Join(problems, "; "))
	}
	return nil
}

var patternCache sync.Map

func validateSchema(s map[string]any, v any, path string, out *[]string) {
	fail := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "(root)"
		}
		*out = append(*out, p+": "+fmt.Sprintf(format, args...))
	}
	if v == nil {
		if s["nullable"] == true {
			return
		}
		fail("null is not allowed")
		return
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		passed := false
		for _, alt := range anyOf {
			var sub []string
			validateSchema(alt.(map[string]any), v, path, &sub)
			if len(sub) == 0 {
				passed = true
				break
			}
		}
		if !passed {
			fail("matches none of the anyOf alternatives")
		}
	}
	if s["x-kubernetes-int-or-string"] == true {
		switch v.(type) {
		case string, float64:
		default:
			fail("want an integer or a string, got %T", v)
		}
		return
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, got %T", v)
			return
		}
		props, _ := s["properties"].(map[string]any)
		addl, _ := s["additionalProperties"].(map[string]any)
		keep := s["x-kubernetes-preserve-unknown-fields"] == true
		for k, val := range m {
			child := k
			if path != "" {
				child = path + "." + k
			}
			switch ps, ok := props[k].(map[string]any); {
			case ok:
				validateSchema(ps, val, child, out)
			case addl != nil:
				validateSchema(addl, val, child, out)
			case keep || (props == nil && s["additionalProperties"] == true):
			case path == "" && (k == "apiVersion" || k == "kind" || k == "metadata"):
				// The API server's own envelope; checkMeta looks at it.
			case props == nil && path == "metadata":
			default:
				fail("unknown field %q", k)
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				fail("required field %q is missing", r)
			}
		}
		if mp, ok := s["maxProperties"].(float64); ok && float64(len(m)) > mp {
			fail("more than %v properties", mp)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want an array, got %T", v)
			return
		}
		if mx, ok := s["maxItems"].(float64); ok && float64(len(a)) > mx {
			fail("more than %v items", mx)
		}
		if mn, ok := s["minItems"].(float64); ok && float64(len(a)) < mn {
			fail("fewer than %v items", mn)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range a {
				validateSchema(items, e, fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want a string, got %T", v)
			return
		}
		n := float64(utf8.RuneCountInString(str))
		if mx, ok := s["maxLength"].(float64); ok && n > mx {
			fail("longer than %v characters", mx)
		}
		if mn, ok := s["minLength"].(float64); ok && n < mn {
			fail("shorter than %v characters", mn)
		}
		if p, ok := s["pattern"].(string); ok {
			re, _ := patternCache.Load(p)
			if re == nil {
				compiled, err := regexp.Compile(p)
				if err != nil {
					fail("schema pattern %q does not compile: %v", p, err)
					return
				}
				patternCache.Store(p, compiled)
				re = compiled
			}
			if !re.(*regexp.Regexp).MatchString(str) {
				fail("%q does not match %s", str, p)
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			fail("want an integer, got %v", v)
			return
		}
		if s["format"] == "int32" && (f > math.MaxInt32 || f < math.MinInt32) {
			fail("%v does not fit int32", f)
		}
		if mx, ok := s["maximum"].(float64); ok && f > mx {
			fail("%v is above the maximum %v", f, mx)
		}
		if mn, ok := s["minimum"].(float64); ok && f < mn {
			fail("%v is below the minimum %v", f, mn)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			fail("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, got %T", v)
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
				break
			}
		}
		if !found {
			fail("%v is not one of %v", v, enum)
		}
	}
}

// TestCRDSchemaCatchesWhatItShould checks the schema walker itself on the
// shipped WasmPlugin: the file passes, and breaks that only the schema sees
// (protojson accepts them) are refused.
func TestCRDSchemaCatchesWhatItShould(t *testing.T) {
	base := loadIstio(t)[istioWasmPlugin][0]
	if err := crdCheck(base); err != nil {
		t.Fatalf("%s: %v", istioWasmPlugin, err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{"pluginName too long", func(d map[string]any) { set(t, d, "spec.pluginName", strings.Repeat("p", 300)) }, "spec.pluginName"},
		{"env name empty", func(d map[string]any) { set(t, d, "spec.vmConfig.env.0.name", "") }, "spec.vmConfig.env[0].name"},
		{"unknown status-like field", func(d map[string]any) { set(t, d, "spec.vmConfig.envv", []any{}) }, "envv"},
		{"match port out of range", func(d map[string]any) {
			set(t, d, "spec.match", []any{map[string]any{"mode": "SERVER", "ports": []any{map[string]any{"number": 70000}}}})
		}, "65535"},
		{"bad sha256 pattern", func(d map[string]any) { set(t, d, "spec.sha256", strings.Repeat("A", 64)) }, "spec.sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deepCopy(t, base)
			tc.mutate(d)
			err := crdCheck(d)
			if err == nil {
				t.Fatal("the schema accepted the broken copy")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
