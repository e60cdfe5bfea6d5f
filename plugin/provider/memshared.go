package provider

import "sync"

// MemSharedData is an in-memory SharedData with Envoy's semantics (one
// global cas counter, cas ignored for absent keys). It is safe for
// concurrent use, so native tests can hammer it from several goroutines the
// way several worker VMs hammer Envoy's store. The zero value is ready.
type MemSharedData struct {
	mu      sync.Mutex
	entries map[string]memEntry
	nextCas uint32
}

type memEntry struct {
	value []byte
	cas   uint32
}

// Get returns a copy of the value and its cas, or ErrNotFound.
func (m *MemSharedData) Get(key string) ([]byte, uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, 0, ErrNotFound
	}
	return append([]byte(nil), e.value...), e.cas, nil
}

// Set stores a copy of value unless cas != 0 and differs from the stored cas.
func (m *MemSharedData) Set(key string, value []byte, cas uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = make(map[string]memEntry)
	}
	if e, ok := m.entries[key]; ok && cas != 0 && cas != e.cas {
		return ErrCasMismatch
	}
	m.nextCas++
	if m.nextCas == 0 {
		m.nextCas = 1
	}
	m.entries[key] = memEntry{value: append([]byte(nil), value...), cas: m.nextCas}
	return nil
}

// Len reports how many keys are stored (for memory-bound tests).
func (m *MemSharedData) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
