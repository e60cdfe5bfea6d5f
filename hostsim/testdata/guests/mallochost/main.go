//go:build wasip1

// Command mallochost's allocator calls a proxy_* function that Envoy does
// not allow inside a host-initiated malloc: the hostcall that needed the
// allocation traps.
package main

import "unsafe"

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var keep [][]byte

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxyGetTime(out unsafe.Pointer) uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(t uint32, name unsafe.Pointer, size uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(t, start, max uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	var now uint64
	proxyGetTime(unsafe.Pointer(&now)) // allowed? only proxy_log, fd_write, clock_time_get are
	b := make([]byte, size+1)
	keep = append(keep, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	var p, n uint32
	proxyGetBufferBytes(7, 0, 0xFFFFFFFF, unsafe.Pointer(&p), unsafe.Pointer(&n))
	return 1
}
