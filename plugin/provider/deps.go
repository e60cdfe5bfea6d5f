package provider

// ReplayGuard remembers single-use values (nonces, jti, single-use codes)
// across all VMs of a proxy, in bounded memory.
type ReplayGuard interface {
	// Use marks key as used until expiresAt (unix ns). It returns nil the
	// first time a key is used inside its lifetime, an *Error with
	// ReasonReplayed when the key was already used, and one with
	// ReasonReplayStoreFull when it cannot remember one more key (it never
	// forgets a live key to make room). Callers namespace keys themselves
	// (provider name, subject).
	Use(key string, now, expiresAt int64) error
}

// BytesReplayGuard is a ReplayGuard that also takes its key as bytes and
// keeps no reference to them (package replay's Guard is one), so a
// provider can build keys in a reused buffer. Providers check for it with
// a type assertion and fall back to Use.
type BytesReplayGuard interface {
	ReplayGuard
	UseBytes(key []byte, now, expiresAt int64) error
}

// Counter is a monotonically increasing metric.
type Counter interface{ Increment(delta int64) }

// Gauge is a metric that is set to a value.
type Gauge interface{ Set(value int64) }

type nopMetric struct{}

func (nopMetric) Increment(int64) {}
func (nopMetric) Set(int64)       {}

// Deps are what the configuration hands a provider constructor. Any field
// may be nil in tests; use the methods, which fall back to no-ops.
type Deps struct {
	// Shared is the store shared by all VMs of the proxy.
	Shared SharedData
	// Replay is the cross-VM single-use guard.
	Replay ReplayGuard
	// WarnFunc logs a start-up warning once (e.g. a weak compatibility mode).
	WarnFunc func(msg string)
	// CounterFunc defines a counter once, at start; name is relative
	// (the filter prefixes "tokengate.<provider>.").
	CounterFunc func(name string) Counter
	// GaugeFunc defines a gauge once, at start.
	GaugeFunc func(name string) Gauge
}

// Warn logs a start-up warning.
func (d Deps) Warn(msg string) {
	if d.WarnFunc != nil {
		d.WarnFunc(msg)
	}
}

// Counter defines a counter, or returns a no-op one.
func (d Deps) Counter(name string) Counter {
	if d.CounterFunc != nil {
		return d.CounterFunc(name)
	}
	return nopMetric{}
}

// Gauge defines a gauge, or returns a no-op one.
func (d Deps) Gauge(name string) Gauge {
	if d.GaugeFunc != nil {
		return d.GaugeFunc(name)
	}
	return nopMetric{}
}
