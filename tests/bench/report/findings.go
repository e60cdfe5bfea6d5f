package main

// The analysis behind the numbers. The numbers themselves are measured each
// run and live in the tables above; these texts say why a target is missed
// (each is printed only when its target is missed in the run) and what the
// profiling found. They were written from the measurements, the guest
// profile and reading the code on 2026-11-23/24.

type explanation struct{ id, text string }

var missedExplanations = []explanation{
	{"jwt-vs-bare", `**JWT ÷ bare primitive.** A wasm row is a whole stream, so the pass-through floor (hostsim's
per-stream work plus the filter's: header view, policy, metrics) rides on top of the verification; "without the
floor" takes it out. What is left beyond the primitive, from guest profiles and variant builds on 2026-11-24: strict
parsing of the header and the payload (one pass each since this session, about 25 µs of Go in Wasm), the identity's
claims map (about 13 µs; built for every verified token although only rules with claim requirements read it), the
verified-token cache insert (about 6 µs), the identity headers and credential stripping after the verdict, and for
single-use tokens the replay guard (about 20 µs: a SHA-256 of the key, a get and a compare-and-set of shared data).
About 40 µs more is not instructions but a cold processor cache: the same cached-JWT request costs about twice as
much right after an Ed25519 verification as after another request, because the signature check evicts the filter's
code and data, while the bare benchmark runs its primitive in a warm loop. Natively, a fresh EdDSA JWT now costs
within noise of ed25519.Verify alone (7 allocations, was 37). Closing the rest: build Identity.Claims only for
providers whose rules check claims, and a verifier faster than the standard library's (see "Wasm-friendly crypto"
below), which is the only lever that reaches 1.10× against a warm-loop primitive. On a machine shared with other
jobs, ratios near the limit move by more than 10% between runs: read the min/max columns.`},
	{"shared-secret-vs-floor", `**Shared-secret schemes ÷ floor.** These verifiers allocate nothing natively
(see below), so their cost over the floor is Wasm execution of the check itself plus the work every authenticated
request does after the verdict (identity headers, credential stripping, the counter). A scoped token is the
heaviest: an HMAC-SHA256 over the whole signed value (several SHA-256 blocks, about 3–4 µs each in Wasm), base64 and
a JSON payload with its endpoints object, Django's path quoting, and an extra identity header for the recipient.
This target was met at 2.71× in the previous report, against a floor of 93 µs; the floor is now about 3.5 times
cheaper (see "Where the floor goes") while the scoped token's own work shrank less, so the same verification is a
larger multiple. Replacing jsonparser with the strict one-pass reader the JWT path now uses was tried on
2026-11-24 and measured no faster, so it was not kept. Closing it needs a cheaper SHA-256 in Wasm (Go's generic
block function; no SIMD in this toolchain's wasm target) or fewer hostcalls per authenticated request.`},
	{"cache-hit", `**Reused JWT (cache hit).** The provider's share of a hit is 3–5 µs in Wasm: reading the header,
a 64-bit hash of the token (the cache index; the entry keeps the whole token and a hit compares it in full), the
lookup and the hit counter (a hostcall). The rest over the floor is what every authenticated request does after the
verdict and the floor does not: matching the rules ahead of the route (the bench's JWT rule is the seventh), the
identity headers (replace-header hostcalls for subject and provider), removing the credential header, and the
per-rule counter. This session cut the floor from about 53 µs to about 14 µs, timed on an idle machine (hostsim's interrupt checks off on
both sides of every ratio, source.address fetched only when a rule or provider reads it, no per-request evaluation,
header-view or edits allocation, counters found by rule pointer), so the same absolute extra is now a larger ratio.
Closing it: a prefix index for rule matching instead of a linear scan, and fewer hostcalls for identity headers
(only the configured ones are set; each costs a hostcall in Envoy too). The other half of this target, cheaper in
Wasm than golang-jwt natively, is met.`},
	{"linear-memory-limit", `**A worker VM ran out of linear memory.** One worker's memory reached wazero's
limit here (16384 pages, 1 GiB, hostsim's setting) while the other stayed flat, and from then on its requests
failed (see the refusals under Memory). That is unbounded growth in the guest, not cache warm-up: the
verified-token caches are full long before (they hold 1024 and 4096 entries). Ruled out on 2026-11-24: a
full replay store (60,000 refusals with replay_store_full on two VMs left both memories flat). Not yet
diagnosed: the growth starts after 100,000 requests of the mix, only on one VM, while host time advances
(introspection re-validation after its 60 s TTL, the reused JWT re-minted every 30 s, rolling-code windows).
Next step: run the mix with one scheme removed at a time to the first checkpoint where the VM grows, then a
heap profile of that scheme natively. In Envoy the VM would fail and, with fail_closed, deny every request
on that worker until the VM is reloaded.`},
	{"linear-memory", `**Linear memory growth.** Linear memory never shrinks: the Go runtime grows it when the heap
goal (GOGC=100 over the live heap) exceeds what it has, and the live heap grows with the verified-token
caches (jwt_ed 1024 entries, introspection 4096) until they are full. Growth between two checkpoints that
are both before the caches fill is expected and stops once they are full; compare the rows of the memory
table. A run with -long measures the 1,000,000-request point the target names. Closing a real miss: smaller
cache capacities, or entries that hold a hash instead of the token.`},
	{"replay-bound", `**Replay store bound.** More live entries than configured means the guard's sharding lets a
shard exceed its share; see plugin/replay (entries per shard = max_entries / shards).`},
	{"allocations", `**Zero allocations.** A shared-secret verifier allocated per verification in this run; the
table above names it. http_signature reached zero this session by parsing into reused per-provider buffers, one
keyed HMAC per key that is Reset, a small strict base64 decoder and a reused signature base; the same techniques
apply to any verifier that regresses. TestZeroAllocs fails on any regression.`},
	{"module-size", `**Module size.** The breakdown under "Start-up and size" is measured on every run. The module is
the standard Go (gc) wasip1 build: the runtime (about 1.17 MB of code), the P-256/384/521 stack behind ES* keys
(fiat, nistec, ecdsa, elliptic, ecdh: about 570 KB), math/big and bigmod behind RSA (about 240 KB), time, fmt and
reflect (linked by crypto/rsa, math/big, asn1, hex and jsonparser), our own packages (about 1.03 MB), and a data
section whose 61,735 segments carry about 490 KB of segment headers, most of them for the runtime's findfunctab
(16 buckets per function, because each wasm function spans 65,536 PCs). Measured on 2026-11-24: stripping names
(-ldflags=-s) saves exactly the name section (about 148 KB) and costs the function names in Envoy's trap
backtraces; wasm-opt -Oz (binaryen 108, names kept) saves 5.7% and showed no speed gain; coalescing data segments
saved 131 bytes, so that pass was dropped (the linker already splits only on zero runs longer than a segment header);
all of these together reach about 5.5 MB. The 4 MiB target needs the TinyGo build (make wasm-tinygo; TinyGo is not
installable here, and public figures for other programs suggest 1.4–3.4 MB for ours) or dropping key types.`},
	{"start-up", `**Instantiate + configure.** The second row of "Start-up and size" shows how much of it is the
Go runtime and the filter with a one-rule configuration: that part is _initialize (the Go runtime's
start-up and every package's init, the package initialisers) and the first heap growths of
linear memory, which Envoy pays for every VM (base, canary and one per worker). The rest is parsing the
configuration and building the providers: PEM and key parsing for three JWT and two HTTP-signature keys,
the key table, the rules. Closing it: defer building what a request does not need at start (parse
remote-JWKS and key material lazily on first use per VM), and avoid package-level tables in init. On this
shared machine the figure also carries the load; rerun bench on a quiet machine before acting.`},
}

// findings is the part of the analysis that does not depend on a target
// being missed.
const findings = `## Findings from profiling

**Where the floor goes.** About 14 µs per stream on an idle machine (the tables above ran while other jobs
loaded it), of which roughly 4 µs is hostsim (Go side: building
the stream, six callbacks through wazero, the host functions) and the rest the guest: the header view (one
hostcall whose answer the guest allocates), path normalisation and rule matching, the per-rule counter (a
hostcall), the stream's context object, and the runtime's allocator. Changes of 2026-11-24 that took it from about
53 µs: hostsim's context-done checks are off for the bench (next paragraph), the filter asks for source.address only
when a rule or provider reads the client address (provider.Request.ClientAddr), the evaluation, a header view of up
to 16 headers and the stripping edits live in the stream context instead of three allocations each request, and
request counters are found by rule pointer instead of hashing a four-string key. Earlier, hostsim cached each
export's api.Function per VM (a new wazero call engine per callback before). None of the hostsim changes alter the
plugin's cost in Envoy; the filter changes do.

**hostsim's context-done checks.** By default hostsim runs wazero with WithCloseOnContextDone(true) so a test
can stop a hung guest: a check in every loop and function entry and a watcher goroutine per callback. The bench
turns it off on both sides of every ratio (hostsim Config.WithInterruptible(false); Envoy's V8 has neither cost).
The -interruptible bare rows keep what it would cost: big-number loops (RSA) run several times slower with it.

**Allocations, copies, header reads, JSON.** Native verifiers of every shared-secret scheme, http_signature
included since this session, allocate nothing per verification. A fresh EdDSA JWT went from 37 to 7 allocations
natively and from about 96 to 39 heap allocations in the guest: one strict pass per JSON object (jsonobj.Object)
that validates and reads the claims, base64 straight from the token into reused buffers, the identity's claims from
one string (jsonobj.Flattener), replay keys built in scratch (replay.Guard.UseBytes, provider.BytesReplayGuard),
ES256 signatures handed to crypto/ecdsa as DER without big.Int, and a verified-token cache indexed by a 64-bit hash
whose ring slots reuse their token buffers. Every new parser is fuzzed differentially against the old one or the
standard library.

**Wasm-friendly crypto (measured 2026-11-24, not adopted in the module).** Go's crypto has no assembly for
wasm, and bits.Mul64 is not an intrinsic there, so every 64×64→128 product is emulated. For Ed25519 the
experiment in tests/bench/fieldexp found the larger cost elsewhere: on wasm the inliner does not inline the field
multiply's helpers addMul19/addMul38 (cost 91 and 93 against a budget of 80; 49 on amd64), which makes 23,144 real
calls per verification. Whole ed25519.Verify in wazero: 547 µs as built, 435 µs built with PGO (a native purego
profile, no code change; it does nothing measurable for ECDSA or RSA), 331 µs with Go's own field where Mul/Square
are written without the helper calls, 310 µs on a 10-limb (26/25-bit) field; the last two swapped in with go build
-overlay and checked against Go's own edwards25519/ed25519 tests and a differential of 1,000,000 signatures
(valid, damaged, S+L, small-order points, every non-canonical encoding) against an untouched implementation.
Recommendation: report the inlining to Go upstream; meanwhile the call-free Mul/Square overlay is the cheap lever
(1.65× on every Ed25519 verification); a whole 10-limb Ed25519 gains little more for far more review. Adopting an
overlay changes the shipped module, so the bare guest must be built the same way for the ratios to stay honest.
For RSA, a verify-only PKCS#1 v1.5 implementation with per-key Montgomery constants (no per-call modulus
rebuild, which a guest profile shows as about 30% of crypto/rsa's verify on Go 1.26) was built and proven equal to
crypto/rsa over 1,000,000 differential inputs, then measured only about 4% faster in wazero: its Montgomery
multiply is slower per call than crypto/rsa's Wasm loop, which ate the saving. It is not in the module (branch
perf-rsa keeps it); a dedicated squaring and a fused multiply-reduce pass would be the next steps. ECDSA has no
cheaper lever here: PGO does nothing for it and its cost is the standard library's P-256 arithmetic.

**Seen once, not yet explained: a worker VM grew to the memory limit under a full replay store.** An
earlier run of this memory mix moved the clock ten times slower (1000 requests per simulated second), so
the live single-use values outgrew the 16384-entry replay bound and the store refused about one request in
six with replay_store_full, as designed. Between 100,000 and 1,000,000 requests of that run, worker VM 1's
linear memory grew from 14.75 MiB to wazero's 1 GiB limit (VM 0 stayed at 14.75 MiB) and 168,653
requests were refused. A focused run of 60,000 HTTP-signature requests against a full store on two VMs
did not reproduce it (both memories flat), so the trigger is in the mix under sustained refusals, not the
refusal path alone. To reproduce: set MemRun's clock step to 1 s (memory.go) and run -long. The current
run (100 requests per simulated second, no refusals) is flat to 1,000,000.

**Memory and bounds.** The memory table is measured with a wazero memory allocator hook, so it is the real
linear memory of each worker VM. The replay store's entries are counted from shared data (one entry is 24
bytes behind a one-byte version header per shard) and stay under the configured max_entries; single-use JWTs
use the same store as HTTP-signature nonces because config hands every provider the one guard. The
verified-token caches are bounded by construction (tokencache holds a fixed ring of capacity entries and an
index of the same size); this run observes their bound only indirectly, as linear memory that stops growing.
`
