package deploycheck

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// extractTags applies Envoy-style tag extractors to a stat name: each regex
// runs on the original name; its first group is cut out of the name and its
// second group is the tag's value.
func extractTags(name string, tags map[string]*regexp.Regexp) (string, map[string]string) {
	got := map[string]string{}
	type cut struct{ from, to int }
	var cuts []cut
	for tag, re := range tags {
		m := re.FindStringSubmatchIndex(name)
		if len(m) < 6 || m[2] < 0 || m[4] < 0 {
			continue
		}
		got[tag] = name[m[4]:m[5]]
		cuts = append(cuts, cut{m[2], m[3]})
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].from > cuts[j].from })
	for _, c := range cuts {
		name = name[:c.from] + name[c.to:]
	}
	return name, got
}

// TestEnvoyStatsTags: the bootstrap's tag extractors turn the filter's
// request counters into one metric with four labels.
func TestEnvoyStatsTags(t *testing.T) {
	b, err := decodeBootstrap(treeJSON(t, loadEnvoyTree(t)))
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]*regexp.Regexp{}
	for _, st := range b.GetStatsConfig().GetStatsTags() {
		re, err := regexp.Compile(st.GetRegex())
		if err != nil {
			t.Fatalf("tag %s: %v", st.GetTagName(), err)
		}
		tags[st.GetTagName()] = re
	}
	for _, tc := range []struct {
		stat string
		want map[string]string
	}{
		{"wasmcustom.tokengate.requests.rule.api.provider.partner_keys.outcome.allowed.reason.ok",
			map[string]string{"tokengate_rule": "api", "tokengate_provider": "partner_keys", "tokengate_outcome": "allowed", "tokengate_reason": "ok"}},
		{"wasmcustom.tokengate.requests.rule.health.provider._anonymous.outcome.allowed.reason.ok",
			map[string]string{"tokengate_rule": "health", "tokengate_provider": "_anonymous", "tokengate_outcome": "allowed", "tokengate_reason": "ok"}},
		{"wasmcustom.tokengate.requests.rule.reports.provider.opaque.outcome.denied.reason.callout_timeout",
			map[string]string{"tokengate_rule": "reports", "tokengate_provider": "opaque", "tokengate_outcome": "denied", "tokengate_reason": "callout_timeout"}},
	} {
		name, got := extractTags(tc.stat, tags)
		if name != "wasmcustom.tokengate.requests" {
			t.Errorf("%s: tag-extracted name %q, want wasmcustom.tokengate.requests", tc.stat, name)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: tag %s = %q, want %q", tc.stat, k, got[k], v)
			}
		}
	}
	// A provider's own metrics (tokengate.<provider>.<name>) keep their name.
	if name, got := extractTags("wasmcustom.tokengate.bots.jwks_fetch_ok", tags); name != "wasmcustom.tokengate.bots.jwks_fetch_ok" || len(got) != 0 {
		t.Errorf("provider metric rewritten: %q %v", name, got)
	}
	// The extractors rely on names without dots.
	g, err := findGate(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range collectStrings(g.config, func(key string, obj map[string]any) bool {
		return key == "name" && obj["type"] != nil || key == "name" && obj["paths"] != nil
	}) {
		if strings.Contains(n, ".") {
			t.Errorf("name %q contains a dot; the stats tag extractors would mis-split it", n)
		}
	}
}
