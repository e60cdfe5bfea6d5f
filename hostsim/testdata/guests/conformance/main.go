//go:build wasip1

// Command conformance is a test guest for hostsim: a proxy-wasm module
// written against the raw ABI (no SDK), so the host is checked against the
// ABI text rather than against another binding. The request header "x-op"
// selects what it does; it logs what it observes so tests can read it.
package main

import (
	"encoding/binary"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

// ---- memory handed out to the host ----

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

// take copies a host-allocated buffer and releases it.
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

func sptr(s string) unsafe.Pointer { return ptr([]byte(s)) }

// ---- imports ----

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_log_level
func proxyGetLogLevel(out unsafe.Pointer) uint32

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxyGetTime(out unsafe.Pointer) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTick(ms uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(t, start, max uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(t, start, length uint32, data unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetMapValue(t uint32, key unsafe.Pointer, keySize uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddMapValue(t uint32, key unsafe.Pointer, keySize uint32, val unsafe.Pointer, valSize uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetMapPairs(t uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(t uint32) uint32

//go:wasmimport env proxy_close_stream
func proxyCloseStream(t uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpc uint32) uint32

//go:wasmimport env proxy_http_call
func proxyHTTPCall(up unsafe.Pointer, upSize uint32, h unsafe.Pointer, hSize uint32, b unsafe.Pointer, bSize uint32, t unsafe.Pointer, tSize uint32, timeout uint32, token unsafe.Pointer) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(id uint32) uint32

//go:wasmimport env proxy_get_status
func proxyGetStatus(code, msgPtr, msgSize unsafe.Pointer) uint32

//go:wasmimport env proxy_get_shared_data
func proxyGetSharedData(key unsafe.Pointer, keySize uint32, outPtr, outSize, cas unsafe.Pointer) uint32

//go:wasmimport env proxy_set_shared_data
func proxySetSharedData(key unsafe.Pointer, keySize uint32, val unsafe.Pointer, valSize uint32, cas uint32) uint32

//go:wasmimport env proxy_register_shared_queue
func proxyRegisterQueue(name unsafe.Pointer, size uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_enqueue_shared_queue
func proxyEnqueue(id uint32, data unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_dequeue_shared_queue
func proxyDequeue(id uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(t uint32, name unsafe.Pointer, size uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, delta int64) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(path unsafe.Pointer, size uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_done
func proxyDone() uint32

// ---- helpers ----

func logf(msg string) {
	b := []byte(msg)
	proxyLog(2, ptr(b), uint32(len(b)))
}

func getBuffer(t uint32) ([]byte, uint32) {
	var p, n uint32
	st := proxyGetBufferBytes(t, 0, 0xFFFFFFFF, unsafe.Pointer(&p), unsafe.Pointer(&n))
	return take(p, n), st
}

func getHeader(t uint32, key string) (string, uint32) {
	k := []byte(key)
	var p, n uint32
	st := proxyGetMapValue(t, ptr(k), uint32(len(k)), unsafe.Pointer(&p), unsafe.Pointer(&n))
	if st != 0 {
		return "", st
	}
	return string(take(p, n)), 0
}

func addHeader(t uint32, key, val string) uint32 {
	k, v := []byte(key), []byte(val)
	return proxyAddMapValue(t, ptr(k), uint32(len(k)), ptr(v), uint32(len(v)))
}

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

func property(path ...string) (string, uint32) {
	b := []byte(strings.Join(path, "\x00"))
	var p, n uint32
	st := proxyGetProperty(ptr(b), uint32(len(b)), unsafe.Pointer(&p), unsafe.Pointer(&n))
	return string(take(p, n)), st
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func reply(status uint32, details, body string, kv ...string) uint32 {
	d, b, h := []byte(details), []byte(body), pairs(kv...)
	return proxySendLocalResponse(status, ptr(d), uint32(len(d)), ptr(b), uint32(len(b)), ptr(h), uint32(len(h)), 0xFFFFFFFF)
}

// ---- state ----

var (
	config      string
	requestsID  uint32
	ticksID     uint32
	queueID     uint32
	ops         = map[uint32]string{}
	callStreams = map[uint32]uint32{} // token → stream context
	retained    [][]byte
	waitOnDone  bool
)

//go:wasmexport proxy_on_context_create
func onContextCreate(id, root uint32) {
	logf("context_create " + itoa(id) + " " + itoa(root))
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	vmc, _ := getBuffer(6)
	logf("vm_start " + itoa(root) + " " + itoa(size) + " " + string(vmc))
	name := []byte("requests")
	proxyDefineMetric(0, ptr(name), uint32(len(name)), unsafe.Pointer(&requestsID))
	name = []byte("ticks")
	proxyDefineMetric(0, ptr(name), uint32(len(name)), unsafe.Pointer(&ticksID))
	q := []byte("q")
	proxyRegisterQueue(ptr(q), 1, unsafe.Pointer(&queueID))
	return boolU(string(vmc) != "fail-vm-start")
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	b, st := getBuffer(7)
	config = string(b)
	logf("configure " + itoa(root) + " " + itoa(size) + " st=" + itoa(st) + " " + config)
	for _, f := range strings.Fields(config) {
		if v, ok := strings.CutPrefix(f, "tick="); ok {
			n, _ := strconv.Atoi(v)
			proxySetTick(uint32(n))
		}
		if f == "wait-on-done" {
			waitOnDone = true
		}
	}
	return boolU(!strings.Contains(config, "fail-configure"))
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	var now uint64
	proxyGetTime(unsafe.Pointer(&now))
	proxyIncrementMetric(ticksID, 1)
	if stopping {
		logf("proxy_done " + itoa(proxyDone()))
	}
	logf("tick " + itoa(root) + " " + strconv.FormatUint(now/1e6, 10))
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	proxyIncrementMetric(requestsID, 1)
	op, _ := getHeader(0, "x-op")
	ops[id] = op
	logf("request_headers " + itoa(id) + " n=" + itoa(n) + " eos=" + itoa(eos) + " op=" + op)
	switch op {
	case "reply":
		reply(403, "denied by test", "nope", "x-why", "test")
		return 0 // ignored: a local reply forces a stop
	case "add":
		addHeader(0, "X-Added", "yes")
	case "callout":
		cluster, _ := getHeader(0, "x-cluster")
		timeout := uint32(1000)
		if t, st := getHeader(0, "x-timeout"); st == 0 {
			n, _ := strconv.Atoi(t)
			timeout = uint32(n)
		}
		up, h := []byte(cluster), pairs(":method", "GET", ":path", "/check", ":authority", "authz")
		var token uint32
		st := proxyHTTPCall(ptr(up), uint32(len(up)), ptr(h), uint32(len(h)), nil, 0, nil, 0, timeout, unsafe.Pointer(&token))
		logf("http_call st=" + itoa(st) + " token=" + itoa(token))
		if st != 0 {
			reply(500, "callout failed", "")
			return 1
		}
		callStreams[token] = id
		return 1
	case "pause", "stop-iteration":
		return 1
	case "continue-then-read":
		proxyContinueStream(0)
		_, st := getHeader(0, ":path")
		logf("after continue st=" + itoa(st))
	case "close":
		proxyCloseStream(0)
	case "props":
		for _, p := range []string{"source.address", "request.path", "plugin_name", "request.headers.x-op"} {
			v, st := property(strings.Split(p, ".")...)
			addHeader(0, "x-prop-"+p, v+"|"+itoa(st))
		}
	case "shared-inc":
		attempts := sharedIncrement("counter")
		addHeader(0, "x-attempts", itoa(attempts))
	case "cas-get":
		// First half of a CAS update, finished by "cas-set" in a later
		// request: lets a test interleave another worker in between.
		k := []byte("counter")
		var p, n uint32
		proxyGetSharedData(ptr(k), uint32(len(k)), unsafe.Pointer(&p), unsafe.Pointer(&n), unsafe.Pointer(&heldCAS))
		take(p, n)
	case "cas-set":
		k, v := []byte("counter"), []byte("from-held-cas")
		st := proxySetSharedData(ptr(k), uint32(len(k)), ptr(v), uint32(len(v)), heldCAS)
		addHeader(0, "x-set-status", itoa(st))
	case "enqueue":
		d := []byte("hello")
		proxyEnqueue(queueID, ptr(d), uint32(len(d)))
	case "sleep":
		time.Sleep(time.Millisecond)
	case "gc":
		for i := 0; i < 8; i++ {
			retained = append(retained, make([]byte, 1<<20))
			if len(retained) > 16 {
				retained = retained[1:]
			}
			runtime.GC()
		}
	case "battery":
		battery()
	case "spin":
		for spins = 0; ; spins++ {
		}
	case "nil":
		var p *int
		*p = 1
	}
	return 0
}

// sharedIncrement is the usual CAS loop; it returns the attempts taken.
func sharedIncrement(key string) uint32 {
	k := []byte(key)
	for attempt := uint32(1); attempt < 1000; attempt++ {
		var p, n, cas uint32
		st := proxyGetSharedData(ptr(k), uint32(len(k)), unsafe.Pointer(&p), unsafe.Pointer(&n), unsafe.Pointer(&cas))
		val := uint64(0)
		if st == 0 {
			val, _ = strconv.ParseUint(string(take(p, n)), 10, 64)
		}
		nv := []byte(strconv.FormatUint(val+1, 10))
		if proxySetSharedData(ptr(k), uint32(len(k)), ptr(nv), uint32(len(nv)), cas) == 0 {
			return attempt
		}
	}
	return 0
}

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 {
	logf("request_body " + itoa(id) + " size=" + itoa(size) + " eos=" + itoa(eos))
	if ops[id] == "stop-iteration" {
		_, st := getHeader(0, ":path")
		addHeader(0, "x-in-body", itoa(st))
	}
	if ops[id] == "body-buffer" && eos == 0 {
		return 1 // StopIterationAndBuffer until the end of the body
	}
	if ops[id] == "body-upper" {
		b, _ := getBuffer(0)
		up := []byte(strings.ToUpper(string(b)))
		proxySetBufferBytes(0, 0, uint32(len(b)), ptr(up), uint32(len(up)))
	}
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(id, n, eos uint32) uint32 {
	status, _ := getHeader(2, ":status")
	logf("response_headers " + itoa(id) + " status=" + status)
	addHeader(2, "x-seen-by", "conformance")
	if ops[id] == "reply-in-response" {
		reply(502, "upstream rejected", "bad gateway")
	}
	return 0
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(root, token, nh, bodySize, nt uint32) {
	id := callStreams[token]
	delete(callStreams, token)
	status, st := getHeader(6, ":status")
	body, _ := getBuffer(4)
	logf("call_response " + itoa(root) + " token=" + itoa(token) + " nh=" + itoa(nh) + " status=" + status + " st=" + itoa(st) + " body=" + string(body))
	if nh == 0 {
		var code, p, n uint32
		proxyGetStatus(unsafe.Pointer(&code), unsafe.Pointer(&p), unsafe.Pointer(&n))
		logf("get_status " + itoa(code) + " " + string(take(p, n)))
	}
	if proxySetEffectiveContext(id) != 0 {
		logf("stream gone")
		return
	}
	if status == "200" {
		addHeader(0, "x-callout-status", status)
		proxyContinueStream(0)
		return
	}
	reply(401, "callout said no", "denied: "+status)
}

//go:wasmexport proxy_on_queue_ready
func onQueueReady(root, id uint32) {
	var p, n uint32
	st := proxyDequeue(id, unsafe.Pointer(&p), unsafe.Pointer(&n))
	logf("queue_ready " + itoa(root) + " st=" + itoa(st) + " " + string(take(p, n)))
}

//go:wasmexport proxy_on_log
func onLog(id uint32) {
	path, st := getHeader(0, ":path")
	logf("on_log " + itoa(id) + " path=" + path + " st=" + itoa(st))
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 {
	logf("on_done " + itoa(id))
	if waitOnDone && id == 1 {
		stopping = true
		return 0
	}
	return 1
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {
	logf("on_delete " + itoa(id))
}

func boolU(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

var heldCAS uint32

var spins int

//go:wasmimport env proxy_resolve_shared_queue
func proxyResolveQueue(vm unsafe.Pointer, vmSize uint32, name unsafe.Pointer, nameSize uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_call_foreign_function
func proxyCallForeign(name unsafe.Pointer, nameSize uint32, args unsafe.Pointer, argsSize uint32, outPtr, outSize unsafe.Pointer) uint32

//go:wasmimport env proxy_get_metric
func proxyGetMetric(id uint32, out unsafe.Pointer) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(id uint32, value uint64) uint32

// battery calls host functions with arguments Envoy refuses, from a real
// guest, and logs each status as "battery <name>=<status>".
func battery() {
	var p, n, id uint32
	var u64 uint64
	out := func(name string, st uint32) { logf("battery " + name + "=" + itoa(st)) }
	msg, key := []byte("m"), []byte("nope")
	badPtr := unsafe.Pointer(uintptr(0xFFFFFFF0))
	P, N := unsafe.Pointer(&p), unsafe.Pointer(&n)
	out("log_level_9", proxyLog(9, ptr(msg), 1))
	out("map_type_8", proxyGetMapValue(8, ptr(key), 4, P, N))
	out("map_key_oob", proxyGetMapValue(0, badPtr, 4, P, N))
	out("map_pairs_unavailable", proxyGetMapPairs(1, P, N))
	out("buffer_type_9", proxyGetBufferBytes(9, 0, 1, P, N))
	out("plugin_config_outside_configure", proxyGetBufferBytes(7, 0, 1, P, N))
	out("set_config_buffer", proxySetBufferBytes(7, 0, 0, ptr(msg), 1))
	out("metric_type_3", proxyDefineMetric(3, ptr(msg), 1, unsafe.Pointer(&id)))
	out("counter_plus_0", proxyIncrementMetric(requestsID, 0))
	out("unknown_metric", proxyIncrementMetric(999, 1))
	hist := []byte("h")
	proxyDefineMetric(2, ptr(hist), 1, unsafe.Pointer(&id))
	out("histogram_record", proxyRecordMetric(id, 5))
	out("histogram_read", proxyGetMetric(id, unsafe.Pointer(&u64)))
	out("unknown_property", proxyGetProperty(ptr(key), 4, P, N))
	out("effective_999", proxySetEffectiveContext(999))
	out("continue_9", proxyContinueStream(9))
	out("continue_upstream", proxyContinueStream(3))
	h := pairs(":method", "GET", ":path", "/", ":authority", "a")
	var token uint32 = 77
	out("http_call_unknown_cluster", proxyHTTPCall(ptr(key), 4, ptr(h), uint32(len(h)), nil, 0, nil, 0, 100, unsafe.Pointer(&token)))
	out("http_call_token_zeroed", token)
	out("shared_missing", proxyGetSharedData(ptr(key), 4, P, N, unsafe.Pointer(&id)))
	out("dequeue_unknown", proxyDequeue(999, P, N))
	out("dequeue_empty", proxyDequeue(queueID, P, N))
	out("resolve_unknown", proxyResolveQueue(nil, 0, ptr(key), 4, unsafe.Pointer(&id)))
	out("foreign_unknown", proxyCallForeign(ptr(key), 4, nil, 0, P, N))
	out("done_not_waiting", proxyDone())
	var level uint32
	out("get_log_level", proxyGetLogLevel(unsafe.Pointer(&level)))
	out("log_level_value", level)
}

var stopping bool
