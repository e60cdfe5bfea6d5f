// Command guest is the allocation-heavy proxy-wasm test guest for the
// Envoy compatibility tests (issue 9). It is a Go reactor built with
// GOOS=wasip1 -buildmode=c-shared, speaking ABI 0.2.0 with its own
// go:wasmimport/go:wasmexport declarations (no SDK), so that the only Go
// runtime behaviour under test is the runtime's own: allocation, GC, the
// scavenger and the netpoller, which reach poll_oneoff.
//
// Per request it sets a context deadline (a runtime timer), allocates
// x-size bytes (or N for path /size/N; default 4096) plus small pieces,
// keeps the big one in a ring so the heap grows and shrinks, reads x-pad
// (only its length is used: the host copies it into memory obtained from
// malloc), and every 256 requests makes 4 MiB of garbage and forces a GC.
// Then:
//   - path /reply…: answers 200 itself, body "n=<count> sum=<hex>";
//   - anything else: adds header x-guest-sum and continues.
//
// The checksum covers the request number and the bytes allocated, so two
// runs agree only if every request was handled in the same order with the
// same data.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retData unsafe.Pointer, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32

// pinned keeps host-requested buffers alive until the guest has read them.
var pinned = map[uintptr][]byte{}

//go:wasmexport malloc
func malloc(size uint32) uint32 {
	b := make([]byte, size+1) // +1: never a zero-size (shared) allocation
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	pinned[p] = b
	return uint32(p)
}

//go:wasmexport proxy_abi_version_0_2_0
func abiVersion() {}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	say(2, "guest configured")
	return 1
}

var (
	ring     [512][]byte
	requests uint64
	digest   [32]byte
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, numHeaders, eos uint32) uint32 {
	requests++
	// A deadline per request, as any library taking a context would set:
	// the first runtime timer starts Go's netpoller, and from then on every
	// GC cycle polls it through poll_oneoff.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ctx.Err() != nil {
		return 0
	}
	size := 4096
	if v, ok := header(":path"); ok && len(v) > 6 && v[:6] == "/size/" {
		if n, err := strconv.Atoi(v[6:]); err == nil && n >= 0 && n <= 1<<20 {
			size = n
		}
	}
	if v, ok := header("x-size"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 1<<20 {
			size = n
		}
	}
	// Many small pieces and one big one: churn for the allocator and GC.
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(requests) + byte(i)
	}
	pieces := make([][]byte, 0, 16)
	for i := 0; i < 16; i++ {
		pieces = append(pieces, make([]byte, 64+i*8))
	}
	ring[requests%uint64(len(ring))] = buf
	h := sha256.New()
	h.Write(digest[:])
	h.Write([]byte(strconv.FormatUint(requests, 10)))
	h.Write(buf)
	h.Write(pieces[15][:1])
	// x-pad is only read: the host copies it into memory it gets from
	// malloc, so large values exercise the allocator allow-list.
	if v, ok := header("x-pad"); ok {
		h.Write([]byte(strconv.Itoa(len(v))))
	}
	copy(digest[:], h.Sum(nil))
	if requests%256 == 0 {
		// A burst of garbage, then a collection: the heap shrinks and the
		// runtime's background scavenger has memory to give back, so it
		// arms a timer — which is what reaches poll_oneoff.
		burst := make([][]byte, 0, 64)
		for i := 0; i < 64; i++ {
			burst = append(burst, make([]byte, 64<<10))
		}
		digest[0] ^= burst[int(requests/64)%64][0]
		runtime.GC()
	}
	sum := hex.EncodeToString(digest[:8])
	if p, _ := header(":path"); len(p) >= 6 && p[:6] == "/reply" {
		body := "n=" + strconv.FormatUint(requests, 10) + " sum=" + sum
		details := "guest_reply"
		proxySendLocalResponse(200, ptr(details), uint32(len(details)), ptr(body), uint32(len(body)), nil, 0, -1)
		return 1
	}
	key := "x-guest-sum"
	proxyAddHeaderMapValue(0, ptr(key), uint32(len(key)), ptr(sum), uint32(len(sum)))
	return 0
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 { return 1 }

//go:wasmexport proxy_on_log
func onLog(id uint32) {}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {}

// header reads a request header through the host, which allocates the
// value with malloc above.
func header(name string) (string, bool) {
	var data, size uint32
	if proxyGetHeaderMapValue(0, ptr(name), uint32(len(name)), unsafe.Pointer(&data), unsafe.Pointer(&size)) != 0 {
		return "", false
	}
	if size == 0 {
		return "", true
	}
	b, ok := pinned[uintptr(data)]
	if !ok || uint32(len(b)) < size {
		return "", false
	}
	delete(pinned, uintptr(data))
	return string(b[:size]), true
}

func say(level uint32, msg string) { proxyLog(level, ptr(msg), uint32(len(msg))) }

func ptr(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

func main() {}
