package abi

import (
	"strconv"
	"testing"
)

func samplePairs() [][2]string {
	ps := [][2]string{{":method", "GET"}, {":path", "/api/v1/items?x=1"}, {":authority", "example.com"}}
	for i := range 20 {
		ps = append(ps, [2]string{"x-header-" + strconv.Itoa(i), "value-of-some-length-" + strconv.Itoa(i)})
	}
	return ps
}

// TestDeserializePairsIsZeroCopy: decoding allocates only the result slice; keys and values
// point into the host buffer (see the lifetime note on DeserializePairs).
func TestDeserializePairsIsZeroCopy(t *testing.T) {
	b := SerializePairs(samplePairs())
	if n := testing.AllocsPerRun(100, func() { _, _ = DeserializePairs(b) }); n != 1 {
		t.Errorf("DeserializePairs allocates %v times per call, want 1", n)
	}
}

func BenchmarkDeserializePairs(b *testing.B) {
	buf := SerializePairs(samplePairs())
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		_, _ = DeserializePairs(buf)
	}
}

func BenchmarkSerializePairs(b *testing.B) {
	ps := samplePairs()
	b.ReportAllocs()
	for b.Loop() {
		_ = SerializePairs(ps)
	}
}
