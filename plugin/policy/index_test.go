package policy

import (
	"testing"
)

// matchScan is Match without the index: every rule in order.
func (p *Policy) matchScan(host, method, path string) (*Rule, int) {
	for i, r := range p.rules {
		if r.matches(host, method, path) {
			return r, i
		}
	}
	return nil, -1
}

// Path patterns, hosts and methods the index tests draw rules from:
// shared first segments, prefixes of each other's text ("/a", "/ab"),
// the catch-all prefix, exact paths, trailing slashes and a pattern that
// does not start with "/".
var (
	indexPatterns = []PathMatch{
		{Prefix: "/"}, {Prefix: "/a"}, {Prefix: "/a/b"}, {Prefix: "/ab"}, {Prefix: "/b"}, {Prefix: "/a/"},
		{Exact: "/"}, {Exact: "/a"}, {Exact: "/a/b"}, {Exact: "/b/c/"}, {Prefix: "x"}, {Prefix: "/A"},
	}
	indexHosts   = [][]string{nil, {"api.test"}, {"*.test"}}
	indexMethods = [][]string{nil, {"GET"}, {"POST", "PUT"}}
	indexPaths   = []string{"/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/ab/x", "/abc", "/b", "/b/c/", "/b/c",
		"/c", "", "a", "x", "x/y", "//a", "/A", "/A/b"}
)

// rulesFrom builds rules from spec: each rule takes three bytes (paths
// bit set over indexPatterns, host and method choice).
func rulesFrom(spec []byte) []*Rule {
	var rules []*Rule
	for i := 0; i+2 < len(spec) && len(rules) < 24; i += 3 {
		r := &Rule{Name: "r" + string(rune('a'+len(rules))),
			Hosts: indexHosts[int(spec[i+1])%len(indexHosts)], Methods: indexMethods[int(spec[i+2])%len(indexMethods)]}
		for j := range indexPatterns {
			if spec[i]>>(j%8)&1 == 1 && (j < 8) == (spec[i+1]&0x80 == 0) {
				r.Paths = append(r.Paths, indexPatterns[j])
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// sameMatch fails unless the indexed Match finds the rule a scan finds,
// for every test path, host and method (and path, if not empty).
func sameMatch(t *testing.T, rules []*Rule, extra string) {
	t.Helper()
	p := New(rules, Options{})
	paths := indexPaths
	if extra != "" {
		paths = append(paths[:len(paths):len(paths)], extra)
	}
	for _, path := range paths {
		for _, host := range []string{"api.test", "x.test", "other"} {
			for _, method := range []string{"GET", "POST", "DELETE"} {
				gr, gi := p.Match(host, method, path)
				wr, wi := p.matchScan(host, method, path)
				if gr != wr || gi != wi {
					t.Fatalf("%s %s %q: index found rule %d, scan %d", method, host, path, gi, wi)
				}
			}
		}
	}
}

func TestRuleIndexMatchesScan(t *testing.T) {
	cases := map[string][]*Rule{
		"empty":          nil,
		"catch-all last": {{Name: "a", Paths: []PathMatch{{Prefix: "/a"}}}, {Name: "b", Paths: []PathMatch{{Exact: "/b/c/"}}}, {Name: "all"}},
		"catch-all first": {{Name: "all", Methods: []string{"POST"}}, {Name: "a", Paths: []PathMatch{{Prefix: "/a"}}},
			{Name: "root", Paths: []PathMatch{{Prefix: "/"}}}},
		"shared segment": {{Name: "ab", Paths: []PathMatch{{Prefix: "/a/b"}}, Hosts: []string{"api.test"}},
			{Name: "a", Paths: []PathMatch{{Prefix: "/a"}, {Exact: "/b"}}}, {Name: "a2", Paths: []PathMatch{{Prefix: "/ab"}}}},
		"exact root": {{Name: "root", Paths: []PathMatch{{Exact: "/"}}}, {Name: "x", Paths: []PathMatch{{Prefix: "x"}}}},
	}
	for name, rules := range cases {
		t.Run(name, func(t *testing.T) { sameMatch(t, rules, "") })
	}
	// Every small rule set the generator makes.
	for a := 0; a < 256; a += 7 {
		for b := 0; b < 256; b += 37 {
			sameMatch(t, rulesFrom([]byte{byte(a), byte(b), byte(a + b), byte(b), byte(a), 1, 0xff, byte(a ^ b), 2}), "")
		}
	}
}

func FuzzRuleIndex(f *testing.F) {
	f.Add([]byte{0xff, 0, 0, 0x0f, 0x80, 1}, "/a/b")
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, "/zz")
	f.Add([]byte{0x42, 0x81, 2, 0x10, 0, 0}, "")
	f.Fuzz(func(t *testing.T, spec []byte, path string) {
		sameMatch(t, rulesFrom(spec), path)
	})
}
