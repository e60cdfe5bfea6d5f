//go:build wasip1

// Command initcall calls a proxy_* function from a package initialiser,
// which Envoy's V8 integration forbids during _initialize ("restricted
// callbacks"): the VM must fail to start.
package main

import "unsafe"

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var keep [][]byte

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	b := make([]byte, size+1)
	keep = append(keep, b)
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTick(ms uint32) uint32

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

func init() {
	msg := []byte("init: logging is allowed")
	proxyLog(2, unsafe.Pointer(&msg[0]), uint32(len(msg)))
	proxySetTick(1000) // not allowed during start-up
}
