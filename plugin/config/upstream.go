package config

import (
	"strconv"

	"github.com/tokengate/tokengate/plugin/provider/conf"
)

// Defaults of identity_headers.
const (
	DefaultSubjectHeader  = "x-tokengate-subject"
	DefaultProviderHeader = "x-tokengate-provider"
	DefaultScopesHeader   = "x-tokengate-scopes"
	DefaultRoleHeader     = "x-tokengate-role"
	DefaultRemovePrefix   = "x-tokengate-"
)

// reservedHeaders may not be used as identity headers: overwriting them
// would break the request or smuggle a credential upstream.
var reservedHeaders = []string{
	"host", "authorization", "proxy-authorization", "cookie", "content-length",
	"content-type", "transfer-encoding", "connection", "te", "upgrade", "x-forwarded-for",
}

func (p *parser) identityHeaders(o *conf.Object) IdentityHeaders {
	h := IdentityHeaders{
		Subject: DefaultSubjectHeader, Provider: DefaultProviderHeader,
		Scopes: DefaultScopesHeader, Role: DefaultRoleHeader, RemovePrefix: DefaultRemovePrefix,
	}
	if o == nil {
		return h
	}
	h.Subject = headerName(o, "subject", h.Subject)
	h.Provider = headerName(o, "provider", h.Provider)
	h.Scopes = headerName(o, "scopes", h.Scopes)
	h.Role = headerName(o, "role", h.Role)
	h.RemovePrefix = o.String("remove_prefix", h.RemovePrefix)
	if h.RemovePrefix != "" && (!validHeaderName(h.RemovePrefix) || len(h.RemovePrefix) < 3) {
		o.Fail("remove_prefix", strconv.Quote(h.RemovePrefix)+" must be a lower-case header-name prefix of at least 3 characters")
	}
	if o.Has("remove") {
		h.Remove = o.Strings("remove")
		for i, n := range h.Remove {
			if !validHeaderName(n) {
				o.Fail("remove["+strconv.Itoa(i)+"]", strconv.Quote(n)+" is not a lower-case header name")
			}
		}
	}
	names := []string{h.Subject, h.Provider, h.Scopes, h.Role}
	fields := []string{"subject", "provider", "scopes", "role"}
	for i := range names {
		for j := 0; j < i; j++ {
			if names[i] != "" && names[i] == names[j] {
				o.Fail(fields[i], "same header as "+fields[j])
			}
		}
	}
	o.Done()
	return h
}

// headerName reads an identity header name ("" turns it off).
func headerName(o *conf.Object, field, def string) string {
	n := o.String(field, def)
	if n == "" {
		return ""
	}
	if !validHeaderName(n) {
		o.Fail(field, strconv.Quote(n)+" is not a lower-case header name")
		return n
	}
	for _, r := range reservedHeaders {
		if n == r {
			o.Fail(field, strconv.Quote(n)+" is reserved and cannot carry identity")
		}
	}
	return n
}

// validHeaderName accepts lower-case RFC 9110 tokens (no pseudo-headers).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' ||
			c == '&' || c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}
