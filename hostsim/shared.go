package hostsim

import (
	"sort"
)

// Process-wide stores shared by every VM of a Host, guarded by Host.mu as
// Envoy guards them with one mutex.

type sharedEntry struct {
	value []byte
	cas   uint32
}

// nextCAS returns a fresh cas from the one global counter (starts at 1,
// skips 0, wraps). Host.mu must be held.
func (h *Host) nextCAS() uint32 {
	h.cas++
	if h.cas == 0 {
		h.cas = 1
	}
	return h.cas
}

// SharedData reads key in the vm_id partition (empty vm_id: the partition
// every Istio plugin shares).
func (h *Host) SharedData(vmID, key string) (value []byte, cas uint32, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.shared[vmID][key]
	if !ok {
		return nil, 0, false
	}
	return append([]byte(nil), e.value...), e.cas, true
}

// SetSharedData writes key as a guest set with cas 0 would (always stored,
// fresh cas), e.g. to seed a cache before a test.
func (h *Host) SetSharedData(vmID, key string, value []byte) uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.setSharedLocked(vmID, key, value)
}

func (h *Host) setSharedLocked(vmID, key string, value []byte) uint32 {
	part := h.shared[vmID]
	if part == nil {
		part = map[string]*sharedEntry{}
		h.shared[vmID] = part
	}
	e := &sharedEntry{value: append([]byte(nil), value...), cas: h.nextCAS()}
	part[key] = e
	return e.cas
}

// SharedDataKeys lists the keys of a partition, sorted.
func (h *Host) SharedDataKeys(vmID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.shared[vmID]))
	for k := range h.shared[vmID] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dropPartitionIfUnused forgets the shared data of vmID once no live
// plugin or VM uses it, as Envoy drops a partition with the last VM of
// its vm_id (e.g. after a config change that removes every user).
func (h *Host) dropPartitionIfUnused(vmID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.plugins {
		if !p.stopped && p.cfg.VMID == vmID {
			return
		}
	}
	for _, v := range h.vms {
		if v.plugin.cfg.VMID == vmID {
			return
		}
	}
	delete(h.shared, vmID)
}

// ---- queues ----

type queueKey struct{ vmID, name string }

type queue struct {
	id    uint32
	key   queueKey
	items [][]byte
	owner *VM
	root  uint32
}

type queueNote struct {
	root    uint32
	queueID uint32
}

// ---- metrics ----

// MetricType is counter, gauge or histogram.
type MetricType uint32

const (
	MetricCounter MetricType = iota
	MetricGauge
	MetricHistogram
)

func (t MetricType) String() string {
	switch t {
	case MetricCounter:
		return "counter"
	case MetricGauge:
		return "gauge"
	case MetricHistogram:
		return "histogram"
	}
	return "invalid"
}

type metric struct {
	name    string
	typ     MetricType
	value   uint64 // counter or gauge (gauge arithmetic wraps like Envoy's u64)
	samples []uint64
}

// Metric is a snapshot of one stat defined by a plugin. Values aggregate
// across every VM, as Envoy's stats do.
type Metric struct {
	Name     string // as the guest defined it
	StatName string // Envoy's stat name: "wasmcustom." + Name
	Type     MetricType
	Value    int64    // counter or gauge value
	Samples  []uint64 // histogram samples, in order
}

// Metrics returns every defined metric, sorted by name.
func (h *Host) Metrics() []Metric {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Metric, 0, len(h.metrics))
	for _, m := range h.metrics {
		out = append(out, Metric{Name: m.name, StatName: "wasmcustom." + m.name, Type: m.typ,
			Value: int64(m.value), Samples: append([]uint64(nil), m.samples...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Metric returns one metric by the name the guest defined.
func (h *Host) Metric(name string) (Metric, bool) {
	for _, m := range h.Metrics() {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// metricKey separates stats of different types that share a name.
func metricKey(typ MetricType, name string) string {
	return typ.String() + "\x00" + name
}
