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
floor" takes it out. What is left beyond the primitive, from guest profiles: strict parsing of the header and the
payload (one pass each, about 25 µs of Go in Wasm), the verified-token cache insert (about 6 µs), the identity
headers and credential stripping after the verdict, and for single-use tokens the replay guard (a SHA-256 of the
key, a get and a compare-and-set of shared data). About 40 µs more is not instructions but a cold processor cache:
the signature check evicts the filter's code and data, while the bare benchmark runs its primitive in a warm loop.
Cut on 2026-11-24: the identity's claims map is built only for providers that a rule with claim requirements names
(about 13 µs and a map per fresh token); Ed25519 public keys are decoded once, when parsed (ed25519.Verify
decompresses the key on every call: 9.6% of its field operations); ES256 verifies with per-key precomputed tables
(plugin/internal/p256verify, about 4× faster than crypto/ecdsa in Wasm, proven equal to it differentially); RS256
verifies in the Wasm build with a verify-only RSA (plugin/provider/keys/rsapub) whose per-key constants replace the
modulus rebuild Go 1.26 does on every verification (about 30% of it), about 1.5× faster than crypto/rsa in
wazero. Closing the rest for EdDSA: a profile-guided build (a native
profile of keys.Verify took jwt-eddsa from 594 to 472 µs, 0.90× the bare verify) is not adopted, because the
bare guest has no profile of its own and the ratio would no longer compare like with like; Go inlining the field
multiply's helpers on wasm would serve both (see "Wasm-friendly crypto"). On a machine shared with other jobs,
ratios near the limit move by more than 10% between runs: read the min/max columns.`},
	{"shared-secret-vs-floor", `**Shared-secret schemes ÷ floor.** These verifiers allocate nothing natively
(see below), so their cost over the floor is Wasm execution of the check itself plus the work every authenticated
request does after the verdict (identity headers, credential stripping, the counter). A scoped token is the
heaviest: an HMAC-SHA256 over the whole signed value (three SHA-256 blocks with the keyed states crypto/hmac
keeps, about 3–4 µs each in Wasm), base64 and a JSON payload with its endpoints object, Django's path quoting, and
an extra identity header for the recipient. Since 2026-11-24 each VM remembers up to 256 scoped tokens that
verified (the original has no revocation; expiry, skew, path and scope are still checked on every request), so a
token used again costs about what an API key does; the row with a new token on every request is the miss path,
which still pays the HMAC and the JSON. Replacing jsonparser with the strict one-pass reader the JWT path uses was
measured no faster. Closing the miss path needs a cheaper SHA-256 in Wasm (Go's generic block function; no SIMD in
this toolchain's wasm target) or fewer hostcalls per authenticated request; the floor keeps getting cheaper too
(three guest allocations per stream since 2026-11-24, from six), which raises every ratio to it.`},
	{"cache-hit", `**Reused JWT (cache hit).** The provider's share of a hit is 3–5 µs in Wasm: reading the header,
a 64-bit hash of the token (the cache index; the entry keeps the whole token and a hit compares it in full), the
lookup and the hit counter (a hostcall). The rest over the floor is what every authenticated request does after the
verdict and the floor does not: the identity headers (replace-header hostcalls for subject and provider), removing
the credential header, and the counters. Cut on 2026-11-24: rules are indexed by the path's first segment (the
bench's JWT route was found after six others), hostsim edits header maps in place and copies guest strings once
(host allocations per reused-JWT request 46 → 39). The floor got cheaper too (guest allocations per stream 6 → 3),
which raises every ratio to it. Closing it: fewer hostcalls per authenticated request (each costs one in Envoy
too), for example the cache-hit counter added up per tick instead of per request.`},
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
(fiat, nistec, ecdsa, elliptic, ecdh: about 570 KB) plus filippo.io/nistec's own P-256 for the ES256 tables (about
180 KB, added 2026-11-24 for a 4× faster ES256), math/big and bigmod behind RSA (about 240 KB; rsapub adds 25 KB),
time, fmt and
reflect (linked by crypto/rsa, math/big, asn1, hex and jsonparser), our own packages (about 1 MB), and a data
section whose 62,000 segments carry about 490 KB of segment headers, most of them for the runtime's findfunctab
(16 buckets per function, because each wasm function spans 65,536 PCs). crypto/ed25519 left the module on
2026-11-24 (Ed25519 now uses filippo.io/edwards25519 directly, -36 KB). Measured earlier: stripping names
(-ldflags=-s) saves exactly the name section (about 148 KB) and costs the function names in Envoy's trap
backtraces; wasm-opt -Oz (binaryen 108, names kept) saves 5.7% and showed no speed gain; coalescing data segments
saved 131 bytes (the linker already splits only on zero runs longer than a segment header); all of these together
reach about 5.6 MB. The 4 MiB target needs the TinyGo build (make wasm-tinygo; TinyGo is not installable here, and
public figures for other programs suggest 1.4–3.4 MB for ours) or dropping key types.`},
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

**Where the floor goes.** About 10–14 µs per stream at its fastest (the tables above ran while other jobs
loaded the machine), of which roughly 4 µs is hostsim (Go side: building the stream, six callbacks through
wazero, the host functions) and the rest the guest: the header view (one hostcall), path normalisation and rule
matching, the per-rule counter (a hostcall) and the runtime. Since 2026-11-24 a stream allocates three times in
the guest, down from six: the filter context, the ABI's stream entry, and the buffer the host asks for to hand over
the request headers. The header list is deserialised into storage the plugin context keeps, an already normal path
is returned as it came, and host-call out-parameters live in package slots (the address of a local handed to a
//go:wasmimport function moved it to the heap: TestHostCallsDoNotAllocate). Reusing the filter context and the
stream entry after proxy_on_delete was tried and reverted: with one allocation per stream left, the guest heap
took about 100,000 requests to settle, 1.5 MiB higher (linear memory 7.7 → 14.3 MiB for the floor alone, against
12.8 MiB flat before), which costs every VM memory and defeats the memory target's early checkpoint; the reuse
must also never hand out a context whose callout is still out (TestLateCalloutAfterClientLeft).
Earlier the same day: hostsim's context-done checks off for the bench (next paragraph), source.address fetched
only when a rule or provider reads the client address, the evaluation, header view and stripping edits kept in
the stream context, and request counters found by rule pointer; together these took it from about 53 µs. The
hostsim changes do not alter the plugin's cost in Envoy; the filter changes do.

**hostsim's context-done checks.** By default hostsim runs wazero with WithCloseOnContextDone(true) so a test
can stop a hung guest: a check in every loop and function entry and a watcher goroutine per callback. The bench
turns it off on both sides of every ratio (hostsim Config.WithInterruptible(false); Envoy's V8 has neither cost).
The -interruptible bare rows keep what it would cost: big-number loops (RSA) run several times slower with it.

**Allocations, copies, header reads, JSON.** Native verifiers of every shared-secret scheme allocate nothing
per verification. A fresh EdDSA JWT went from 37 to 4 allocations natively: one strict pass per JSON object
(jsonobj.Object) that validates and reads the claims, base64 straight from the token into reused buffers, the
identity's claims map only for providers whose rules read claims (otherwise scopes and mapped claims are looked up
in the gathered text, jsonobj.Flattener.Lookup), replay keys built in scratch (replay.Guard.UseBytes), and a
verified-token cache indexed by a 64-bit hash whose ring slots reuse their token buffers. Every new parser is
fuzzed differentially against the old one or the standard library.

**Wasm-friendly crypto.** Go's crypto has no assembly for wasm, and bits.Mul64 is not an intrinsic there, so
every 64×64→128 product is emulated. Adopted on 2026-11-24, each with differential tests against the standard
library over more than a million inputs and a fuzz target:
ES256 verifies with plugin/internal/p256verify, a fixed-window comb table per key (and one for the generator) over
filippo.io/nistec's point arithmetic, which removes every doubling: about 4× faster than crypto/ecdsa in wazero
(297 against 1,234 µs per verification), 1,012,000 differential comparisons on the portable path and 990,000 on
amd64, 3.3 million fuzz executions. A table is 80 KB and about 2 ms to build in Wasm, and key sets are untrusted
input, so a key's table is built only after its first valid signature (checked by crypto/ecdsa), into a per-VM
cache of 8 tables keyed by the point; the first valid ES256 request of a VM pays the build.
Ed25519 keys are decoded once, when parsed (plugin/provider/keys, filippo.io/edwards25519), with the standard
library's checks in the same order: 2,099,511 differential comparisons (valid, damaged, S+L, small-order and
non-canonical encodings), Go's own test vectors, a fuzz target (2 million executions); keys that are not curve
points are now refused when parsed.
Measured, not adopted: on wasm the inliner does not inline the Ed25519 field multiply's helpers (cost 91 and 93
against a budget of 80), which makes about 23,000 real calls per verification; the same field with call-free
Mul/Square, swapped in with go build -overlay (tests/bench/fieldexp, which targets the standard library's copy of
the field; the module now uses filippo.io/edwards25519, the same code), verifies 1.65× faster, and a
profile-guided build 1.26×. Both would change the module but not the bare guest, so the ratio would stop
comparing like with like; reporting the inlining upstream would serve both.
RS256/384/512 (PKCS#1 v1.5) verify in the Wasm build with plugin/provider/keys/rsapub: per-key Montgomery
constants (R^e mod N, built on a key's first verification: 0.3–0.5 ms for RSA-2048 in wazero) replace the modulus
rebuild crypto/rsa does on every call, and one fused multiply-reduce loop on 64-bit limbs multiplied as 32×32→64
halves serves products and squares: 188–193 µs against crypto/rsa's 295–304 µs per RS256 verification in wazero
(1.53–1.58×). Proof: 1,000,000 differential inputs against crypto/rsa (keys of 2048–4096 bits, exponents 3 to
2^31−1, RS256/384/512, valid, damaged, s ≥ N, wrong lengths and hashes), 1,043,460 Montgomery operations against
math/big, a fuzz target. Measured and dropped on the way: 32-bit limbs (1.45× slower than crypto/rsa: in wazero
the loop's loads, stores and control cost more than the multiplies), a dedicated squaring (8% slower: three
memory accesses per product instead of two), math/big's Exp (no faster than crypto/rsa). Native builds keep
crypto/rsa, which has assembly there.

**Seen once, not reproduced: a worker VM grew to the memory limit under a full replay store.** An early
run of this memory mix moved the clock ten times slower (1000 requests per simulated second), so the live
single-use values outgrew the 16384-entry replay bound and the store refused about one request in six with
replay_store_full, as designed; between 100,000 and 1,000,000 requests worker VM 1's linear memory grew from
14.75 MiB to wazero's 1 GiB limit. The same configuration was run again on 2026-11-24 (clock step 1 s,
1,000,000 requests, 85,574 refusals with replay_store_full): both worker VMs stayed at 13.5 MiB throughout. A
focused run of 60,000 HTTP-signature requests against a full store had not reproduced it either.
tests/memgrowth remains for hunting it; the run above is reproduced by setting MemRun's clock step to 1 s.

**Memory and bounds.** The memory table is measured with a wazero memory allocator hook, so it is the real
linear memory of each worker VM. The replay store's entries are counted from shared data (one entry is 24
bytes behind a one-byte version header per shard) and stay under the configured max_entries; single-use JWTs
use the same store as HTTP-signature nonces because config hands every provider the one guard. The
verified-token caches are bounded by construction (tokencache holds a fixed ring of capacity entries and an
index of the same size); this run observes their bound only indirectly, as linear memory that stops growing.
`
