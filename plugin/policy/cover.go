package policy

// Covers reports whether rule a matches every request rule b matches, so
// that b, placed after a, can never be reached. The configuration uses it to
// refuse unreachable rules. It is conservative: false means "b may be
// reachable", never "b is unreachable".
func Covers(a, b *Rule) bool {
	return coversMethods(a.Methods, b.Methods) && coversHosts(a.Hosts, b.Hosts) && coversPaths(a.Paths, b.Paths)
}

func coversMethods(a, b []string) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, m := range b {
		if !contains(a, m) {
			return false
		}
	}
	return true
}

func coversHosts(a, b []string) bool {
	if len(a) == 0 || contains(a, "*") {
		return true
	}
	if len(b) == 0 || contains(b, "*") {
		return false
	}
	for _, hb := range b {
		ok := false
		for _, ha := range a {
			if ha == hb || (len(ha) > 2 && ha[:2] == "*." && hostMatches(ha, trimWildcard(hb))) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// trimWildcard turns "*.a.b" into "x.a.b" style for suffix checks: any
// concrete label under the pattern behaves the same.
func trimWildcard(h string) string {
	if len(h) > 2 && h[:2] == "*." {
		return "x" + h[1:]
	}
	return h
}

func coversPaths(a, b []PathMatch) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		for _, m := range a {
			if m.Prefix == "/" {
				return true
			}
		}
		return false
	}
	for _, mb := range b {
		ok := false
		for _, ma := range a {
			if coversPath(ma, mb) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func coversPath(a, b PathMatch) bool {
	target := b.Exact
	if target == "" {
		target = b.Prefix
		if a.Exact != "" {
			return false
		}
	}
	if a.Exact != "" {
		return a.Exact == target
	}
	return underPrefix(target, a.Prefix)
}
