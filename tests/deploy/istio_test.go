package deploycheck

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	extv1alpha1 "istio.io/api/extensions/v1alpha1"
	netv1alpha3 "istio.io/api/networking/v1alpha3"
)

// The Istio files, decoded together because they refer to each other.
const (
	istioWasmPlugin = "envoy/istio/wasmplugin.yaml"
	istioSecret     = "envoy/istio/secret.yaml"
	istioEnvPatch   = "envoy/istio/gateway-env-patch.yaml"
	istioCallouts   = "envoy/istio/serviceentry.yaml"
)

var istioFiles = []string{istioWasmPlugin, istioSecret, istioEnvPatch, istioCallouts}

// istioSet is every resource of the shipped Istio files, as JSON trees keyed
// by file, in document order.
type istioSet map[string][]map[string]any

func loadIstio(t *testing.T) istioSet {
	t.Helper()
	set := istioSet{}
	for _, f := range istioFiles {
		for _, doc := range splitDocs(readFile(t, f)) {
			set[f] = append(set[f], yamlToTree(t, doc))
		}
		if len(set[f]) == 0 {
			t.Fatalf("%s: no documents", f)
		}
	}
	return set
}

func (s istioSet) copy(t *testing.T) istioSet {
	out := istioSet{}
	for f, docs := range s {
		for _, d := range docs {
			out[f] = append(out[f], deepCopy(t, d))
		}
	}
	return out
}

// decoded is what the checks extract from the Istio files.
type decoded struct {
	plugin       *extv1alpha1.WasmPlugin
	pluginConfig []byte // as Istio hands it to Envoy: protojson of the Struct
	moduleAnn    string
	secretKeys   map[string]bool
	hostEnv      map[string]string // istio-proxy env name -> secret key
	callouts     map[string]bool   // outbound|port||host cluster names
}

var (
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hex64     = regexp.MustCompile(`^[a-f0-9]{64}$`)
	strictDec = protojson.UnmarshalOptions{} // unknown fields, bad enums and wrong types fail
)

// checkMeta checks the Kubernetes envelope: known top-level keys only, the
// expected apiVersion and kind, and a valid name and namespace.
func checkMeta(doc map[string]any, apiVersion, kind string) error {
	for k := range doc {
		switch k {
		case "apiVersion", "kind", "metadata", "spec", "type", "stringData", "data":
		default:
			return fmt.Errorf("unknown top-level field %q", k)
		}
	}
	if doc["apiVersion"] != apiVersion || doc["kind"] != kind {
		return fmt.Errorf("apiVersion/kind %v/%v, want %s/%s", doc["apiVersion"], doc["kind"], apiVersion, kind)
	}
	md, ok := doc["metadata"].(map[string]any)
	if !ok {
		return errors.New("metadata missing")
	}
	for _, k := range []string{"name", "namespace"} {
		v, _ := md[k].(string)
		if !dnsLabel.MatchString(v) || len(v) > 63 {
			return fmt.Errorf("metadata.%s %q is not a DNS label", k, v)
		}
	}
	return nil
}

// decodeSpec checks doc against its CRD schema, then decodes doc.spec
// strictly into m.
func decodeSpec(t *testing.T, doc map[string]any, m proto.Message) error {
	if err := crdCheck(doc); err != nil {
		return err
	}
	spec, ok := doc["spec"]
	if !ok {
		return errors.New("spec missing")
	}
	if err := strictDec.Unmarshal(treeJSON(t, spec), m); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

// decodeIstio decodes and cross-checks the Istio files. Envoy-side facts
// (Istio's rules from the CRD and the agent) and the project's own rules
// are both enforced; each error names its file.
func decodeIstio(t *testing.T, s istioSet) (*decoded, error) {
	d := &decoded{secretKeys: map[string]bool{}, hostEnv: map[string]string{}, callouts: map[string]bool{}}

	// Secret: Opaque, string values only.
	sec := s[istioSecret][0]
	if err := checkMeta(sec, "v1", "Secret"); err != nil {
		return nil, fmt.Errorf("%s: %w", istioSecret, err)
	}
	if sec["type"] != "Opaque" {
		return nil, fmt.Errorf("%s: type %v, want Opaque", istioSecret, sec["type"])
	}
	sd, ok := sec["stringData"].(map[string]any)
	if !ok || len(sd) == 0 {
		return nil, fmt.Errorf("%s: stringData missing", istioSecret)
	}
	for k, v := range sd {
		if _, ok := v.(string); !ok {
			return nil, fmt.Errorf("%s: stringData.%s is not a string", istioSecret, k)
		}
		d.secretKeys[k] = true
	}
	secretName := sec["metadata"].(map[string]any)["name"]

	// Patch: env of the istio-proxy container, each from the Secret.
	patch := s[istioEnvPatch][0]
	containers, _ := get(t, patch, "spec.template.spec.containers").([]any)
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		if cm["name"] != "istio-proxy" {
			return nil, fmt.Errorf("%s: container %v, want only istio-proxy", istioEnvPatch, cm["name"])
		}
		envs, _ := cm["env"].([]any)
		for _, e := range envs {
			em, _ := e.(map[string]any)
			name, _ := em["name"].(string)
			vf, _ := em["valueFrom"].(map[string]any)
			ref, _ := vf["secretKeyRef"].(map[string]any)
			if name == "" || ref == nil {
				return nil, fmt.Errorf("%s: env %v must come from a secretKeyRef", istioEnvPatch, em["name"])
			}
			if ref["name"] != secretName || !d.secretKeys[fmt.Sprint(ref["key"])] {
				return nil, fmt.Errorf("%s: env %s refers to %v/%v, not a key of %s", istioEnvPatch, name, ref["name"], ref["key"], istioSecret)
			}
			d.hostEnv[name] = fmt.Sprint(ref["key"])
		}
	}

	// ServiceEntry and DestinationRules: the callout clusters.
	tlsHosts := map[string]bool{}
	for i, doc := range s[istioCallouts] {
		switch doc["kind"] {
		case "ServiceEntry":
			if err := checkMeta(doc, "networking.istio.io/v1", "ServiceEntry"); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", istioCallouts, i, err)
			}
			var se netv1alpha3.ServiceEntry
			if err := decodeSpec(t, doc, &se); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", istioCallouts, i, err)
			}
			if len(se.GetHosts()) == 0 || len(se.GetPorts()) == 0 {
				return nil, fmt.Errorf("%s[%d]: ServiceEntry needs hosts and ports", istioCallouts, i)
			}
			for _, h := range se.GetHosts() {
				for _, p := range se.GetPorts() {
					d.callouts[fmt.Sprintf("outbound|%d||%s", p.GetNumber(), h)] = true
				}
			}
		case "DestinationRule":
			if err := checkMeta(doc, "networking.istio.io/v1", "DestinationRule"); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", istioCallouts, i, err)
			}
			var dr netv1alpha3.DestinationRule
			if err := decodeSpec(t, doc, &dr); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", istioCallouts, i, err)
			}
			if dr.GetTrafficPolicy().GetTls().GetMode() == netv1alpha3.ClientTLSSettings_SIMPLE {
				tlsHosts[dr.GetHost()] = true
			}
		default:
			return nil, fmt.Errorf("%s[%d]: unexpected kind %v", istioCallouts, i, doc["kind"])
		}
	}
	for c := range d.callouts {
		host := c[strings.LastIndex(c, "|")+1:]
		if strings.HasPrefix(c, "outbound|443||") && !tlsHosts[host] {
			return nil, fmt.Errorf("%s: %s on port 443 without a DestinationRule originating TLS", istioCallouts, host)
		}
	}

	// WasmPlugin.
	wp := s[istioWasmPlugin][0]
	if err := checkMeta(wp, "extensions.istio.io/v1alpha1", "WasmPlugin"); err != nil {
		return nil, fmt.Errorf("%s: %w", istioWasmPlugin, err)
	}
	var p extv1alpha1.WasmPlugin
	if err := decodeSpec(t, wp, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", istioWasmPlugin, err)
	}
	if err := checkWasmPlugin(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", istioWasmPlugin, err)
	}
	d.plugin = &p
	if ann, ok := wp["metadata"].(map[string]any)["annotations"].(map[string]any); ok {
		d.moduleAnn, _ = ann["tokengate.io/module-sha256"].(string)
	}
	cfg, err := protojson.Marshal(p.GetPluginConfig())
	if err != nil {
		return nil, fmt.Errorf("%s: pluginConfig: %w", istioWasmPlugin, err)
	}
	d.pluginConfig = cfg

	// Cross-references: every env the plugin reads is passed to the VM, every
	// HOST variable reaches the istio-proxy container from the Secret, every
	// callout cluster exists.
	vmEnv := map[string]extv1alpha1.EnvValueSource{}
	for _, e := range p.GetVmConfig().GetEnv() {
		vmEnv[e.GetName()] = e.GetValueFrom()
	}
	for _, name := range envRefs(cfg) {
		src, ok := vmEnv[name]
		if !ok {
			return nil, fmt.Errorf("%s: pluginConfig reads env %q, which vmConfig.env does not pass", istioWasmPlugin, name)
		}
		if src != extv1alpha1.EnvValueSource_HOST {
			return nil, fmt.Errorf("%s: secret %q must come from the host (a Secret), not INLINE", istioWasmPlugin, name)
		}
		if _, ok := d.hostEnv[name]; !ok {
			return nil, fmt.Errorf("%s: %s is valueFrom HOST but %s does not set it on istio-proxy", istioWasmPlugin, name, istioEnvPatch)
		}
	}
	for _, c := range calloutClusters(cfg) {
		if !d.callouts[c] {
			return nil, fmt.Errorf("%s: pluginConfig calls cluster %q, which %s does not create", istioWasmPlugin, c, istioCallouts)
		}
	}
	return d, nil
}

// checkWasmPlugin applies the CRD's validation rules that protojson cannot
// (istio.io/api kubernetes/customresourcedefinitions.gen.yaml: required url,
// url scheme, sha256 pattern, selector/targetRefs exclusivity, env rules)
// and the project's deployment rules.
func checkWasmPlugin(p *extv1alpha1.WasmPlugin) error {
	url := p.GetUrl()
	if url == "" {
		return errors.New("spec.url is required")
	}
	if !strings.HasPrefix(url, "oci://") {
		return fmt.Errorf("spec.url %q: ship an oci:// image (make oci)", url)
	}
	if !hex64.MatchString(p.GetSha256()) {
		return fmt.Errorf("spec.sha256 %q must be 64 lower-case hex digits", p.GetSha256())
	}
	if i := strings.Index(url, "@sha256:"); i >= 0 && url[i+len("@sha256:"):] != p.GetSha256() {
		return errors.New("spec.url's @sha256 digest and spec.sha256 differ")
	}
	n := 0
	if p.GetSelector() != nil {
		n++
	}
	if p.GetTargetRef() != nil {
		n++
	}
	if len(p.GetTargetRefs()) > 0 {
		n++
	}
	if n != 1 {
		return errors.New("exactly one of selector, targetRef, targetRefs must be set")
	}
	if p.GetPhase() != extv1alpha1.PluginPhase_AUTHN {
		return fmt.Errorf("phase %s, want AUTHN", p.GetPhase())
	}
	if p.GetFailStrategy() != extv1alpha1.FailStrategy_FAIL_CLOSE {
		return fmt.Errorf("failStrategy %s, want FAIL_CLOSE", p.GetFailStrategy())
	}
	if t := p.GetType(); t != extv1alpha1.PluginType_HTTP && t != extv1alpha1.PluginType_UNSPECIFIED_PLUGIN_TYPE {
		return fmt.Errorf("type %s, want HTTP", t)
	}
	for _, e := range p.GetVmConfig().GetEnv() {
		if e.GetName() == "" || len(e.GetName()) > 256 {
			return errors.New("vmConfig.env name must be 1..256 characters")
		}
		if e.GetValueFrom() == extv1alpha1.EnvValueSource_HOST && e.GetValue() != "" {
			return fmt.Errorf("vmConfig.env %s: value may only be set when valueFrom is INLINE", e.GetName())
		}
	}
	if p.GetPluginConfig() == nil {
		return errors.New("pluginConfig missing")
	}
	return nil
}

func TestIstioFilesValid(t *testing.T) {
	d, err := decodeIstio(t, loadIstio(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.pluginConfig) < 3 {
		t.Fatalf("pluginConfig is empty: %s", d.pluginConfig)
	}
}

// TestIstioDigests: the WasmPlugin names the image `make oci` builds from the
// current module, and the module's own sha256.
func TestIstioDigests(t *testing.T) {
	want := currentDigests(t)
	d, err := decodeIstio(t, loadIstio(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.moduleAnn != want.Module {
		t.Errorf("%s: module annotation %q, but build/tokengate.wasm is %s: run make sync-sha", istioWasmPlugin, d.moduleAnn, want.Module)
	}
	if got := d.plugin.GetSha256(); got != want.Image {
		t.Errorf("%s: sha256 %q, but the image of build/tokengate.wasm has manifest digest %s: run make sync-sha", istioWasmPlugin, got, want.Image)
	}
}

func TestIstioMutationsRejected(t *testing.T) {
	base := loadIstio(t)
	for _, tc := range []struct {
		name   string
		file   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"bad enum: phase", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.phase", "BEFORE_EVERYTHING") }, "BEFORE_EVERYTHING"},
		{"unknown field", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.urll", "oci://x/y:1") }, "urll"},
		{"wrong type: priority", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.priority", "high") }, "spec.priority"},
		{"missing required: url", istioWasmPlugin, func(d map[string]any) { del(t, d, "spec.url") }, `"url" is missing`},
		{"bad pattern: sha256", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.sha256", "ABC") }, "sha256"},
		{"selector and targetRefs", istioWasmPlugin, func(d map[string]any) {
			set(t, d, "spec.targetRefs", []any{map[string]any{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}})
		}, "exactly one"},
		{"HOST env with a value", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.vmConfig.env.0.value", "x") }, "INLINE"},
		{"policy: fail open", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.failStrategy", "FAIL_OPEN") }, "FAIL_CLOSE"},
		{"policy: secret inline", istioWasmPlugin, func(d map[string]any) {
			set(t, d, "spec.vmConfig.env.0", map[string]any{"name": "TG_BILLING_SEED", "valueFrom": "INLINE", "value": "s3cr3t"})
		}, "INLINE"},
		{"policy: env not passed", istioWasmPlugin, func(d map[string]any) { set(t, d, "spec.vmConfig.env", []any{}) }, "vmConfig.env"},
		{"unknown top-level field", istioWasmPlugin, func(d map[string]any) { set(t, d, "specc", map[string]any{}) }, "specc"},
		{"patch: env with a literal value", istioEnvPatch, func(d map[string]any) {
			set(t, d, "spec.template.spec.containers.0.env.0", map[string]any{"name": "TG_BILLING_SEED", "value": "s3cr3t"})
		}, "secretKeyRef"},
		{"patch: env not from the Secret", istioEnvPatch, func(d map[string]any) {
			set(t, d, "spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.key", "OTHER")
		}, "OTHER"},
		{"serviceentry: bad enum resolution", istioCallouts, func(d map[string]any) { set(t, d, "spec.resolution", "DNSS") }, "DNSS"},
		{"secret: wrong type", istioSecret, func(d map[string]any) { set(t, d, "stringData.TG_BILLING_SEED", 42) }, "not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base.copy(t)
			tc.mutate(s[tc.file][0])
			_, err := decodeIstio(t, s)
			if err == nil {
				t.Fatal("the broken copy passed validation")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
