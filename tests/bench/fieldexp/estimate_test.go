package fieldexp

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/tests/bench"
)

// chunk is how many field operations one timed guest call performs in
// BenchmarkEstimate: long enough that the call's own cost (about a
// microsecond) is noise, short enough that a preempted chunk is rare.
const chunk = 2000

// Names of Go's field functions other than Mul and Square in the name
// section (their carryPropagate is inlined into them).
const (
	feAddName = "crypto_internal_fips140_edwards25519_field.__Element_.Add"
	feSubName = "crypto_internal_fips140_edwards25519_field.__Element_.Subtract"
)

// minTimer keeps the fastest of repeated timings per key: on a shared
// machine the minimum is the cost without interference.
type minTimer map[string]float64

func (m minTimer) time(key string, ops int, f func()) {
	start := time.Now()
	f()
	per := float64(time.Since(start).Nanoseconds()) / float64(ops)
	if old, ok := m[key]; !ok || per < old {
		m[key] = per
	}
}

// BenchmarkEstimate answers the experiment's question in one run. Each
// iteration times, interleaved, a chunk of every field operation with
// every implementation in the guest and one whole ed25519.Verify in
// tests/bench's bare guest; the fastest of each over all iterations is
// reported (ns per field operation, µs per verify); native Mul and Square
// are timed alongside. From the field calls
// one Verify makes (counted once, before timing, with wazero listeners) it
// reports the estimated verify time if Go's field were replaced:
//
//	est-fe10-us:         10-limb Mul, Square, Add, Sub (no extra carries)
//	est-fe10-carried-us: the same with a Carry after every Add and Sub
//	est-fe51inline-us:   only Mul and Square replaced by the inline 5×51
//
// and the speed-ups (verify ÷ estimate). It also times the same bare guest
// built with each overlay (overlay_test.go): verify-fe10-us is
// ed25519.Verify measured on the 10-limb field (with carrying Add and
// Subtract), verify-fe51inline-us on Go's field with Element51's call-free
// Mul and Square, to hold the estimates against; verify-pgo-us is Go's
// code unchanged, built with -pgo (see verifyProfile).
func BenchmarkEstimate(b *testing.B) {
	ctx := context.Background()
	counts := verifyCallCounts(b)
	g := newGuest(ctx, b)
	wasm, err := bench.BuildGuest()
	if err != nil {
		b.Fatal(err)
	}
	pub, msg, sig := ed25519Input()
	bare, err := bench.NewBare(ctx, wasm, bench.BareEd25519, false, pub, msg, sig)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close(ctx)
	// The same guest built with each overlay: its ed25519.Verify on the
	// 10-limb field, and on Go's field with call-free Mul and Square.
	// And Go's field unchanged, built with a profile (-pgo) that inlines
	// the multiply's helpers.
	overlaid := map[string]*bench.Bare{}
	builds := map[string][]string{"pgo": {"-pgo", verifyProfile(b)}}
	for _, v := range overlayVariants {
		builds[v] = []string{"-overlay", writeOverlay(b, b.TempDir(), v)}
	}
	for v, flags := range builds {
		bare, err := bench.NewBare(ctx, buildBare(b, flags...), bench.BareEd25519, false, pub, msg, sig)
		if err != nil {
			b.Fatal(err)
		}
		defer bare.Close(ctx)
		overlaid[v] = bare
	}
	m := minTimer{}
	native := nativeCases()
	fail := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		for _, o := range ops {
			for _, im := range impls {
				if !supported(im.impl, o.op) {
					continue
				}
				m.time(o.name+"/"+im.name, chunk, func() {
					_, err := g.call(ctx, im.impl, o.op, chunk)
					fail(err)
				})
			}
		}
		m.time("verify", 1, func() { fail(bare.Run(ctx)) })
		for v, bare := range overlaid {
			m.time("verify-"+v, 1, func() { fail(bare.Run(ctx)) })
		}
		for _, k := range []string{"mul/fe10", "mul/fe51", "mul/fe51-inline", "square/fe10", "square/fe51", "square/fe51-inline"} {
			m.time("native-"+k, chunk, func() { native[k](chunk) })
		}
	}
	for k, v := range m {
		if !strings.HasPrefix(k, "verify") {
			b.ReportMetric(v, k+"-ns")
		}
	}
	verify := m["verify"]
	nMul, nSq := float64(counts[feMulName]), float64(counts[feSquareName])
	nAdd, nSub := float64(counts[feAddName]), float64(counts[feSubName])
	mulSq := nMul*(m["mul/fe51"]-m["mul/fe10"]) + nSq*(m["square/fe51"]-m["square/fe10"])
	est10 := verify - mulSq - nAdd*(m["add/fe51"]-m["add/fe10"]) - nSub*(m["sub/fe51"]-m["sub/fe10"])
	carry := m["add+carry/fe10"] - m["add/fe10"]
	est10c := est10 + (nAdd+nSub)*carry
	est51 := verify - nMul*(m["mul/fe51"]-m["mul/fe51-inline"]) - nSq*(m["square/fe51"]-m["square/fe51-inline"])
	b.ReportMetric(verify/1e3, "verify-us")
	for _, v := range append([]string{"pgo"}, overlayVariants...) {
		b.ReportMetric(m["verify-"+v]/1e3, "verify-"+v+"-us")
		b.ReportMetric(math.Round(100*verify/m["verify-"+v])/100, "speedup-measured-"+v)
	}
	for _, e := range []struct {
		name string
		ns   float64
	}{{"fe10", est10}, {"fe10-carried", est10c}, {"fe51inline", est51}} {
		b.ReportMetric(e.ns/1e3, "est-"+e.name+"-us")
		b.ReportMetric(math.Round(100*verify/e.ns)/100, "speedup-"+e.name)
	}
	b.ReportMetric(100*(nMul*m["mul/fe51"]+nSq*m["square/fe51"])/verify, "mulsq-%")
}
