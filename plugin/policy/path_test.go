package policy

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/tokengate/tokengate/plugin/provider"
)

func TestNormalisePath(t *testing.T) {
	cases := []struct {
		name string
		in   string
		fold bool
		want string // "" means refused with bad_request
	}{
		{"root", "/", false, "/"},
		{"plain", "/api/v1/items", false, "/api/v1/items"},
		{"trailing slash", "/admin/", false, "/admin"},
		{"duplicate slashes", "//admin//users///", false, "/admin/users"},
		{"dot segment", "/./admin/./x", false, "/admin/x"},
		{"dot dot", "/public/../admin", false, "/admin"},
		{"encoded dot dot", "/public/%2e%2e/admin", false, "/admin"},
		{"mixed case encoded dot dot", "/public/%2E%2e/admin", false, "/admin"},
		{"half encoded dot dot", "/public/.%2e/admin", false, "/admin"},
		{"dot dot above root", "/../admin", false, ""},
		{"encoded dot dot above root", "/%2e%2e/admin", false, ""},
		{"path params", "/admin;jsessionid=1/users", false, "/admin/users"},
		{"tomcat dot dot params", "/public/..;/admin", false, "/admin"},
		{"params only segment", "/a/;x/b", false, "/a/b"},
		{"encoded slash upper", "/admin%2Fusers", false, ""},
		{"encoded slash lower", "/public%2f..%2fadmin", false, ""},
		{"encoded question mark", "/admin%3F", false, ""},
		{"encoded hash", "/%230", false, ""},
		{"encoded backslash", "/admin%5cusers", false, ""},
		{"raw backslash", "/public\\..\\admin", false, ""},
		{"raw NUL", "/admin\x00.json", false, ""},
		{"encoded NUL", "/admin%00.json", false, ""},
		{"encoded newline", "/admin%0a", false, ""},
		{"raw DEL", "/a\x7f", false, ""},
		{"invalid UTF-8 raw", "/caf\xe9", false, ""},
		{"invalid UTF-8 encoded", "/caf%e9", false, ""},
		{"valid UTF-8 encoded", "/caf%C3%A9", false, "/café"},
		{"double encoding", "/%252e%252e/admin", false, ""},
		{"overlong UTF-8 dot", "/public/%c0%ae%c0%ae/admin", false, ""},
		{"overlong UTF-8 slash", "/public%c0%afadmin", false, ""},
		{"encoded semicolon is a parameter too", "/admin%3Bx/users", false, "/admin/users"},
		{"percent literal", "/100%25", false, "/100%"},
		{"bad escape", "/a%zz", false, ""},
		{"truncated escape", "/a%4", false, ""},
		{"not absolute", "admin", false, ""},
		{"asterisk form", "*", false, ""},
		{"empty", "", false, ""},
		{"fragment", "/admin#x", false, ""},
		{"case kept", "/Admin", false, "/Admin"},
		{"case folded", "/ADMIN/Users", true, "/admin/users"},
		{"encoded letters decoded", "/%61dmin", false, "/admin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalisePath(c.in, c.fold)
			if c.want == "" {
				if err == nil {
					t.Fatalf("NormalisePath(%q) = %q, want refusal", c.in, got)
				}
				if !errors.Is(err, &provider.Error{Reason: provider.ReasonBadRequest}) {
					t.Fatalf("error %v is not bad_request", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("NormalisePath(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestNormalisePathDeep(t *testing.T) {
	// More segments than the stack array holds must still work.
	in, want := "", ""
	for i := 0; i < 100; i++ {
		in += "/s"
		want += "/s"
	}
	in += "/../x"
	want = want[:len(want)-2] + "/x"
	got, err := NormalisePath(in, false)
	if err != nil || got != want {
		t.Fatalf("deep path: %q %v", got, err)
	}
}

func TestHostOf(t *testing.T) {
	cases := map[string]string{
		"API.Example.Test":      "api.example.test",
		"api.example.test:8443": "api.example.test",
		"api.example.test.":     "api.example.test",
		"[::1]:8080":            "[::1]",
		"[::1]":                 "[::1]",
		"10.0.0.1:80":           "10.0.0.1",
		"":                      "",
	}
	for in, want := range cases {
		if got := HostOf(in); got != want {
			t.Errorf("HostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalisePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%2e%2e/", "/a;b/c", "//x", "/%C3%A9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalisePath(in, false)
		if err != nil {
			return
		}
		// A normalised path is a fixed point, except where decoding
		// produced a byte that means something raw ('%', ';', '#', '?').
		if !containsAny(out, "%;#?") {
			again, err := NormalisePath(out, false)
			if err != nil || again != out {
				t.Fatalf("not a fixed point: %q -> %q, %v", out, again, err)
			}
		}
		if out[0] != '/' || (len(out) > 1 && out[len(out)-1] == '/') {
			t.Fatalf("bad shape %q", out)
		}
	})
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

// TestNormalPathNotCopied: a path that is already normal comes back as the
// same string (no allocation per request for the common case); one that
// changes comes back new.
func TestNormalPathNotCopied(t *testing.T) {
	for _, c := range []struct {
		in   string
		same bool
	}{{"/", true}, {"/open/x", true}, {"/api/v1/items/" + strings.Repeat("x", 100), true}, {"/a//b", false}, {"/a/./b", false}, {"/a%41", false}} {
		got, err := NormalisePath(c.in, false)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if same := unsafe.StringData(got) == unsafe.StringData(c.in); same != c.same {
			t.Errorf("%q -> %q: same string %v, want %v", c.in, got, same, c.same)
		}
	}
}
