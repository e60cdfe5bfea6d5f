package policy

import "strings"

// ruleIndex narrows rule matching to the rules that can match a path's
// first segment, so a request for the twentieth route does not test the
// nineteen before it. Paths match on segment boundaries (PathMatch), so a
// rule whose every path starts with "/api" can only match paths whose
// first segment is "api"; rules without paths, or with the prefix "/",
// can match any path and appear in every list. Lists keep rule order, so
// the first match is the same rule a scan of all rules finds.
type ruleIndex struct {
	bySegment map[string][]int
	anyPath   []int // rules that can match any path, for other segments
}

func newRuleIndex(rules []*Rule) ruleIndex {
	type reach struct {
		any  bool
		segs []string
	}
	reaches := make([]reach, len(rules))
	segments := map[string]bool{}
	for i, r := range rules {
		rc := reach{any: len(r.Paths) == 0}
		for _, m := range r.Paths {
			seg, any := patternSegment(m)
			if any {
				rc.any = true
				continue
			}
			rc.segs = append(rc.segs, seg)
			segments[seg] = true
		}
		reaches[i] = rc
	}
	idx := ruleIndex{bySegment: make(map[string][]int, len(segments))}
	for i, rc := range reaches {
		if rc.any {
			idx.anyPath = append(idx.anyPath, i)
		}
	}
	for seg := range segments {
		var list []int
		for i, rc := range reaches {
			if rc.any || contains(rc.segs, seg) {
				list = append(list, i)
			}
		}
		idx.bySegment[seg] = list
	}
	return idx
}

// candidates lists, in order, the positions of the rules that can match
// path.
func (x *ruleIndex) candidates(path string) []int {
	if len(path) == 0 || path[0] != '/' {
		return x.anyPath // no path pattern matches such a path
	}
	seg := path[1:]
	if j := strings.IndexByte(seg, '/'); j >= 0 {
		seg = seg[:j]
	}
	if list, ok := x.bySegment[seg]; ok {
		return list
	}
	return x.anyPath
}

// patternSegment is the first segment every path m matches starts with
// ("api" for the prefix "/api/v1"), or any when m can match paths of
// every first segment (the prefix "/", or a pattern not starting with
// "/", which the configuration never builds: it is kept reachable rather
// than trusted).
func patternSegment(m PathMatch) (seg string, any bool) {
	p := m.Exact
	if p == "" {
		p = m.Prefix
		if p == "/" {
			return "", true
		}
	}
	if p == "" || p[0] != '/' {
		return "", true
	}
	seg = p[1:]
	if j := strings.IndexByte(seg, '/'); j >= 0 {
		seg = seg[:j]
	}
	return seg, false
}
