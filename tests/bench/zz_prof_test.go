package bench

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestZZProf(t *testing.T) {
	ctx := context.Background()
	wasm, _ := os.ReadFile("../../build/tokengate.wasm")
	guest, err := BuildGuest()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSuite(ctx, wasm, guest)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Profile(ctx, strings.Split(os.Getenv("ZZ_SCHEMES"), ","), 300, "/tmp/zzprof2"); err != nil {
		t.Fatal(err)
	}
}
