package httpsig

import "github.com/tokengate/tokengate/plugin/provider"

// Allocating conveniences over the scratch-based request path, for tests
// and fuzz targets.

// parseDict parses s into a fresh dict.
func parseDict(s string) ([]member, error) {
	var d dict
	err := d.parse(s)
	return d.members, err
}

// serialize returns the canonical inner list and parameters.
func (m *member) serialize() string { return string(m.appendSerialized(nil)) }

// signatureBase builds the RFC 9421 §2.5 signature base.
func signatureBase(req *provider.Request, m *member) (string, error) {
	b, err := appendSignatureBase(nil, req, m)
	return string(b), err
}
