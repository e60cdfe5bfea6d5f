package scopedtoken

import (
	"strings"
	"testing"

	"github.com/buger/jsonparser"
)

// refMatchEndpoints is the matcher scope replaced (one jsonparser walk
// per request, matching as it goes), kept as the reference the compiled
// scope must agree with.
func refMatchEndpoints(endpoints, method, path []byte) (allowed, invalid bool) {
	var unesc [512]byte
	err := jsonparser.ObjectEach(endpoints, func(key, val []byte, typ jsonparser.ValueType, _ int) error {
		known := false
		for _, a := range allowedMethods {
			known = known || string(key) == a
		}
		if !known || typ != jsonparser.Array {
			invalid = true
			return nil
		}
		same := string(key) == string(method)
		_, e := jsonparser.ArrayEach(val, func(p []byte, t jsonparser.ValueType, _ int, _ error) {
			if t != jsonparser.String {
				invalid = true
				return
			}
			if bytesIndexByte(p, '\\') >= 0 {
				out, e := jsonparser.Unescape(p, unesc[:0])
				if e != nil {
					invalid = true
					return
				}
				p = out
			}
			if len(p) == 0 || p[0] != '/' {
				invalid = true
				return
			}
			if same && len(path) >= len(p) && string(path[:len(p)]) == string(p) {
				allowed = true
			}
		})
		if e != nil {
			invalid = true
		}
		return nil
	})
	if err != nil {
		invalid = true
	}
	return allowed, invalid
}

// scopeSeeds are endpoints objects with their requests: valid, invalid,
// escaped and malformed JSON.
var scopeSeeds = []struct {
	name, endpoints, method, path string
}{
	{"plain prefix", `{"GET":["/api/v1/foo"]}`, "GET", "/api/v1/foobar"},
	{"other method", `{"GET":["/api"],"POST":["/up"]}`, "POST", "/up/1"},
	{"HEAD not GET", `{"GET":["/"]}`, "HEAD", "/x"},
	{"unknown request method", `{"GET":["/"]}`, "TRACE", "/x"},
	{"unknown token method", `{"TRACE":["/"],"GET":["/"]}`, "GET", "/x"},
	{"lower-case token method", `{"get":["/"]}`, "GET", "/x"},
	{"escaped method", `{"G\u0045T":["/"]}`, "GET", "/x"},
	{"escaped prefix", `{"GET":["\/caf\u00e9\/"]}`, "GET", "/café/menu"},
	{"bad escape", `{"GET":["/a\q"]}`, "GET", "/a"},
	{"relative prefix", `{"GET":["api"]}`, "GET", "api/x"},
	{"empty prefix", `{"GET":[""]}`, "GET", "/"},
	{"number prefix", `{"GET":[1]}`, "GET", "/"},
	{"not an array", `{"GET":"/"}`, "GET", "/"},
	{"duplicate method", `{"GET":["/a"],"GET":["/b"]}`, "GET", "/b"},
	{"empty", `{}`, "GET", "/"},
	{"empty list", `{"GET":[]}`, "GET", "/"},
	{"truncated", `{"GET":["/a"`, "GET", "/a"},
	{"trailing garbage", `{"GET":["/a"]}x`, "GET", "/a"},
	{"nested", `{"GET":[["/a"]]}`, "GET", "/a"},
	{"every method", `{"GET":["/g"],"POST":["/p"],"PUT":["/u"],"PATCH":["/a"],"DELETE":["/d"],"HEAD":["/h"],"OPTIONS":["/o"]}`, "OPTIONS", "/o"},
	{"long escaped prefix", `{"GET":["/\u0041` + strings.Repeat("a", 600) + `"]}`, "GET", "/Aaaa"},
}

// checkScope compares the compiled scope with the reference on one input;
// sc is reused across calls, as the Verifier reuses its own.
func checkScope(t *testing.T, sc *scope, endpoints, method, path string) {
	t.Helper()
	wantAllowed, wantInvalid := refMatchEndpoints([]byte(endpoints), []byte(method), []byte(path))
	sc.compile([]byte(endpoints))
	gotAllowed := sc.allows([]byte(method), []byte(path))
	if sc.invalid != wantInvalid || (!wantInvalid && gotAllowed != wantAllowed) {
		t.Fatalf("%s %s %q: allowed %v invalid %v, reference %v %v", endpoints, method, path, gotAllowed, sc.invalid, wantAllowed, wantInvalid)
	}
}

func TestScopeMatchesReference(t *testing.T) {
	var sc scope
	for _, s := range scopeSeeds {
		t.Run(s.name, func(t *testing.T) {
			checkScope(t, &sc, s.endpoints, s.method, s.path)
		})
	}
}

// FuzzScopeMatchesReference: for any endpoints object and request, the
// compiled scope says what the previous matcher said (allowed is only
// meaningful when the object is valid: an invalid one is refused first).
func FuzzScopeMatchesReference(f *testing.F) {
	for _, s := range scopeSeeds {
		f.Add(s.endpoints, s.method, s.path)
	}
	var sc scope
	f.Fuzz(func(t *testing.T, endpoints, method, path string) {
		checkScope(t, &sc, endpoints, method, path)
	})
}
