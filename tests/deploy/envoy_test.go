package deploycheck

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tokengate/tokengate/envoy/deploy"
)

// The imports above register every type the shipped bootstrap packs into an
// Any; protojson resolves "@type" through that registry and refuses names it
// does not know. These references keep the imports explicit.
var (
	_ = routerv3.Router{}
	_ = wrapperspb.StringValue{}
)

// envoyFile is the bootstrap the tests hold to Envoy's API.
const envoyFile = "envoy/envoy.yaml"

// decodeBootstrap is what Envoy does first with a bootstrap: strict proto
// JSON decoding (unknown fields, wrong types and unknown enum names fail),
// then the protoc-gen-validate rules of every message, including messages
// packed in Any fields (which ValidateAll alone does not open).
func decodeBootstrap(js []byte) (*bootstrapv3.Bootstrap, error) {
	var b bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &b); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := validateDeep(&b); err != nil {
		return nil, err
	}
	return &b, nil
}

// validateDeep runs ValidateAll on m and on every message found inside an
// Any anywhere below it.
func validateDeep(m proto.Message) error {
	var errs []error
	validateInto(m, string(m.ProtoReflect().Descriptor().Name()), &errs)
	return errors.Join(errs...)
}

func validateInto(m proto.Message, path string, errs *[]error) {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	walkAnys(m.ProtoReflect(), path, errs)
}

// walkAnys looks for Any fields below m; each is unpacked through the
// global registry and validated as its own message.
func walkAnys(m protoreflect.Message, path string, errs *[]error) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: cannot resolve %s: %w", path, a.GetTypeUrl(), err))
			return
		}
		validateInto(inner, path+"<"+string(inner.ProtoReflect().Descriptor().Name())+">", errs)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := path + "." + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walkAnys(mv.Message(), name+"["+k.String()+"]", errs)
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walkAnys(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i), errs)
				}
			}
		case fd.Message() != nil:
			walkAnys(v.Message(), name, errs)
		}
		return true
	})
}

// gate is what the project requires of a bootstrap beyond Envoy's schema.
type gate struct {
	hcm               *hcmv3.HttpConnectionManager
	plugin            *wasmv3.PluginConfig
	config            []byte          // the plugin configuration text
	envKeys           map[string]bool // names passed through to the VM
	listenerModuleSHA string
}

// findGate locates the tokengate filter and checks the project's rules: one
// listener with the Wasm filter before a final router, fail-closed, the
// module loaded from build/tokengate.wasm (or a remote source with
// sha256), the configuration as a StringValue, and every route's cluster
// defined.
func findGate(b *bootstrapv3.Bootstrap) (*gate, error) {
	clusters := map[string]bool{}
	for _, c := range b.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = true
	}
	var g *gate
	for _, l := range b.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if f.GetName() != "envoy.filters.network.http_connection_manager" {
					continue
				}
				var hcm hcmv3.HttpConnectionManager
				if err := f.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
					return nil, fmt.Errorf("listener %s: %w", l.GetName(), err)
				}
				if err := checkRoutes(hcm.GetRouteConfig(), clusters); err != nil {
					return nil, fmt.Errorf("listener %s: %w", l.GetName(), err)
				}
				hf := hcm.GetHttpFilters()
				for i, h := range hf {
					if h.GetName() != "envoy.filters.http.wasm" {
						continue
					}
					if g != nil {
						return nil, errors.New("more than one tokengate filter")
					}
					var w wasmfilterv3.Wasm
					if err := h.GetTypedConfig().UnmarshalTo(&w); err != nil {
						return nil, fmt.Errorf("wasm filter: %w", err)
					}
					if i == len(hf)-1 || hf[len(hf)-1].GetName() != "envoy.filters.http.router" {
						return nil, errors.New("the router must be the last HTTP filter, after tokengate")
					}
					g = &gate{hcm: &hcm, plugin: w.GetConfig()}
					if md := l.GetMetadata().GetFilterMetadata()["tokengate"]; md != nil {
						g.listenerModuleSHA = md.GetFields()["module_sha256"].GetStringValue()
					}
				}
			}
		}
	}
	if g == nil {
		return nil, errors.New("no envoy.filters.http.wasm filter found")
	}
	p := g.plugin
	//lint:ignore SA1019 the deprecated fail_open field must stay unset: it would override failure_policy
	if p.GetFailOpen() {
		return nil, errors.New("fail_open is set: the gate must fail closed")
	}
	if p.GetFailurePolicy() != wasmv3.FailurePolicy_FAIL_CLOSED {
		return nil, fmt.Errorf("failure_policy is %s, want FAIL_CLOSED (explicit, not UNSPECIFIED)", p.GetFailurePolicy())
	}
	vm := p.GetVmConfig()
	if vm == nil {
		return nil, errors.New("vm_config missing")
	}
	if rt := vm.GetRuntime(); rt != "envoy.wasm.runtime.v8" {
		return nil, fmt.Errorf("runtime %q, want envoy.wasm.runtime.v8", rt)
	}
	code := vm.GetCode()
	switch {
	case code.GetLocal() != nil:
		if fn := code.GetLocal().GetFilename(); fn != deploy.DefaultModulePath {
			return nil, fmt.Errorf("local code %q, want %s", fn, deploy.DefaultModulePath)
		}
	case code.GetRemote() != nil:
		if code.GetRemote().GetSha256() == "" {
			return nil, errors.New("remote code without sha256")
		}
	default:
		return nil, errors.New("vm_config.code has no source")
	}
	var sv wrapperspb.StringValue
	if err := p.GetConfiguration().UnmarshalTo(&sv); err != nil {
		return nil, fmt.Errorf("configuration must be a google.protobuf.StringValue: %w", err)
	}
	g.config = []byte(sv.GetValue())
	g.envKeys = map[string]bool{}
	for _, k := range vm.GetEnvironmentVariables().GetHostEnvKeys() {
		g.envKeys[k] = true
	}
	for k := range vm.GetEnvironmentVariables().GetKeyValues() {
		if g.envKeys[k] {
			return nil, fmt.Errorf("environment variable %s is in both host_env_keys and key_values (Envoy rejects this)", k)
		}
		g.envKeys[k] = true
	}
	for _, c := range calloutClusters(g.config) {
		if !clusters[c] {
			return nil, fmt.Errorf("plugin configuration calls cluster %q, which the bootstrap does not define", c)
		}
	}
	inFile := vm.GetEnvironmentVariables().GetKeyValues()
	for _, e := range envRefs(g.config) {
		if !g.envKeys[e] {
			return nil, fmt.Errorf("plugin configuration reads env %q, which vm_config.environment_variables does not pass", e)
		}
		if _, ok := inFile[e]; ok {
			return nil, fmt.Errorf("secret %q is written in the file (key_values); pass it from Envoy's environment with host_env_keys", e)
		}
	}
	return g, nil
}

func checkRoutes(rc *routev3.RouteConfiguration, clusters map[string]bool) error {
	if rc == nil {
		return errors.New("no inline route_config")
	}
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if c := r.GetRoute().GetCluster(); c != "" && !clusters[c] {
				return fmt.Errorf("route in %s names unknown cluster %q", vh.GetName(), c)
			}
		}
	}
	return nil
}

func loadEnvoyTree(t *testing.T) map[string]any {
	t.Helper()
	return yamlToTree(t, readFile(t, envoyFile))
}

func TestEnvoyBootstrapValid(t *testing.T) {
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatalf("%s: %v", envoyFile, err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatalf("%s: %v", envoyFile, err)
	}
	if len(g.config) == 0 {
		t.Fatalf("%s: empty plugin configuration", envoyFile)
	}
	if !g.hcm.GetUseRemoteAddress().GetValue() {
		t.Errorf("%s: use_remote_address should be on, so x-forwarded-for from clients is not trusted", envoyFile)
	}
}

// TestEnvoyModuleDigest: the sha256 the bootstrap names is the module
// `make wasm` built.
func TestEnvoyModuleDigest(t *testing.T) {
	module := builtModule(t)
	want := deploy.ModuleSHA256(module)
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	got := g.listenerModuleSHA
	if r := g.plugin.GetVmConfig().GetCode().GetRemote(); r != nil {
		got = r.GetSha256()
	}
	if got != want {
		t.Errorf("%s names module sha256 %q, but build/tokengate.wasm is %s: run make sync-sha", envoyFile, got, want)
	}
}

// TestEnvoyBootstrapMutationsRejected proves the checks above can fail: each
// case breaks one field of a copy of the shipped file.
func TestEnvoyBootstrapMutationsRejected(t *testing.T) {
	const (
		wasmCfg = "static_resources.listeners.0.filter_chains.0.filters.0.typed_config.http_filters.0.typed_config.config"
		hcm     = "static_resources.listeners.0.filter_chains.0.filters.0.typed_config"
	)
	base := loadEnvoyTree(t)
	// Guard: the paths below point where the test thinks they do.
	if got := get(t, base, wasmCfg+".name"); got != "tokengate" {
		t.Fatalf("path %s: name = %v; update the test paths", wasmCfg, got)
	}
	for _, tc := range []struct {
		name   string
		mutate func(tree map[string]any)
		want   string // substring of the error
	}{
		{"bad enum: failure_policy", func(tr map[string]any) {
			set(t, tr, wasmCfg+".failure_policy", "FAIL_SIDEWAYS")
		}, "FAIL_SIDEWAYS"},
		{"unknown field in vm_config", func(tr map[string]any) {
			set(t, tr, wasmCfg+".vm_config.runtimee", "envoy.wasm.runtime.v8")
		}, "runtimee"},
		{"wrong type: port_value", func(tr map[string]any) {
			set(t, tr, "static_resources.listeners.0.address.socket_address.port_value", "ten thousand")
		}, "uint32"},
		{"missing required: cluster name", func(tr map[string]any) {
			del(t, tr, "static_resources.clusters.0.name")
		}, "Name"},
		{"rule inside an Any: empty stat_prefix", func(tr map[string]any) {
			set(t, tr, hcm+".stat_prefix", "")
		}, "StatPrefix"},
		{"unknown @type", func(tr map[string]any) {
			set(t, tr, hcm+".http_filters.0.typed_config.@type", "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasmm")
		}, "Wasmm"},
		{"policy: fail open", func(tr map[string]any) {
			set(t, tr, wasmCfg+".failure_policy", "FAIL_OPEN")
		}, "FAIL_CLOSED"},
		{"policy: router before the gate", func(tr map[string]any) {
			hf := get(t, tr, hcm+".http_filters").([]any)
			hf[0], hf[1] = hf[1], hf[0]
		}, "router"},
		{"policy: route to an undefined cluster", func(tr map[string]any) {
			set(t, tr, hcm+".route_config.virtual_hosts.0.routes.0.route.cluster", "nowhere")
		}, "nowhere"},
		{"policy: secret not passed to the VM", func(tr map[string]any) {
			set(t, tr, wasmCfg+".vm_config.environment_variables.host_env_keys", []any{})
		}, "env"},
		{"policy: secret written in the file", func(tr map[string]any) {
			set(t, tr, wasmCfg+".vm_config.environment_variables.host_env_keys", []any{"TG_INTROSPECT_AUTH"})
			set(t, tr, wasmCfg+".vm_config.environment_variables.key_values", map[string]any{"TG_BILLING_SEED": "s3cr3t-in-the-file"})
		}, "key_values"},
		{"envoy: same variable in host_env_keys and key_values", func(tr map[string]any) {
			set(t, tr, wasmCfg+".vm_config.environment_variables.key_values", map[string]any{"TG_BILLING_SEED": "x"})
		}, "both"},
		{"policy: configuration not a StringValue", func(tr map[string]any) {
			set(t, tr, wasmCfg+".configuration", map[string]any{
				"@type": "type.googleapis.com/google.protobuf.Struct",
				"value": map[string]any{"providers": []any{}},
			})
		}, "StringValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := deepCopy(t, base)
			tc.mutate(tree)
			b, err := decodeBootstrap(treeJSON(t, tree))
			if err == nil {
				_, err = findGate(b)
			}
			if err == nil {
				t.Fatal("the broken copy passed validation")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// calloutClusters lists every string member named "cluster" anywhere in the
// plugin configuration: the providers that call out (JWKS, introspection)
// name their Envoy cluster that way.
func calloutClusters(config []byte) []string {
	return collectStrings(config, func(key string, _ map[string]any) bool { return key == "cluster" })
}

// envRefs lists the variable names of {"env": "NAME"} secret references.
func envRefs(config []byte) []string {
	return collectStrings(config, func(key string, obj map[string]any) bool { return key == "env" && len(obj) == 1 })
}

func collectStrings(config []byte, match func(key string, obj map[string]any) bool) []string {
	var tree any
	if err := jsonUnmarshal(config, &tree); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && match(k, x) {
					seen[s] = true
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(tree)
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TestEnvoyRemoteVariant: the "verified remote module" variant envoy/README.md
// describes (a remote code source with sha256, fetched through its own
// cluster) is valid Envoy configuration, and the project's rules refuse it
// without the digest.
func TestEnvoyRemoteVariant(t *testing.T) {
	const vm = "static_resources.listeners.0.filter_chains.0.filters.0.typed_config.http_filters.0.typed_config.config.vm_config"
	remote := func(sha string) map[string]any {
		tree := loadEnvoyTree(t)
		r := map[string]any{"http_uri": map[string]any{
			"uri": "http://127.0.0.1:18083/tokengate.wasm", "cluster": "wasm_store", "timeout": "10s",
		}}
		if sha != "" {
			r["sha256"] = sha
		}
		set(t, tree, vm+".code", map[string]any{"remote": r})
		clusters := get(t, tree, "static_resources.clusters").([]any)
		set(t, tree, "static_resources.clusters", append(clusters, map[string]any{
			"name": "wasm_store", "type": "STATIC", "connect_timeout": "1s",
			"load_assignment": map[string]any{"cluster_name": "wasm_store", "endpoints": []any{map[string]any{
				"lb_endpoints": []any{map[string]any{"endpoint": map[string]any{"address": map[string]any{
					"socket_address": map[string]any{"address": "127.0.0.1", "port_value": 18083}}}}}}}},
		}))
		return tree
	}
	sha := deploy.ModuleSHA256(builtModule(t))
	b, err := decodeBootstrap(treeJSON(t, remote(sha)))
	if err != nil {
		t.Fatalf("remote variant: %v", err)
	}
	g, err := findGate(b)
	if err != nil {
		t.Fatalf("remote variant: %v", err)
	}
	if got := g.plugin.GetVmConfig().GetCode().GetRemote().GetSha256(); got != sha {
		t.Errorf("sha256 %q", got)
	}
	b, err = decodeBootstrap(treeJSON(t, remote("")))
	if err == nil {
		_, err = findGate(b)
	}
	if err == nil {
		t.Error("a remote code source without sha256 was accepted")
	}
}
