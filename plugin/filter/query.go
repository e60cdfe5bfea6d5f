package filter

// RemoveQueryParams returns rawPath (a :path with query) without the named
// query parameters, and whether anything was removed. Parameter names are
// compared as sent (still percent-encoded), like provider.Request.QueryParam.
func RemoveQueryParams(rawPath string, names []string) (string, bool) {
	q := -1
	for i := 0; i < len(rawPath); i++ {
		if rawPath[i] == '?' {
			q = i
			break
		}
	}
	if q < 0 {
		return rawPath, false
	}
	out := make([]byte, 0, len(rawPath))
	out = append(out, rawPath[:q]...)
	query := rawPath[q+1:]
	changed, first := false, true
	for len(query) > 0 {
		part := query
		if i := indexByte(query, '&'); i >= 0 {
			part, query = query[:i], query[i+1:]
		} else {
			query = ""
		}
		key := part
		if i := indexByte(part, '='); i >= 0 {
			key = part[:i]
		}
		if contains(names, key) {
			changed = true
			continue
		}
		if first {
			out = append(out, '?')
			first = false
		} else {
			out = append(out, '&')
		}
		out = append(out, part...)
	}
	if !changed {
		return rawPath, false
	}
	return string(out), true
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
