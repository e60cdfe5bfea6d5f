package demo

import (
	"strings"
	"testing"
)

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"mint":                    "mint",
		"file:envoy/demo/x":       "file:envoy/demo/x",
		"GET:/scoped":             "GET:/scoped",
		"":                        "''",
		"a b":                     "'a b'",
		"it's":                    `'it'\''s'`,
		"$(rm -rf /)":             "'$(rm -rf /)'",
		"http://h:8080/p?x=1&y=2": "'http://h:8080/p?x=1&y=2'",
	} {
		if got := ShellWord(in); got != want {
			t.Errorf("ShellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWriteExamples(t *testing.T) {
	ex := []Example{
		{Kind: "k", Allowed: true, Status: 200, Note: "ok", Method: "GET", URL: "http://h/a", Fresh: []string{"mint", "x y"}},
		{Kind: "k", Status: 401, Reason: "bad_signature", Note: "no", Method: "DELETE", URL: "http://h/a",
			Headers: [][2]string{{"x-a", "it's"}}},
		{Kind: "other", Allowed: true, Status: 200, Note: "body", Method: "POST", URL: "http://h/b", Body: `{"n":1}`},
	}
	var b strings.Builder
	WriteExamples(&b, ex, "tokengate")
	want := `
## k
# allowed: 200 — ok
curl -i 'http://h/a'
#   fresh credential: tokengate mint 'x y'
# refused: 401 bad_signature — no
curl -i -X DELETE -H 'x-a: it'\''s' 'http://h/a'

## other
# allowed: 200 — body
curl -i --data-binary '{"n":1}' 'http://h/b'
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
