package deploy

import (
	"strings"
	"testing"
)

// FuzzRewrite: any input either is refused or comes back with every marked
// value current and every unmarked line untouched; nothing panics.
func FuzzRewrite(f *testing.F) {
	f.Add("sha: " + modA + " # tokengate:module-sha256\n")
	f.Add("url: x@sha256:" + imgC + " # tokengate:image-digest\r\nother: " + modA + "\n")
	f.Add("# tokengate:module-sha256\n")
	f.Add("a: " + modA + modA + " #tokengate:image-digest")
	d := Digests{Module: modB, Image: imgD}
	f.Fuzz(func(t *testing.T, src string) {
		out, _, err := Rewrite([]byte(src), d)
		if err != nil {
			if out != nil {
				t.Fatal("output on error")
			}
			return
		}
		stale, err := Stale(out, d)
		if err != nil || len(stale) != 0 {
			t.Fatalf("after Rewrite: stale=%v err=%v", stale, err)
		}
		in, got := strings.Split(src, "\n"), strings.Split(string(out), "\n")
		if len(in) != len(got) {
			t.Fatalf("line count %d → %d", len(in), len(got))
		}
		for i := range in {
			if !markerRE.MatchString(in[i]) && in[i] != got[i] {
				t.Fatalf("unmarked line %d changed: %q → %q", i+1, in[i], got[i])
			}
		}
	})
}
