// Package bench measures what a request costs in tokengate (issue 7): the
// built module in hostsim, the bare crypto primitive in the same wazero
// runtime, the verifiers natively and golang-jwt on the same tokens, memory
// over long mixed runs, and module size, compile and start-up times.
//
// # One code path for benchmarks and the report
//
// Every measurement is a func(*testing.B) built by [NewSuite]. The
// _test.go file exposes them as ordinary Go benchmarks (go test -bench),
// and tests/bench/report runs the same functions with testing.Benchmark,
// several rounds, and writes bench/REPORT.md and bench/cost.png. Ratios
// (scheme ÷ floor, scheme ÷ bare primitive) are computed inside each round,
// from measurements taken minutes apart at most, and the report gives their
// median: the machine is shared and absolute numbers are noisy.
//
// # Fresh versus reused credentials
//
// Cases that need a fresh credential per request (JWTs with a new jti,
// HTTP signatures) cycle through 2048 credentials minted once, before any
// timing: twice the verified-token cache, a FIFO ring of 1024, so every send
// misses it, and minting (an RSA signature costs more than its
// verification) is never counted. Cache-hit cases send one credential over
// and over. The memory run mints every request fresh (unique nonces).
//
// # The bare-primitive guest
//
// testdata/guest is a tiny wasip1 reactor built with the same toolchain as
// the plugin. It exports a scratch buffer, a setup call that parses the key
// once (as the plugin does at configuration time) and a run call that
// verifies one signature (or computes and compares one HMAC) on the very
// bytes the plugin verifies.
package bench
