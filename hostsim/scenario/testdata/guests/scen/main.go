//go:build wasip1

// Command scen is the scenario runner's test guest: a small proxy-wasm
// module on the raw ABI (no SDK). Its plugin configuration is a list of
// space-separated words; the request header "x-op" picks what it does with
// a request. It logs what it sees so that scenario output can be checked
// against what the host really handed over.
//
// Configuration words: "fail" (on_configure returns false), "tick=MS"
// (tick period). Ops: "reply" (403 with body), "reply-typed" (reply with
// its own content-type), "reply-empty" (401, no body), "add" (adds a
// request header), "path" (rewrites :path), "callout" (calls the cluster
// named by x-cluster, continues on 200 with x-callout-status, else 401),
// "props" (adds x-src and x-dst, the source and destination addresses),
// "random" (adds x-random, 8 bytes from crypto/rand), "pause", "trap", "env" (adds x-env from the environment variable named
// by x-env-name), "now" (adds x-now, the wall clock in ms).
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var pinned = map[uint32][]byte{}

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	pinned[p] = b
	return p
}

func take(p, n uint32) []byte {
	if p == 0 {
		return nil
	}
	b := pinned[p]
	delete(pinned, p)
	return append([]byte(nil), b[:n]...)
}

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxyGetTime(out unsafe.Pointer) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTick(ms uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(t, start, max uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetMapValue(t uint32, key unsafe.Pointer, keySize uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddMapValue(t uint32, key unsafe.Pointer, keySize uint32, val unsafe.Pointer, valSize uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func proxyReplaceMapValue(t uint32, key unsafe.Pointer, keySize uint32, val unsafe.Pointer, valSize uint32) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(t uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpc uint32) uint32

//go:wasmimport env proxy_http_call
func proxyHTTPCall(up unsafe.Pointer, upSize uint32, h unsafe.Pointer, hSize uint32, b unsafe.Pointer, bSize uint32, t unsafe.Pointer, tSize uint32, timeout uint32, token unsafe.Pointer) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(t uint32, name unsafe.Pointer, size uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, delta int64) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(id uint32, value uint64) uint32

func logAt(level uint32, msg string) {
	b := []byte(msg)
	proxyLog(level, ptr(b), uint32(len(b)))
}

func getBuffer(t uint32) []byte {
	var p, n uint32
	if proxyGetBufferBytes(t, 0, 0xFFFFFFFF, unsafe.Pointer(&p), unsafe.Pointer(&n)) != 0 {
		return nil
	}
	return take(p, n)
}

func getHeader(t uint32, key string) (string, bool) {
	k := []byte(key)
	var p, n uint32
	if proxyGetMapValue(t, ptr(k), uint32(len(k)), unsafe.Pointer(&p), unsafe.Pointer(&n)) != 0 {
		return "", false
	}
	return string(take(p, n)), true
}

func addHeader(t uint32, key, val string) {
	k, v := []byte(key), []byte(val)
	proxyAddMapValue(t, ptr(k), uint32(len(k)), ptr(v), uint32(len(v)))
}

func replaceHeader(t uint32, key, val string) {
	k, v := []byte(key), []byte(val)
	proxyReplaceMapValue(t, ptr(k), uint32(len(k)), ptr(v), uint32(len(v)))
}

// pairs encodes a header list in the proxy-wasm map format.
func pairs(kv ...string) []byte {
	n := len(kv) / 2
	size := 4 + 8*n
	for _, s := range kv {
		size += len(s) + 1
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, uint32(n))
	off := 4 + 8*n
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[4+8*i:], uint32(len(kv[2*i])))
		binary.LittleEndian.PutUint32(b[8+8*i:], uint32(len(kv[2*i+1])))
		off += copy(b[off:], kv[2*i]) + 1
		off += copy(b[off:], kv[2*i+1]) + 1
	}
	return b
}

func reply(status uint32, body string, kv ...string) {
	d, b, h := []byte("scen"), []byte(body), pairs(kv...)
	proxySendLocalResponse(status, ptr(d), uint32(len(d)), ptr(b), uint32(len(b)), ptr(h), uint32(len(h)), 0xFFFFFFFF)
}

//go:wasmimport env proxy_get_property
func proxyGetProperty(path unsafe.Pointer, size uint32, outPtr, outSize unsafe.Pointer) uint32

func property(path ...string) string {
	b := []byte(strings.Join(path, "\x00"))
	var p, n uint32
	if proxyGetProperty(ptr(b), uint32(len(b)), unsafe.Pointer(&p), unsafe.Pointer(&n)) != 0 {
		return "?"
	}
	return string(take(p, n))
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

var (
	requestsID, ticksID, sizesID uint32
	callStreams                  = map[uint32]uint32{}
)

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	logAt(2, "vm_start vm_config="+string(getBuffer(6)))
	name := []byte("requests")
	proxyDefineMetric(0, ptr(name), uint32(len(name)), unsafe.Pointer(&requestsID))
	name = []byte("ticks")
	proxyDefineMetric(1, ptr(name), uint32(len(name)), unsafe.Pointer(&ticksID))
	name = []byte("sizes")
	proxyDefineMetric(2, ptr(name), uint32(len(name)), unsafe.Pointer(&sizesID))
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	config := string(getBuffer(7))
	logAt(2, "configure "+config)
	for _, f := range strings.Fields(config) {
		if v, ok := strings.CutPrefix(f, "tick="); ok {
			n, _ := strconv.Atoi(v)
			proxySetTick(uint32(n))
		}
	}
	if strings.Contains(config, "fail") {
		logAt(4, "configuration refused")
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	var now uint64
	proxyGetTime(unsafe.Pointer(&now))
	proxyIncrementMetric(ticksID, 1)
	logAt(1, "tick "+strconv.FormatUint(now/1e6, 10))
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, root uint32) {}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	proxyIncrementMetric(requestsID, 1)
	proxyRecordMetric(sizesID, uint64(n))
	op, _ := getHeader(0, "x-op")
	logAt(1, "request_headers n="+itoa(n)+" eos="+itoa(eos)+" op="+op)
	switch op {
	case "reply":
		reply(403, "denied <here> & now", "x-why", "test", "X-Dup", "1", "x-dup", "2")
	case "reply-typed":
		reply(400, `{"error":"bad"}`, "content-type", "application/json")
	case "reply-empty":
		reply(401, "", "www-authenticate", "Bearer")
	case "add":
		addHeader(0, "X-Added", "yes")
	case "path":
		replaceHeader(0, ":path", "/rewritten")
	case "env":
		name, _ := getHeader(0, "x-env-name")
		v, ok := os.LookupEnv(name)
		addHeader(0, "x-env", v+"|"+strconv.FormatBool(ok))
	case "now":
		var now uint64
		proxyGetTime(unsafe.Pointer(&now))
		addHeader(0, "x-now", strconv.FormatUint(now/1e6, 10))
	case "callout":
		cluster, _ := getHeader(0, "x-cluster")
		up, h := []byte(cluster), pairs(":method", "GET", ":path", "/check", ":authority", "authz")
		var token uint32
		st := proxyHTTPCall(ptr(up), uint32(len(up)), ptr(h), uint32(len(h)), nil, 0, nil, 0, 1000, unsafe.Pointer(&token))
		logAt(2, "http_call status="+itoa(st))
		if st != 0 {
			reply(500, "callout failed")
			return 1
		}
		callStreams[token] = id
		return 1
	case "props":
		addHeader(0, "x-src", property("source", "address"))
		addHeader(0, "x-dst", property("destination", "address"))
	case "random":
		var b [8]byte
		_, _ = rand.Read(b[:])
		addHeader(0, "x-random", hex.EncodeToString(b[:]))
	case "pause":
		return 1
	case "trap":
		var p *int
		*p = 1
	}
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 {
	logAt(1, "request_body size="+itoa(size)+" eos="+itoa(eos))
	return 0
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(root, token, nh, bodySize, nt uint32) {
	id := callStreams[token]
	delete(callStreams, token)
	status, _ := getHeader(6, ":status")
	body := getBuffer(4)
	logAt(2, "call_response status="+status+" body="+string(body))
	if proxySetEffectiveContext(id) != 0 {
		return
	}
	if status == "200" {
		addHeader(0, "x-callout-status", status)
		addHeader(0, "x-callout-body", string(body))
		proxyContinueStream(0)
		return
	}
	reply(401, "callout said "+status)
}
