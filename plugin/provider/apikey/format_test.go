package apikey

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestHash(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	const want = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Hash("abc"); got != want {
		t.Fatalf("Hash(abc) = %s", got)
	}
}

func TestGenerate(t *testing.T) {
	key, err := Generate("ci-bot", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "tg_ci-bot_") || len(key) != len("tg_ci-bot_")+randomChars {
		t.Fatalf("bad shape %q", key)
	}
	for _, c := range key[len("tg_ci-bot_"):] {
		if !strings.ContainsRune(base62, c) {
			t.Fatalf("non-base62 %q in key", c)
		}
	}
	other, _ := Generate("ci-bot", rand.Reader)
	if other == key {
		t.Fatal("two keys are equal")
	}
}

func TestGenerateRejectionSampling(t *testing.T) {
	// Bytes 248..255 must be skipped, 0..247 map to base62[b%62].
	src := bytes.Repeat([]byte{255, 0, 61, 62, 247, 248}, 64)
	key, err := Generate("x", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("0z0z", 11)[:randomChars]
	if got := key[len("tg_x_"):]; got != want {
		t.Fatalf("random part = %s, want %s", got, want)
	}
}

func TestGenerateErrors(t *testing.T) {
	cases := []struct {
		name string
		id   string
		src  []byte
		want error
	}{
		{"underscore in id", "a_b", make([]byte, 4096), ErrBadID},
		{"empty id", "", make([]byte, 4096), ErrBadID},
		{"long id", strings.Repeat("a", 65), make([]byte, 4096), ErrBadID},
		{"stuck source", "a", bytes.Repeat([]byte{255}, 4096), ErrBadRandom},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := Generate(c.id, bytes.NewReader(c.src))
			if !errors.Is(err, c.want) || key != "" {
				t.Fatalf("got (%q, %v), want %v", key, err, c.want)
			}
		})
	}
	if _, err := Generate("a", bytes.NewReader(nil)); err == nil {
		t.Fatal("short read must fail")
	}
}
