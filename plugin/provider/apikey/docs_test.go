package apikey_test

// This file keeps plugin/README.md and plugin/config/schema.json honest
// against the real parser. It lives here, in an external test package,
// because api_key is the README's main example and an external test may
// import plugin/config (which imports this package) without a cycle.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/plugin/config"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/apikey"
	"github.com/tokengate/tokengate/plugin/provider/conf"
	"sigs.k8s.io/yaml"
)

const (
	readmePath = "../../README.md"
	schemaPath = "../../config/schema.json"
)

// docEnv is the VM environment the README examples assume.
var docEnv = conf.MapEnv{
	"TG_BILLING_SEED":     "an-example-seed-of-32-bytes-long",
	"DJANGO_SECRET_KEY":   "django-insecure-example-secret-key-0123456789",
	"AUTHNZERVER_SECRET":  "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
	"REPORTING_KEY":       "reporting-hmac-key-0123456789abcdef",
	"IDP_BASIC_AUTH":      "Basic dG9rZW5nYXRlOmV4YW1wbGU=",
	"PARTNER_HMAC_SECRET": "partner-hmac-secret-of-at-least-32-bytes",
}

// readmeExamples returns the JSON blocks marked <!-- check: config -->.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- check: config -->\\s*```json\\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		out = append(out, m[1])
	}
	if len(out) < 4 {
		t.Fatalf("found %d checked examples in the README, want at least 4", len(out))
	}
	return out
}

func parse(doc string) ([]string, error) {
	_, warns, err := config.Parse([]byte(doc), docEnv, provider.Deps{Shared: &provider.MemSharedData{}})
	return warns, err
}

// schemaVerdicts validates docs against schema.json with Python's
// jsonschema (Draft 2020-12). It returns one error message per document
// ("" when valid), or skips when no Python with jsonschema is installed.
func schemaVerdicts(t *testing.T, docs []string) []string {
	t.Helper()
	const script = `
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
out = []
for d in json.load(sys.stdin):
    errs = sorted(v.iter_errors(json.loads(d)), key=lambda e: list(e.absolute_path))
    out.append("" if not errs else ("/".join(map(str, errs[0].absolute_path)) + ": " + errs[0].message))
print(json.dumps(out))
`
	in, _ := json.Marshal(docs)
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import jsonschema").Run() != nil {
			continue
		}
		cmd := exec.Command(path, "-c", script, schemaPath)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("schema check failed: %v\n%s", err, stderr.String())
		}
		var out []string
		if err := json.Unmarshal(outb, &out); err != nil || len(out) != len(docs) {
			t.Fatalf("schema check output %q: %v", outb, err)
		}
		return out
	}
	t.Skip("no python3 with the jsonschema module: schema.json not checked (pip install jsonschema)")
	return nil
}

func TestReadmeExamplesParse(t *testing.T) {
	for i, doc := range readmeExamples(t) {
		if _, err := parse(doc); err != nil {
			t.Errorf("README example %d is refused by config.Parse:\n%v", i, err)
		}
	}
}

func TestReadmeExamplesMatchSchema(t *testing.T) {
	docs := readmeExamples(t)
	for i, msg := range schemaVerdicts(t, docs) {
		if msg != "" {
			t.Errorf("README example %d is refused by schema.json: %s", i, msg)
		}
	}
}

// mutate returns the README's first (complete) example changed by f.
func mutate(t *testing.T, f func(doc map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(readmeExamples(t)[0]), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func providerAt(doc map[string]any, i int) map[string]any {
	return doc["providers"].([]any)[i].(map[string]any)
}

// addProvider appends p to the document and to the "api" rule's any_of.
func addProvider(d map[string]any, p map[string]any) {
	d["providers"] = append(d["providers"].([]any), p)
	ruleAt(d, 2)["any_of"] = append(ruleAt(d, 2)["any_of"].([]any), p["name"])
}

func ruleAt(doc map[string]any, i int) map[string]any {
	return doc["rules"].([]any)[i].(map[string]any)
}
func keyAt(doc map[string]any, i int) map[string]any {
	return providerAt(doc, 0)["keys"].([]any)[i].(map[string]any)
}

// TestSchemaAgreesWithParser: documents the parser accepts are accepted by
// the schema, and structural mistakes the parser refuses are refused by
// the schema too. (Some checks only the parser can make — CIDR host bits,
// unknown provider references, unreachable rules, weak secrets — and are
// not listed here.)
func TestSchemaAgreesWithParser(t *testing.T) {
	cases := []struct {
		name   string
		accept bool
		f      func(d map[string]any)
	}{
		{"base", true, func(d map[string]any) {}},
		{"key never expires", true, func(d map[string]any) { keyAt(d, 0)["expires"] = "never" }},
		{"key expires in unix seconds", true, func(d map[string]any) { keyAt(d, 0)["expires"] = 1830297600 }},
		{"api_key scheme only", true, func(d map[string]any) { providerAt(d, 0)["header"] = "" }},
		{"api_key header only, custom", true, func(d map[string]any) { providerAt(d, 0)["scheme"] = ""; providerAt(d, 0)["header"] = "X-Key" }},
		{"ip_rule deny only", true, func(d map[string]any) { delete(providerAt(d, 2), "allow") }},
		{"shadow and preflight", true, func(d map[string]any) { ruleAt(d, 2)["mode"] = "shadow"; ruleAt(d, 2)["cors_preflight"] = true }},
		{"identity header off", true, func(d map[string]any) {
			d["identity_headers"] = map[string]any{"subject": "", "remove": []any{"x-user"}}
		}},
		{"anonymous rule limited by source", true, func(d map[string]any) {
			ruleAt(d, 0)["rate_limit"] = map[string]any{"by": "source", "per_second": 0.5}
		}},
		{"replay settings", true, func(d map[string]any) { d["replay"] = map[string]any{"max_entries": 4096, "shards": 16} }},

		{"unknown top-level field", false, func(d map[string]any) { d["rule"] = []any{} }},
		{"rules missing", false, func(d map[string]any) { delete(d, "rules") }},
		{"rules empty", false, func(d map[string]any) { d["rules"] = []any{} }},
		{"trusted_xff_hops too large", false, func(d map[string]any) { d["trusted_xff_hops"] = 17 }},
		{"bad deny_log_level", false, func(d map[string]any) { d["deny_log_level"] = "verbose" }},
		{"unknown identity_headers field", false, func(d map[string]any) { d["identity_headers"] = map[string]any{"user": "x-user"} }},
		{"unknown provider type", false, func(d map[string]any) { providerAt(d, 0)["type"] = "api-key" }},
		{"bad provider name", false, func(d map[string]any) { providerAt(d, 0)["name"] = "Partner Keys" }},
		{"reserved provider name", false, func(d map[string]any) { providerAt(d, 2)["name"] = "requests" }},
		{"api_key unknown field", false, func(d map[string]any) { providerAt(d, 0)["hedaer"] = "x" }},
		{"api_key no keys", false, func(d map[string]any) { providerAt(d, 0)["keys"] = []any{} }},
		{"api_key both carriers off", false, func(d map[string]any) { providerAt(d, 0)["header"] = ""; providerAt(d, 0)["scheme"] = "" }},
		{"api_key header is authorization", false, func(d map[string]any) { providerAt(d, 0)["header"] = "Authorization" }},
		{"api_key max_length too small", false, func(d map[string]any) { providerAt(d, 0)["max_length"] = 8 }},
		{"key without expires", false, func(d map[string]any) { delete(keyAt(d, 0), "expires") }},
		{"key with bad expires", false, func(d map[string]any) { keyAt(d, 0)["expires"] = true }},
		{"key with md5 hash", false, func(d map[string]any) { keyAt(d, 0)["hash"] = "md5:0123456789abcdef0123456789abcdef" }},
		{"key with plaintext key", false, func(d map[string]any) { keyAt(d, 0)["key"] = "tg_x_y" }},
		{"key id with underscore", false, func(d map[string]any) { keyAt(d, 0)["id"] = "ci_bot" }},
		{"key with empty sources", false, func(d map[string]any) { keyAt(d, 1)["sources"] = []any{} }},
		{"ip_rule with no lists", false, func(d map[string]any) { delete(providerAt(d, 2), "allow"); delete(providerAt(d, 2), "deny") }},
		{"ip_rule with empty lists", false, func(d map[string]any) { providerAt(d, 2)["allow"] = []any{}; delete(providerAt(d, 2), "deny") }},
		{"rolling_code without clients", false, func(d map[string]any) { delete(providerAt(d, 1), "clients") }},
		{"rolling_code bad mode", false, func(d map[string]any) { providerAt(d, 1)["mode"] = "totp" }},
		{"anonymous rule naming providers", false, func(d map[string]any) { ruleAt(d, 0)["any_of"] = []any{"partner_keys"} }},
		{"anonymous rule requiring scopes", false, func(d map[string]any) { ruleAt(d, 0)["scopes"] = map[string]any{"any_of": []any{"a"}} }},
		{"anonymous rule limited by subject", false, func(d map[string]any) {
			ruleAt(d, 0)["rate_limit"] = map[string]any{"by": "subject", "per_second": 1}
		}},
		{"rule without providers", false, func(d map[string]any) { delete(ruleAt(d, 1), "all_of") }},
		{"rule with empty any_of", false, func(d map[string]any) { ruleAt(d, 2)["any_of"] = []any{} }},
		{"rate_limit without per_second", false, func(d map[string]any) { ruleAt(d, 2)["rate_limit"] = map[string]any{"by": "subject"} }},
		{"rate_limit by user", false, func(d map[string]any) {
			ruleAt(d, 2)["rate_limit"] = map[string]any{"by": "user", "per_second": 1}
		}},
		{"rate_limit zero rate", false, func(d map[string]any) {
			ruleAt(d, 2)["rate_limit"] = map[string]any{"by": "subject", "per_second": 0}
		}},
		{"path not absolute", false, func(d map[string]any) { ruleAt(d, 1)["paths"] = []any{map[string]any{"prefix": "admin"}} }},
		{"path exact and prefix", false, func(d map[string]any) {
			ruleAt(d, 1)["paths"] = []any{map[string]any{"prefix": "/admin", "exact": "/admin"}}
		}},
		{"lower-case method", false, func(d map[string]any) { ruleAt(d, 0)["methods"] = []any{"get"} }},
		{"host with port", false, func(d map[string]any) { ruleAt(d, 2)["hosts"] = []any{"api.example.test:443"} }},
		{"unknown rule field", false, func(d map[string]any) { ruleAt(d, 2)["provider"] = "partner_keys" }},
		{"unknown claim field", false, func(d map[string]any) {
			ruleAt(d, 2)["claims"] = []any{map[string]any{"claim": "org", "any_of": []any{"a"}, "none_of": []any{"b"}}}
		}},
		{"session provider", true, func(d map[string]any) {
			d["providers"] = append(d["providers"].([]any), map[string]any{"name": "sessions", "type": "session", "cluster": "auth",
				"sources": []any{map[string]any{"cookie": "Token"}, map[string]any{"header": "x-session"}}})
			ruleAt(d, 2)["any_of"] = append(ruleAt(d, 2)["any_of"].([]any), "sessions")
		}},
		{"session source with two kinds", false, func(d map[string]any) {
			d["providers"] = append(d["providers"].([]any), map[string]any{"name": "sessions", "type": "session", "cluster": "auth",
				"sources": []any{map[string]any{"cookie": "Token", "query": "Token"}}})
			ruleAt(d, 2)["any_of"] = append(ruleAt(d, 2)["any_of"].([]any), "sessions")
		}},
		{"http_signature hmac key", true, func(d map[string]any) {
			addProvider(d, map[string]any{"name": "sig", "type": "http_signature", "keys": map[string]any{
				"k1": map[string]any{"alg": "hmac-sha256", "secret": "0123456789abcdef0123456789abcdef"}}})
		}},
		{"http_signature hmac with a public key field", false, func(d map[string]any) {
			addProvider(d, map[string]any{"name": "sig", "type": "http_signature", "keys": map[string]any{
				"k1": map[string]any{"alg": "hmac-sha256", "secret": "0123456789abcdef0123456789abcdef", "key": "x"}}})
		}},
		{"http_signature ed25519 without key", false, func(d map[string]any) {
			addProvider(d, map[string]any{"name": "sig", "type": "http_signature", "keys": map[string]any{
				"k1": map[string]any{"alg": "ed25519"}}})
		}},
		{"body buffering", true, func(d map[string]any) { ruleAt(d, 2)["buffer_body"] = true; ruleAt(d, 2)["max_body_bytes"] = 4096 }},
		{"max_body_bytes without buffer_body", false, func(d map[string]any) { ruleAt(d, 2)["max_body_bytes"] = 4096 }},
		{"anonymous rule buffering the body", false, func(d map[string]any) { ruleAt(d, 0)["buffer_body"] = true }},
		{"unknown rule mode", false, func(d map[string]any) { ruleAt(d, 2)["mode"] = "audit" }},
	}
	docs := make([]string, len(cases))
	for i, c := range cases {
		docs[i] = mutate(t, c.f)
		_, err := parse(docs[i])
		if (err == nil) != c.accept {
			t.Errorf("%s: config.Parse accepted=%v, want %v (%v)", c.name, err == nil, c.accept, err)
		}
	}
	for i, msg := range schemaVerdicts(t, docs) {
		if (msg == "") != cases[i].accept {
			t.Errorf("%s: schema accepted=%v, want %v (%s)", cases[i].name, msg == "", cases[i].accept, msg)
		}
	}
}

// TestEveryKindIsDocumented: each provider type this build knows has a
// schema branch and a README section.
func TestEveryKindIsDocumented(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	var prov struct {
		Properties struct {
			Type struct {
				Enum []string `json:"enum"`
			} `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.Defs["provider"], &prov); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Clean(readmePath))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range config.Kinds() {
		if !contains(prov.Properties.Type.Enum, kind) || schema.Defs[kind] == nil {
			t.Errorf("provider type %q has no branch in schema.json", kind)
		}
		if !strings.Contains(string(readme), "### `"+kind+"`") {
			t.Errorf("provider type %q has no section in plugin/README.md", kind)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSchemaFieldsAreKnownToParser: every field schema.json allows on a
// provider type (or at the top level) is read by the real parser, i.e. the
// parser never calls it an unknown field. It catches a field renamed or
// removed in a provider without the schema following.
func TestSchemaFieldsAreKnownToParser(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	// One working provider object per type, from the README examples.
	base := map[string]map[string]any{}
	for _, ex := range readmeExamples(t) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(ex), &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc["providers"].([]any) {
			po := p.(map[string]any)
			if typ := po["type"].(string); base[typ] == nil {
				base[typ] = po
			}
		}
	}
	check := func(t *testing.T, doc map[string]any, path string) {
		t.Helper()
		out, _ := json.Marshal(doc)
		_, err := parse(string(out))
		if err != nil && strings.Contains(err.Error(), path+": unknown field") {
			t.Errorf("schema.json allows %s but the parser calls it an unknown field", path)
		}
	}
	for _, kind := range config.Kinds() {
		po := base[kind]
		if po == nil {
			t.Errorf("no README example uses provider type %q", kind)
			continue
		}
		for field := range schema.Defs[kind].Properties {
			if field == "name" || field == "type" {
				continue
			}
			p := map[string]any{}
			for k, v := range po {
				p[k] = v
			}
			if _, set := p[field]; !set {
				p[field] = nil // any value: only "unknown field" matters here
			}
			check(t, map[string]any{
				"providers": []any{p},
				"rules":     []any{map[string]any{"name": "r", "any_of": []any{p["name"]}}},
			}, "providers[0]."+field)
		}
	}
	for field := range schema.Properties {
		doc := map[string]any{"rules": []any{map[string]any{"name": "r", "anonymous": true}}}
		if field != "rules" {
			doc[field] = nil
		}
		check(t, doc, field)
	}
}

// getterCall finds configuration field names in Go source: a conf.Object
// getter called with a string literal, e.g. o.Int("ttl_seconds", ...).
var getterCall = regexp.MustCompile(`\.(String|RequiredString|Int|Float|Bool|Enum|Strings|Object|Objects|Has|Raw|Secret|RequiredSecret)\("([a-z][a-z0-9_]*)"`)

// TestParserFieldsAreInSchema is the other direction of
// TestSchemaFieldsAreKnownToParser: every field name the configuration
// code reads (found by scanning plugin/config and the provider packages
// for getter calls) is a property somewhere in schema.json. It is a
// drift detector, not a proof: it does not check where the field sits.
func TestParserFieldsAreInSchema(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k := range props {
					known[k] = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(schema)
	var files []string
	for _, pattern := range []string{"../../config/*.go", "../*/*.go", "../*/*/*.go"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d source files", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getterCall.FindAllStringSubmatch(string(src), -1) {
			if !known[m[2]] {
				t.Errorf("%s reads field %q, which schema.json does not know", filepath.Clean(f), m[2])
			}
		}
	}
}

// TestReadmeCurlKeyWorks: the key the README's curl examples send is the
// one whose hash the README's configuration holds, so the examples work
// as written (and a regenerated key cannot silently go stale).
func TestReadmeCurlKeyWorks(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`tg_[A-Za-z0-9-]+_[0-9A-Za-z]{43}`).FindAllString(string(raw), -1)
	if len(keys) == 0 {
		t.Fatal("no example key in the README")
	}
	cfg, _, err := config.Parse([]byte(readmeExamples(t)[0]), docEnv, provider.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var keysProvider provider.Provider
	for _, p := range cfg.Providers {
		if p.Kind() == "api_key" {
			keysProvider = p
		}
	}
	for _, k := range keys {
		for _, r := range []*provider.Request{
			{Headers: []provider.Header{{Name: "x-api-key", Value: k}}},
			{Headers: []provider.Header{{Name: "authorization", Value: "ApiKey " + k}}},
		} {
			r.Now = 1795392000 * 1e9 // 2026-11-23, before the example's expiry
			id, err := keysProvider.Verify(r)
			if err != nil || id.Subject != "ci-bot" {
				t.Errorf("README key %s...: (%q, %v), want subject ci-bot", k[:12], id.Subject, err)
			}
		}
	}
}

// TestShippedConfigsMatchSchema: the plugin configurations shipped with
// the project (the Envoy bootstrap's StringValue and the Istio
// WasmPlugin's pluginConfig) validate against schema.json, so an editor
// using the schema never flags a configuration the project itself ships.
func TestShippedConfigsMatchSchema(t *testing.T) {
	var docs, names []string
	for _, f := range []string{"../../../envoy/envoy.yaml", "../../../envoy/istio/wasmplugin.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Logf("%s: %v (skipped)", f, err)
			continue
		}
		for i, part := range strings.Split(string(raw), "\n---") {
			var v any
			if err := yaml.Unmarshal([]byte(part), &v); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			for _, doc := range pluginConfigs(v) {
				docs = append(docs, doc)
				names = append(names, filepath.Base(f))
			}
		}
	}
	// The demo's template: its one placeholder is an API key hash.
	if raw, err := os.ReadFile("../../../envoy/demo/tokengate.template.json"); err == nil {
		docs = append(docs, strings.ReplaceAll(string(raw), "{{API_KEY_HASH}}", apikey.Hash("tg_demo_placeholder-key-for-schema-check")))
		names = append(names, "tokengate.template.json")
	}
	if len(docs) == 0 {
		t.Skip("no shipped plugin configuration found")
	}
	t.Logf("checking %d shipped configurations (%v)", len(docs), names)
	for i, msg := range schemaVerdicts(t, docs) {
		if msg != "" {
			t.Errorf("%s: plugin configuration refused by schema.json: %s", names[i], msg)
		}
	}
}

// pluginConfigs finds plugin configurations in a decoded YAML tree: JSON
// text in a "value" string that has "rules", or a "pluginConfig" object.
func pluginConfigs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["value"].(string); ok && strings.Contains(s, `"rules"`) {
			out = append(out, s)
		}
		if pc, ok := x["pluginConfig"].(map[string]any); ok {
			b, _ := json.Marshal(pc)
			out = append(out, string(b))
		}
		for _, c := range x {
			out = append(out, pluginConfigs(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, pluginConfigs(c)...)
		}
	}
	return out
}

// TestReadmeRefusalTable: every reason code of package provider appears in
// the README's refusal table, in the row of its HTTP status.
func TestReadmeRefusalTable(t *testing.T) {
	src, err := os.ReadFile("../errors.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // status → row text
	for _, m := range regexp.MustCompile(`(?m)^\| ([0-9]{3}) \| (.*) \|$`).FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = m[2]
	}
	reasons := regexp.MustCompile(`Reason = "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(reasons) < 20 || len(rows) < 5 {
		t.Fatalf("found %d reasons and %d table rows", len(reasons), len(rows))
	}
	for _, m := range reasons {
		r := provider.Reason(m[1])
		if r == provider.ReasonOK {
			continue
		}
		status := strconv.Itoa(r.Status())
		if !strings.Contains(rows[status], "`"+m[1]+"`") {
			t.Errorf("reason %s (HTTP %s) is not in the README's %s row", m[1], status, status)
		}
	}
}
