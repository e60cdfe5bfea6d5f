package hostsim

import (
	"io"
	"net/http"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim/internal/envoy"
)

// Profile selects which Envoy the host behaves like: its WASI subset, its
// start-up allow-list and its poll_oneoff answer.
type Profile string

const (
	// ProfileEnvoy132 is Envoy up to 1.32: 15 WASI functions, no
	// poll_oneoff, sched_yield or fd_fdstat_set_flags (Go modules do not load).
	ProfileEnvoy132 Profile = envoy.Envoy132
	// ProfileEnvoy133 is Envoy 1.33–1.39: 18 WASI functions, poll_oneoff
	// returns ENOSYS (52). The default: what deployed fleets run.
	ProfileEnvoy133 Profile = envoy.Envoy133
	// ProfileEnvoyCurrent is Envoy main after cpp-host #533: 45 WASI
	// functions, poll_oneoff succeeds with zero events.
	ProfileEnvoyCurrent Profile = envoy.EnvoyCurrent
	// ProfileFullWASI links wazero's complete WASI and applies no restricted
	// phases. It is not any Envoy; use it only for comparison.
	ProfileFullWASI Profile = envoy.FullWASI
)

// Profiles lists every profile, oldest Envoy first.
func Profiles() []Profile {
	return []Profile{ProfileEnvoy132, ProfileEnvoy133, ProfileEnvoyCurrent, ProfileFullWASI}
}

// LogLevel is the proxy-wasm log level (trace 0 … critical 5).
type LogLevel uint32

const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

var logLevelNames = [...]string{"trace", "debug", "info", "warn", "error", "critical"}

// String returns the lower-case name used in scenario output.
func (l LogLevel) String() string {
	if int(l) < len(logLevelNames) {
		return logLevelNames[l]
	}
	return "invalid"
}

// CannedResponse is a fixed answer of a simulated upstream cluster.
type CannedResponse struct {
	Status   int
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	// Delay is how long the upstream takes. When it exceeds the call's
	// timeout, the plugin gets Envoy's 504 "upstream request timeout".
	Delay time.Duration
	// Reset makes the call fail as a stream reset: the plugin gets
	// on_http_call_response(0, 0, 0) and proxy_get_status → (11, "reset").
	Reset bool
}

// cluster is one named upstream: either a handler or a canned answer.
type cluster struct {
	handler http.Handler
	delay   time.Duration
	canned  *CannedResponse
}

// Config is the host configuration. The zero value is valid: profile
// envoy-1.33, log level trace (nothing filtered), clock at 2026-01-01T00:00Z,
// no clusters. Config is immutable: every WithXxx returns a modified copy.
type Config struct {
	profile    Profile
	start      time.Time
	logLevel   LogLevel
	clusters   map[string]cluster
	properties map[string][]byte
	random     io.Reader
	transcript bool
	cache      wazero.CompilationCache
	logLimit   int
	// uninterruptible turns off wazero's close-on-context-done checks.
	uninterruptible bool
}

func (c Config) clone() Config {
	n := c
	n.clusters = make(map[string]cluster, len(c.clusters)+1)
	for k, v := range c.clusters {
		n.clusters[k] = v
	}
	n.properties = make(map[string][]byte, len(c.properties)+1)
	for k, v := range c.properties {
		n.properties[k] = v
	}
	return n
}

// WithProfile selects the Envoy profile. An unknown name makes New fail.
func (c Config) WithProfile(p Profile) Config { n := c.clone(); n.profile = p; return n }

// WithStartTime sets the test clock's wall time at start.
func (c Config) WithStartTime(t time.Time) Config { n := c.clone(); n.start = t; return n }

// WithLogLevel sets the proxy's wasm log level: proxy_get_log_level returns
// it and messages below it are dropped (Istio proxies run at LogWarn).
func (c Config) WithLogLevel(l LogLevel) Config { n := c.clone(); n.logLevel = l; return n }

// WithCluster adds an upstream cluster served by h. The handler runs
// synchronously when the driver delivers the call; it sees the call's
// method, path, authority (as Host), headers and body.
func (c Config) WithCluster(name string, h http.Handler) Config {
	n := c.clone()
	n.clusters[name] = cluster{handler: h}
	return n
}

// WithSlowCluster is WithCluster with a simulated upstream latency, so that
// call timeouts can be exercised with a real handler.
func (c Config) WithSlowCluster(name string, h http.Handler, delay time.Duration) Config {
	n := c.clone()
	n.clusters[name] = cluster{handler: h, delay: delay}
	return n
}

// WithCannedCluster adds an upstream cluster that always gives r.
func (c Config) WithCannedCluster(name string, r CannedResponse) Config {
	n := c.clone()
	cp := r
	n.clusters[name] = cluster{canned: &cp, delay: r.Delay}
	return n
}

// WithProperty sets or overrides a property for proxy_get_property. path is
// the dotted form ("xds.node.id", "connection.mtls"); value is returned as
// is, so encode it as Envoy would (see EncodeInt, EncodeBool). Stream
// properties set here are visible from stream contexts only.
func (c Config) WithProperty(path string, value []byte) Config {
	n := c.clone()
	n.properties[path] = append([]byte(nil), value...)
	return n
}

// WithRandom replaces the random source behind WASI random_get
// (crypto/rand by default), for reproducible runs.
func (c Config) WithRandom(r io.Reader) Config { n := c.clone(); n.random = r; return n }

// WithTranscript records every hostcall (see VM.Transcript). Off by default
// because it costs an allocation per call.
func (c Config) WithTranscript(on bool) Config { n := c.clone(); n.transcript = on; return n }

// FailurePolicy is Envoy's PluginConfig.failure_policy.
type FailurePolicy int

const (
	// FailClosed (default): a failed VM answers every request with 503
	// wasm_fail_stream.
	FailClosed FailurePolicy = iota
	// FailOpen: requests bypass a failed VM's filter.
	FailOpen
	// FailReload: after a 1 s backoff (test clock), the next request gets a
	// freshly started VM; inside the backoff it behaves like FailClosed.
	FailReload
)

// WithLogLimit keeps only the last n records in Host.Logs (0, the
// default, keeps all), for long runs such as soak tests. Per-request logs in
// Result.Logs are not affected.
func (c Config) WithLogLimit(n int) Config { n2 := c.clone(); n2.logLimit = n; return n2 }

// WithInterruptible decides whether a guest call can be stopped by
// cancelling its context (on by default). wazero implements it with a
// check compiled into every loop and function entry plus a watcher
// goroutine per call, which costs a few microseconds per callback and
// slows tight crypto loops severalfold (RSA verification about 7×), so
// off is closer to Envoy's V8 speed. Off, a guest that never returns
// blocks its caller for good, as it blocks an Envoy worker.
func (c Config) WithInterruptible(on bool) Config {
	n := c.clone()
	n.uninterruptible = !on
	return n
}

// WithCompilationCache shares compiled code between Hosts (e.g. across the
// tests of a package), which saves most of New's cost for large modules.
func (c Config) WithCompilationCache(cache wazero.CompilationCache) Config {
	n := c.clone()
	n.cache = cache
	return n
}
