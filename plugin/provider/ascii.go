package provider

// HTTP header names and authorization schemes are ASCII and
// case-insensitive; proxy-wasm hosts hand header names over in lower case.
// These helpers fold ASCII letters only, on purpose: strings.ToLower also
// folds non-ASCII letters into ASCII ones (U+212A KELVIN SIGN becomes 'k')
// and rewrites invalid UTF-8, so a configured name that can never match a
// real header would start matching one.

// LowerASCII returns s with the ASCII letters A-Z lower-cased and every
// other byte unchanged (s itself when it has no upper-case letter).
// Providers use it at configuration time for header names and schemes.
func LowerASCII(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s // already lower-case: no copy
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// EqualLowerASCII reports whether s, ASCII-lower-cased, equals lowerWant
// (which the caller lower-cased once, with LowerASCII). It does not
// allocate, so providers use it per request to match a scheme word in any
// case.
func EqualLowerASCII(s, lowerWant string) bool {
	if len(s) != len(lowerWant) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerWant[i] {
			return false
		}
	}
	return true
}
