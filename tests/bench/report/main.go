// Command report runs tests/bench's measurements several rounds and writes
// REPORT.md and cost.png (make bench):
//
//	go run ./tests/bench/report -wasm build/tokengate.wasm -out bench -long
//
// Medians are over rounds; every ratio is computed inside one round (both
// sides measured minutes apart at most on the same loaded machine) and its
// median is reported. -long adds the 1,000,000-request memory checkpoint
// the memory target names (make bench passes it; it is most of the
// run's time).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/tests/bench"
)

func main() {
	testing.Init()
	wasmPath := flag.String("wasm", "build/tokengate.wasm", "built module")
	out := flag.String("out", "bench", "output directory for REPORT.md and cost.png")
	rounds := flag.Int("rounds", 5, "rounds of every per-request case")
	benchtime := flag.String("benchtime", "300ms", "time per case per round")
	memN := flag.String("mem", "10000,100000", "memory checkpoints (requests, comma separated)")
	long := flag.Bool("long", false, "add the 1,000,000-request memory checkpoint")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		log.Fatal(err)
	}
	var cps []int
	for _, f := range strings.Split(*memN, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			log.Fatalf("bad -mem checkpoint %q", f)
		}
		cps = append(cps, n)
	}
	if *long {
		cps = append(cps, 1000000)
	}
	sort.Ints(cps)
	if err := run(*wasmPath, *out, *rounds, cps, *long); err != nil {
		log.Fatal(err)
	}
}

// bareTargets are the targets that divide a wasm case by a bare
// primitive of the same round.
var bareTargets = []struct{ scheme, bare, label string }{
	{"jwt-eddsa", "ed25519", "JWT EdDSA ÷ bare ed25519.Verify (fresh jti each request)"},
	{"jwt-es256", "ecdsa-p256", "JWT ES256 ÷ bare ECDSA P-256 verify (fresh jti each request)"},
	{"jwt-rs256", "rsa-2048", "JWT RS256 ÷ bare RSA-2048 verify (fresh jti each request)"},
	{"jwt-eddsa-once", "ed25519", "JWT EdDSA, single use (each jti through the replay guard) ÷ bare ed25519.Verify"},
}

// measureOrder is the order cases are measured in within a round: the
// report's order, except that each bare primitive of bareTargets runs
// right after its (first) wasm case. On a machine shared with other jobs the load drifts
// over a round; a ratio of two measurements taken seconds apart carries
// less of that drift than one of measurements a minute apart.
func measureOrder(cases []bench.Case) []int {
	pos := map[string]int{}
	for i, c := range cases {
		pos[c.Name()] = i
	}
	var order []int
	placed := map[int]bool{}
	add := func(i int) {
		if !placed[i] {
			placed[i] = true
			order = append(order, i)
		}
	}
	for i, c := range cases {
		add(i)
		for _, t := range bareTargets {
			if c.Name() == bench.GroupWasm+"/"+t.scheme {
				if j, ok := pos[bench.GroupBare+"/"+t.bare]; ok {
					add(j)
				}
			}
		}
	}
	return order
}

// result is one case over all rounds.
type result struct {
	c      bench.Case
	ns     []float64
	allocs []float64
	bytes  []float64
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func run(wasmPath, outDir string, rounds int, cps []int, long bool) error {
	start := time.Now()
	ctx := context.Background()
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return fmt.Errorf("%v (run make wasm)", err)
	}
	guest, err := bench.BuildGuest()
	if err != nil {
		return err
	}
	s, err := bench.NewSuite(ctx, wasm, guest)
	if err != nil {
		return err
	}
	defer s.Close()

	cases := s.Cases()
	res := make([]*result, len(cases))
	idx := map[string]int{}
	for i, c := range cases {
		res[i] = &result{c: c}
		idx[c.Name()] = i
	}
	// perRound[name][round] is ns/op, for in-round ratios.
	order := measureOrder(cases)
	for r := 0; r < rounds; r++ {
		log.Printf("round %d/%d", r+1, rounds)
		for _, i := range order {
			c := cases[i]
			br := testing.Benchmark(c.Bench)
			if br.N == 0 {
				return fmt.Errorf("%s failed (run go test -bench 'Cost' ./tests/bench for its message)", c.Name())
			}
			res[i].ns = append(res[i].ns, float64(br.NsPerOp()))
			res[i].allocs = append(res[i].allocs, float64(br.AllocsPerOp()))
			res[i].bytes = append(res[i].bytes, float64(br.AllocedBytesPerOp()))
		}
	}
	// Fresh-credential cases must never have hit a cache: the providers
	// below only ever see fresh tokens.
	for _, name := range []string{"tokengate.jwt_es.cache_hit", "tokengate.jwt_rs.cache_hit"} {
		if m, _ := s.Host().Metric(name); m.Value != 0 {
			return fmt.Errorf("%s = %d: a fresh-credential case hit the cache, its numbers are wrong", name, m.Value)
		}
	}
	ratio := func(num, den string) float64 {
		a, b := res[idx[num]], res[idx[den]]
		var rs []float64
		for r := range a.ns {
			rs = append(rs, a.ns[r]/b.ns[r])
		}
		return median(rs)
	}
	// (scheme − floor) ÷ bare: the verification's own cost against the
	// primitive, with the host's per-stream cost taken out.
	netRatio := func(num, den string) float64 {
		a, f, b := res[idx[num]], res[idx["wasm/floor"]], res[idx[den]]
		var rs []float64
		for r := range a.ns {
			rs = append(rs, (a.ns[r]-f.ns[r])/b.ns[r])
		}
		return median(rs)
	}

	log.Printf("start-up")
	var compiles, starts []float64
	for i := 0; i < 3; i++ {
		d, err := s.CompileTime(ctx)
		if err != nil {
			return err
		}
		compiles = append(compiles, float64(d))
	}
	var minStarts []float64
	for i := 0; i < 5; i++ {
		d, err := s.StartTime(ctx)
		if err != nil {
			return err
		}
		starts = append(starts, float64(d))
		if d, err = s.StartTimeMinimal(ctx); err != nil {
			return err
		}
		minStarts = append(minStarts, float64(d))
	}
	log.Printf("allocations")
	type allocRow struct {
		c bench.AllocCase
		n float64
	}
	var allocRows []allocRow
	for _, c := range s.AllocCases() {
		n, err := s.VerifierAllocs(c)
		if err != nil {
			return fmt.Errorf("%s: %v", c.Scheme, err)
		}
		allocRows = append(allocRows, allocRow{c, n})
	}
	log.Printf("guest profile")
	profSchemes := []string{"floor", "api-key", "scoped-token", "jwt-reused", "jwt-eddsa", "jwt-eddsa-once", "jwt-rs256", "httpsig-hmac"}
	profs, err := s.Profile(ctx, profSchemes, 200, filepath.Join(filepath.Dir(wasmPath), "bench-profiles"))
	if err != nil {
		return err
	}
	log.Printf("memory run %v", cps)
	memStart := time.Now()
	mem, err := s.MemRun(ctx, cps)
	if err != nil {
		return err
	}
	memDur := time.Since(memStart)

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	chart := filepath.Join(outDir, "cost.png")
	if err := drawChart(chart, res, idx); err != nil {
		return err
	}

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# tokengate: per-request cost (issue 7)\n\n")
	p("Generated by `make bench` (`go run ./tests/bench/report %s`) on %s in %s. ", strings.Join(os.Args[1:], " "),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), time.Since(start).Round(time.Second))
	p("Do not edit: run it again.\n\n")
	p("## Machine\n\n")
	p("| | |\n| --- | --- |\n")
	p("| CPU | %s (%d logical CPUs visible, shared with other jobs while measured) |\n", cpuModel(), runtime.NumCPU())
	p("| OS/arch | %s/%s |\n", runtime.GOOS, runtime.GOARCH)
	p("| Go | %s |\n", runtime.Version())
	p("| wazero | %s (default engine: the optimizing compiler on amd64/arm64) |\n", modVersion("github.com/tetratelabs/wazero"))
	p("| golang-jwt | %s |\n", modVersion("github.com/golang-jwt/jwt/v5"))
	p("| Module | `%s`, %d bytes |\n", wasmPath, len(wasm))
	p("| Method | %d rounds × every case, `testing.Benchmark` at %s per case; medians of rounds; ratios computed per round, median reported; each JWT case is measured right before its bare primitive |\n\n",
		rounds, flag.Lookup("test.benchtime").Value.String())

	p("## Targets\n\n")
	p("| Target | Measured | Limit | Verdict |\n| --- | --- | --- | --- |\n")
	missedIDs := map[string]bool{}
	verdict := func(ok bool, id string) string {
		if ok {
			return "met"
		}
		missedIDs[id] = true
		return "**missed** ([why](#" + id + "))"
	}
	for _, x := range bareTargets {
		v := ratio("wasm/"+x.scheme, "bare/"+x.bare)
		p("| %s | %.2f× (without the floor: %.2f×) | ≤ 1.10× | %s |\n", x.label, v,
			netRatio("wasm/"+x.scheme, "bare/"+x.bare), verdict(v <= 1.10, "jwt-vs-bare"))
	}
	for _, x := range []struct{ scheme, label string }{
		{"api-key", "api-key"}, {"ip-rule", "ip-rule"}, {"rolling-hmac", "rolling-hmac"}, {"rolling-m2m", "rolling-m2m"},
		{"scoped-token", "scoped-token (a token used again: verified-token cache hit)"},
		{"scoped-token-fresh", "scoped-token, a new token every request (cache miss)"},
	} {
		v := ratio("wasm/"+x.scheme, "wasm/floor")
		p("| %s ÷ pass-through floor | %.2f× | ≤ 3× | %s |\n", x.label, v, verdict(v <= 3, "shared-secret-vs-floor"))
	}
	v := ratio("wasm/jwt-reused", "wasm/floor")
	p("| reused JWT (cache hit) ÷ floor | %.2f× | ≤ 1.5× | %s |\n", v, verdict(v <= 1.5, "cache-hit"))
	reusedNs := median(res[idx["wasm/jwt-reused"]].ns)
	gjNs := median(res[idx["golang-jwt/jwt-eddsa"]].ns)
	p("| reused JWT in Wasm vs golang-jwt natively, same token | %s vs %s | cheaper | %s |\n", dur(reusedNs), dur(gjNs), verdict(reusedNs < gjNs, "cache-hit"))
	first, last := mem[0], mem[len(mem)-1]
	growth := maxInt(last.LinearMemory) - maxInt(first.LinearMemory)
	label := fmt.Sprintf("after %d requests", last.Requests)
	if !long {
		label += " (run without `-long`, which measures 1,000,000)"
	}
	whyMem := "linear-memory"
	for _, m := range last.LinearMemory {
		if m >= 1<<30 {
			whyMem = "linear-memory-limit"
		}
	}
	for _, f := range last.Failed {
		if f != "" {
			whyMem = "linear-memory-limit"
		}
	}
	p("| linear memory %s − after %d | %s per VM | ≤ 1 MiB | %s |\n", label, first.Requests, mib(growth), verdict(growth <= 1<<20, whyMem))
	replayOK := true
	var replayTxt []string
	for _, pt := range mem {
		for ns, n := range pt.ReplayEntries {
			bound := bench.ReplayMaxEntries
			if strings.HasPrefix(ns, "jwt/") {
				bound = 65536 // see findings: the JWT guard ignores replay.max_entries
			}
			if n > bound {
				replayOK = false
			}
			if pt.Requests == last.Requests {
				replayTxt = append(replayTxt, fmt.Sprintf("%s: %d ≤ %d", ns, n, bound))
			}
		}
	}
	sort.Strings(replayTxt)
	p("| replay store entries (live, after %d requests) | %s | configured bound | %s |\n", last.Requests, strings.Join(replayTxt, "; "), verdict(replayOK, "replay-bound"))
	zeroOK := true
	var missed []string
	for _, r := range allocRows {
		if r.n != 0 {
			zeroOK = false
			missed = append(missed, fmt.Sprintf("%s %.0f", r.c.Scheme, r.n))
		}
	}
	p("| heap allocations per verification, native shared-secret verifiers | %s | 0 | %s |\n",
		orText(strings.Join(missed, ", "), "0 for all "+strconv.Itoa(len(allocRows))), verdict(zeroOK, "allocations"))
	p("| module size | %s | ≤ 4 MiB | %s |\n", mib(len(wasm)), verdict(len(wasm) <= 4<<20, "module-size"))
	st := median(starts)
	p("| instantiate + configure, per VM, after compilation | %s | ≤ 30 ms | %s |\n\n", dur(st), verdict(st <= float64(30*time.Millisecond), "start-up"))

	p("![per-request cost](cost.png)\n\n")
	p("## Per-request cost\n\n")
	p("Wasm rows are one whole stream in hostsim (context create, request headers, log, done, delete) on one worker VM, ")
	p("at Istio's warn log level. Bare rows are the primitive alone in a tiny guest built by the same toolchain in the same ")
	p("runtime, on the bytes the plugin verifies (JWT signing input and signature; HMAC-SHA256 over the same input). ")
	p("Native rows call the provider's `Verify` directly (request view built per call); golang-jwt verifies the same ")
	p("tokens with issuer, audience, exp and an algorithm allow-list. Allocations of wasm rows are the host's (hostsim's) Go heap.\n\n")
	p("| Case | median | min | max | × floor | allocs/op | B/op |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range res {
		sorted := append([]float64(nil), r.ns...)
		sort.Float64s(sorted)
		xf := ""
		if r.c.Group != bench.GroupNative && r.c.Group != bench.GroupGJWT && r.c.Group != bench.GroupPrim {
			xf = fmt.Sprintf("%.2f", ratio(r.c.Name(), "wasm/floor"))
		}
		p("| %s | %s | %s | %s | %s | %.0f | %.0f |\n", r.c.Name(), dur(median(r.ns)), dur(sorted[0]), dur(sorted[len(sorted)-1]),
			xf, median(r.allocs), median(r.bytes))
	}
	p("\n## Start-up and size\n\n| | |\n| --- | --- |\n")
	p("| module size | %d bytes (%s) |\n", len(wasm), mib(len(wasm)))
	p("| compile (fresh runtime, no cache), median of %d | %s |\n", len(compiles), dur(median(compiles)))
	p("| instantiate + configure per VM (StartPlugin with 1 worker = base, canary, worker VMs; ÷ 3), median of %d | %s |\n", len(starts), dur(st))
	p("| the same with a one-rule configuration and no provider (`%s`) | %s |\n\n", bench.MinimalConfig, dur(median(minStarts)))
	if sz, err := bench.MeasureModuleSize(wasm); err == nil {
		p("Where the bytes are (tests/bench/size.go): code %d, data %d in %d segments (%d written, %d segment headers; ",
			sz.Code, sz.Data, sz.DataSegments, sz.DataPayload, sz.DataHeaders)
		p("%d segments carry more header than payload, %d bytes of header for %d, the runtime's findfunctab), ",
			sz.HeaderHeavySegments, sz.HeaderHeavyHeaders, sz.HeaderHeavyPayload)
		p("function names %d, everything else %d. Code by Go package, largest first: ", sz.Names, sz.Other)
		for i, pk := range sz.Packages {
			if i == 12 {
				break
			}
			if i > 0 {
				p(", ")
			}
			p("%s %d", pk.Package, pk.Bytes)
		}
		p(".\n\n")
	} else {
		p("Size breakdown unavailable: %v\n\n", err)
	}

	p("## Memory\n\n")
	p("Mixed requests (pass-through, API key, IP rule, both rolling-code modes, scoped token, fresh EdDSA JWT, ")
	p("fresh single-use EdDSA JWT, reused JWT, HMAC HTTP signature with a nonce, introspection hit) round-robin on two worker VMs; ")
	p("the host clock moves 10 s every 1000 requests, so single-use values expire and the replay store recycles them. ")
	p("The whole run took %s. Host heap is hostsim's Go heap after a GC (the guest's Go heap lives inside its linear memory, which never shrinks).\n\n", memDur.Round(time.Second))
	p("| Requests | linear memory VM 0 | VM 1 | host Go heap | replay entries | refused |\n| ---: | ---: | ---: | ---: | --- | ---: |\n")
	for _, pt := range mem {
		var re []string
		for ns, n := range pt.ReplayEntries {
			re = append(re, fmt.Sprintf("%s %d", ns, n))
		}
		sort.Strings(re)
		lm := func(i int) string {
			if i < len(pt.LinearMemory) {
				return mib(pt.LinearMemory[i])
			}
			return "?"
		}
		p("| %d | %s | %s | %s | %s | %d |\n", pt.Requests, lm(0), lm(1), mib(int(pt.HostHeap)), strings.Join(re, ", "), pt.Refused)
	}
	p("\n")
	for _, pt := range mem {
		var ks []string
		for k := range pt.Refusals {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool { return pt.Refusals[ks[i]] > pt.Refusals[ks[j]] })
		if len(ks) > 8 {
			ks = ks[:8]
		}
		for _, k := range ks {
			p("- after %d requests: %d × `%s`\n", pt.Requests, pt.Refusals[k], k)
		}
		for i, f := range pt.Failed {
			if f != "" {
				p("- after %d requests: worker VM %d failed: `%.200s`\n", pt.Requests, i, f)
			}
		}
	}
	p("\n")
	p("## Where the time goes inside the guest\n\n")
	p("One host compiled with `hostsim/guestprof` (wazero function listeners on every function), 200 requests per ")
	p("scheme. Self time in µs per request, calls per request in parentheses; `env.*` rows are host functions ")
	p("(hostsim's work for the guest). Each call crosses into the listener twice, which lands in the caller's self ")
	p("time, so totals run several times the benchmark's and functions making many small calls look dearer than they are; ")
	p("the call counts are exact. The pprof files (`go tool pprof -sample_index=self -top <file>`) are in `%s`.\n\n",
		filepath.Join(filepath.Dir(wasmPath), "bench-profiles"))
	for _, sc := range profSchemes {
		g := profs[sc]
		perReq := func(d time.Duration) float64 { return float64(d) / 1e3 / float64(g.Requests) }
		p("**%s**: %.0f µs per request with listeners, %.0f calls. Top by self time: ", sc, perReq(g.Total), g.Calls)
		for i, f := range g.Functions {
			if i == 8 {
				break
			}
			if i > 0 {
				p(", ")
			}
			p("`%s` %.1f (%.0f)", shortName(f.Name), perReq(f.Self), float64(f.Calls)/float64(g.Requests))
		}
		p(".\n\n")
	}
	p("## Zero-allocation verifiers\n\n| Scheme | provider | allocs/verification |\n| --- | --- | ---: |\n")
	for _, r := range allocRows {
		p("| %s | `%s` | %.0f |\n", r.c.Scheme, r.c.Provider, r.n)
	}
	p("\n")
	p("## Missed targets: why, and what would close them\n\n")
	if len(missedIDs) == 0 {
		p("None in this run.\n\n")
	}
	for _, m := range missedExplanations {
		if missedIDs[m.id] {
			p("<a id=\"%s\"></a>\n%s\n\n", m.id, m.text)
		}
	}
	b.WriteString(findings)
	if err := os.WriteFile(filepath.Join(outDir, "REPORT.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s and %s in %s", filepath.Join(outDir, "REPORT.md"), chart, time.Since(start).Round(time.Second))
	return nil
}

// shortName drops the module path prefix Go writes into wasm names.
func shortName(n string) string {
	n = strings.TrimPrefix(n, "github.com_tokengate_tokengate_")
	return strings.TrimPrefix(n, "crypto_internal_fips140_")
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		if x > m {
			m = x
		}
	}
	return m
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func mib(n int) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func modVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "?"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "?"
}
