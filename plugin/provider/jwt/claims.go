package jwt

import (
	"strings"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
	"github.com/tokengate/tokengate/plugin/provider/keys/jsonobj"
)

// fillClaims exposes the verified payload: Claims flattened by dotted path
// (arrays of scalars give several values, nested objects extend the path),
// Scopes from "scope" (space-separated) or "scp" (array or string), and the
// configured claim-to-header mappings. Runs only after verification.
func fillClaims(id *provider.Identity, payload []byte, toHeaders []claimHeader) error {
	m := make(map[string][]string, 8)
	if err := flatten(m, "", payload, 0); err != nil {
		return err
	}
	id.Claims = m
	if v := m["scope"]; len(v) == 1 {
		id.Scopes = strings.Fields(v[0])
	} else if v := m["scp"]; len(v) > 0 {
		if len(v) == 1 {
			id.Scopes = strings.Fields(v[0])
		} else {
			id.Scopes = v
		}
	}
	for _, h := range toHeaders {
		v := m[h.claim]
		if len(v) == 0 {
			continue
		}
		joined := strings.Join(v, ",")
		if !headerSafe(joined) {
			continue // never forward a value that could split headers
		}
		id.Headers = append(id.Headers, provider.Header{Name: h.header, Value: joined})
	}
	return nil
}

const maxFlattenDepth = 8

// flatten walks obj; nested objects with duplicate members refuse the
// whole token, like top-level ones.
func flatten(m map[string][]string, prefix string, obj []byte, depth int) error {
	if depth > maxFlattenDepth {
		return nil
	}
	return jsonobj.EachValidated(obj, func(name, value []byte, typ jsonparser.ValueType) error {
		path := string(name)
		if prefix != "" {
			path = prefix + "." + path
		}
		switch typ {
		case jsonparser.Object:
			return flatten(m, path, value, depth+1)
		case jsonparser.Array:
			_, _ = jsonparser.ArrayEach(value, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
				if s, ok := scalar(v, t); ok {
					m[path] = append(m[path], s)
				}
			})
		default:
			if s, ok := scalar(value, typ); ok {
				m[path] = append(m[path], s)
			}
		}
		return nil
	})
}

func scalar(v []byte, t jsonparser.ValueType) (string, bool) {
	switch t {
	case jsonparser.String:
		s, err := jsonparser.ParseString(v)
		return s, err == nil
	case jsonparser.Number, jsonparser.Boolean:
		return string(v), true
	}
	return "", false
}

// headerSafe refuses control characters (CR, LF, NUL, ...) in header values.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
