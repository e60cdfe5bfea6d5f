//go:build wasip1 && !tinygo

package abi

import "unsafe"

// MaxHostBuffer bounds a single host-requested allocation. Larger requests get 0, which the host
// turns into InvalidMemoryAccess for the call that needed it (fail closed), instead of letting
// the Go runtime abort the VM on an impossible allocation.
const MaxHostBuffer = 256 << 20

// pins holds every buffer handed to the host since the last claim; see "Memory" in the package
// doc. It is package state because the host reaches the allocator by export, not through a value.
var pins [][]byte

// malloc is the allocator Envoy prefers (host doc §2.2).
//
//go:wasmexport malloc
func malloc(size uint32) uint32 { return hostAlloc(size) }

// proxy_on_memory_allocate is the ABI's allocator name; same behaviour.
//
//go:wasmexport proxy_on_memory_allocate
func proxy_on_memory_allocate(size uint32) uint32 { return hostAlloc(size) }

// hostAlloc only allocates Go memory: no import is reachable from here except what the Go
// runtime itself may do, which matters because Envoy restricts imports inside the allocator.
func hostAlloc(size uint32) uint32 {
	if size > MaxHostBuffer {
		return 0
	}
	if size == 0 {
		size = 1 // keep the returned address unique and non-zero
	}
	buf := make([]byte, size)
	pins = append(pins, buf)
	return uint32(uintptr(unsafe.Pointer(&buf[0])))
}

// claim returns the pinned buffer the host reported as (ptr, size), then drops all pins. (0, 0)
// is the host's empty result. Any other address is refused: the host may only return memory the
// guest allocated for this call.
func claim(ptr, size uint32) ([]byte, error) {
	defer unpin()
	if ptr == 0 && size == 0 {
		return nil, nil
	}
	for _, b := range pins {
		if uint32(uintptr(unsafe.Pointer(&b[0]))) == ptr && int(size) <= len(b) {
			return b[:size:size], nil
		}
	}
	return nil, ErrHostBuffer
}

// unpin forgets every pending buffer (after a failed call, or at the start of an export).
func unpin() {
	clear(pins)
	pins = pins[:0]
}
