package policy

import (
	"testing"

	"github.com/tokengate/tokengate/plugin/provider"
)

// fuzzPolicy is a small policy with every rule shape whose allow decision
// can be predicted independently of the engine (see FuzzEvaluate).
func fuzzPolicy() *Policy {
	key := &fake{name: "key", scopes: []string{"read"}}
	ip := &fake{name: "ip"}
	return New([]*Rule{
		{Name: "open", Paths: []PathMatch{{Prefix: "/open"}}, Anonymous: true},
		{Name: "api", Paths: []PathMatch{{Prefix: "/api"}}, AnyOf: []provider.Provider{key}},
		{Name: "admin", Paths: []PathMatch{{Prefix: "/admin"}}, AllOf: []provider.Provider{ip, key},
			Scopes: Requirement{AllOf: []string{"write"}}},
	}, Options{})
}

// FuzzEvaluate: for any method, authority, path and credential header the
// evaluation finishes without a callout or a panic; it allows only
// under /open or under /api with a valid key (never /admin, whose scope no
// provider grants); and an Evaluation reused through BeginInto after a
// different request reaches exactly the verdict of a fresh one.
func FuzzEvaluate(f *testing.F) {
	for _, s := range [][4]string{
		{"GET", "/open/x", "key", "ok:bot"}, {"GET", "/api/x", "x-key", "ok:bot"}, {"POST", "/admin", "x-key", "ok:a"},
		{"GET", "/api/../admin", "x-ip", "ok:"}, {"GET", "/API/x", "x-key", "ok:b"}, {"GET", "/open%2f..%2fapi", "x-key", "bad"},
		{"", "/open", "", ""}, {"OPTIONS", "//api//x;p", "x-key", "ok:"},
	} {
		f.Add(s[0], "api.example.test", s[1], s[2], s[3])
	}
	pol := fuzzPolicy()
	reused := &Evaluation{}
	f.Fuzz(func(t *testing.T, method, authority, path, hname, hvalue string) {
		mk := func() *provider.Request {
			return &provider.Request{Method: method, Authority: authority, RawPath: path, Now: 1,
				Headers: []provider.Header{{Name: hname, Value: hvalue}}}
		}
		fresh := pol.Start(mk())
		if !fresh.Done() {
			t.Fatal("evaluation paused without a callout provider")
		}
		v := fresh.Verdict()
		if v.Allow {
			r := mk()
			raw, _ := SplitPath(r.RawPath)
			norm, err := NormalisePath(raw, false)
			switch {
			case err != nil || method == "":
				t.Fatalf("allowed a request the engine must refuse: %q %q", method, path)
			case underPrefix(norm, "/open"):
			case underPrefix(norm, "/api") && hname == "x-key" && len(hvalue) >= 3 && hvalue[:3] == "ok:":
			default:
				t.Fatalf("allowed %q %q (normalised %q) with %q: %q by rule %v", method, path, norm, hname, hvalue, v.Rule.Name)
			}
		}
		// Dirty the reused evaluation with another request first.
		pol.BeginInto(reused, &provider.Request{Method: "GET", RawPath: "/api/x", Authority: "a",
			Headers: []provider.Header{{Name: "x-key", Value: "ok:other"}}})
		reused.Run()
		pol.BeginInto(reused, mk())
		reused.Run()
		w := reused.Verdict()
		if w.Allow != v.Allow || w.Reason != v.Reason || w.Rule != v.Rule || w.Identity.Subject != v.Identity.Subject ||
			len(w.Verified) != len(v.Verified) || len(w.Headers) != len(v.Headers) {
			t.Fatalf("reused evaluation: allow=%v reason=%q subject=%q; fresh: allow=%v reason=%q subject=%q",
				w.Allow, w.Reason, w.Identity.Subject, v.Allow, v.Reason, v.Identity.Subject)
		}
	})
}
