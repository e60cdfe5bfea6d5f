package filter

// Everything the filter needs from the host beyond the facade's plain calls:
// metric wrappers and the VM environment (shared data comes from
// plugin/internal/shared).

import (
	"os"

	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// counter adapts a host counter; the host refuses deltas <= 0 (and the SDK
// panics on refusals), so those are dropped here.
type counter struct{ m proxywasm.MetricCounter }

func (c counter) Increment(d int64) {
	if d > 0 {
		c.m.Increment(uint64(d))
	}
}

// gauge adapts a host gauge, which can only be added to: Set adds the
// difference to the last value this VM set. Envoy aggregates gauges
// process-wide, so with several workers the value is the sum of theirs.
type gauge struct {
	m    proxywasm.MetricGauge
	last int64
}

func (g *gauge) Set(v int64) {
	if d := v - g.last; d != 0 {
		g.m.Add(d)
		g.last = v
	}
}

// osEnv reads the VM environment: under wasip1 that is Envoy's
// vm_config.environment_variables, natively the test process environment.
type osEnv struct{}

func (osEnv) Lookup(name string) (string, bool) { return os.LookupEnv(name) }
