package main

// The analysis behind the numbers. The numbers themselves are measured each
// run and live in the tables above; these texts say why a target is missed
// (each is printed only when its target is missed in the run) and what the
// profiling found. They were written from the measurements, the guest
// profile and reading the code on 2026-11-23/24.

type explanation struct{ id, text string }

var missedExplanations = []explanation{
	{"jwt-vs-bare", `**JWT ÷ bare primitive.** The wasm row is a whole stream, so it carries the pass-through floor
(hostsim's per-stream cost plus the filter's) on top of the verification; the "without the floor" figure takes
it out. What is left beyond the primitive is visible in the guest profile: the claims are parsed with jsonparser
(about a hundred calls per token), the header and payload are base64-decoded and copied, and the verified-token
cache hashes and stores every fresh token (a miss costs an insert and, once full, an eviction). For RS256 the
target compares against a primitive that itself pays hostsim's context-done checks (compare bare/rsa-2048 with
bare/rsa-2048-nocheck); both sides pay them, so they do not explain the ratio, but they do inflate every
absolute RSA and ECDSA figure here compared with Envoy's V8. Closing it: parse only the claims the
configuration names (one pass over the payload instead of one lookup per claim), decode into per-provider
scratch buffers, and skip the cache insert for single-use providers (already done: capacity 0). On a machine
shared with seven other builds, ratios within 10% also move by more than 10% between runs: read the min/max
columns before acting on a near miss.`},
	{"shared-secret-vs-floor", `**Shared-secret schemes ÷ floor.** These verifiers allocate nothing natively (table
above), so the cost over the floor is the Wasm execution of SHA-256/HMAC (no assembly on wasm: see
native-bare vs bare) plus reading the credential header through the ABI. A miss here is the HMAC in Wasm;
closing it needs a faster SHA-256 for wasm (see "Wasm-friendly crypto").`},
	{"cache-hit", `**Reused JWT (cache hit).** A hit natively costs well under a microsecond (native/jwt-reused), so
the wasm cost over the floor is not the cache logic as such. The guest profile attributes the extra time
to the JWT provider, nearly all of it inside tokencache.Get, which is one Go map lookup keyed by the whole
token string plus one metric hostcall. We did not pin the cause down today; the candidates are the map
hash of a few hundred bytes with the generic (non-AES) memhash on wasm and the cost of the hostcall, and the
next step is a guest built with only those two operations in a loop. The comparison with golang-jwt cannot be won in hostsim at all while
the floor alone (one stream through hostsim: six callbacks, each looked up with ExportedFunction, which
builds a new call engine and stack every time — about 75 KB of host allocations per stream, the B/op column
of wasm/floor) costs more than golang-jwt's whole verification natively. Closing it: in hostsim, cache the
api.Function of each export per VM (a one-line change in hostsim/vm.go callRaw; owner: hostsim); in the
plugin, key the cache by a 64-bit hash of the token kept beside the entry (compare the full token only on a
hash match) so the map hashes 8 bytes.`},
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
	{"allocations", `**Zero allocations.** http_signature with an HMAC key allocates on every verification
(pprof of the native verifier): parseDict/parseParams/parseInner build maps and slices for the
Signature-Input dictionary, the signature base is built with a strings.Builder, the signature is decoded with
base64.DecodeString, and the covered component list is cloned. The other shared-secret verifiers reach
zero. Closing it (plugin/provider/httpsig, owner: httpsig): parse the one expected label into a fixed-size
array of components (the configuration bounds their number), build the signature base into a
per-provider scratch []byte (a VM is single-threaded), decode base64 into a fixed [64]byte, and keep one
hmac.Hash per key and Reset it. TestZeroAllocs marks httpsig-hmac as the known miss and fails once it
reaches zero so the mark is removed.`},
	{"module-size", `**Module size.** The module is the standard Go (gc) wasip1 build: the runtime with its GC
and scheduler, the unicode tables, crypto/ecdsa, crypto/rsa, jsonparser, and fmt, which
crypto/ed25519, crypto/ecdsa, crypto/rsa and jsonparser link (see the style guide). Stripping the symbol
table (-ldflags="-s -w") was measured on this tree: it saves only about 150 KB, because the wasm name
section is small next to the code. What would close it: wasm-opt -Oz from binaryen over the module
(typically 15–25% on Go modules; not installed here, so not measured), dropping fmt from the module
(it comes in through the standard crypto packages, so only a crypto fork would remove it), or the TinyGo
build (make wasm-tinygo) whose modules are a fraction of this size but which this project keeps as a
type-checked secondary path. The 4 MiB target is not reachable with the gc toolchain and these
dependencies without one of those.`},
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

**Where the floor goes.** The abi row of the guest profile covers every callback, so it is the guest's share
of a stream; the remainder of the total is the host. On the host side, hostsim looks up each export with ExportedFunction on every
callback (hostsim/vm.go callRaw), which creates a new wazero call engine with its own stack each time; that
is the ~75 KB of host allocations per stream in the B/op column of every wasm row. Caching the api.Function
per export per VM would remove it. This does not change the plugin's cost in Envoy, but it shrinks the floor
every ratio here is measured against.

**hostsim's context-done checks.** hostsim runs wazero with WithCloseOnContextDone(true) so a test can stop a
hung guest. That compiles a check into every function entry and loop back-edge. The bare guest is measured
with and without it (the -nocheck rows): big-number crypto loops (RSA, ECDSA) slow down by a large factor,
ed25519 much less. Envoy's runtimes have no such check, so absolute RSA/ECDSA costs here are pessimistic;
ratios between rows that both pay it are fair. A hostsim option to turn it off for benchmarks would give
Envoy-like absolute numbers (owner: hostsim).

**Allocations, copies, header reads, JSON.** The native verifiers of every shared-secret scheme except
http_signature are allocation-free. In the guest, runtime.mallocgc is called some 25 times per stream at the
floor and about a hundred times per fresh JWT; garbage collection was rare in the profiled windows (gcStart
and gcDrain rows). jsonparser is the largest non-crypto item of a fresh JWT (claims), and is absent from the
cache-hit path, which is what the cache is for.

**Wasm-friendly crypto (assessment, nothing adopted).** Compare bare (Wasm) with native-bare (same inputs,
native): Go's crypto has no assembly for wasm, and its big-number and field arithmetic is written around
64×64→128-bit multiplication (math/bits.Mul64), which Wasm does not have, so every multiply becomes four 32-bit
multiplies plus carries. An implementation written for 32-bit limbs (for example a radix-2^25.5 field for
Curve25519, as in the 32-bit reference implementations, or a 32-bit-limb Montgomery multiply for RSA and P-256)
would likely win 1.5–2× in Wasm. Adopting one is a security decision: it needs differential tests against the
standard library over millions of inputs (valid and corrupted signatures, edge-case keys) and a fuzz target,
which is out of scope today. Verifying fewer signatures is the cheaper lever: the verified-token cache already
turns a reused JWT into a hash lookup.

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
