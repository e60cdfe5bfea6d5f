//go:build wasip1 && !tinygo

package abi

import "unsafe"

// Host functions of ABI v0.2.1, module "env" (host doc §5; spec:
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1). Go names mirror the ABI
// names so grep works both ways. Pointers are 32-bit offsets into guest memory; "out" pointers
// are written by the host as little-endian u32 (u64 where the type says so). Result buffers are
// allocated through the guest's malloc export (alloc.go). Every function returns a Status.
//
// Only functions the plugin actually calls end up in the module's import list (the linker drops
// unreferenced imports); tests/imports checks the list against Envoy's.

//go:wasmimport env proxy_log
func proxy_log(level uint32, msg unsafe.Pointer, msgSize uint32) Status

//go:wasmimport env proxy_get_log_level
func proxy_get_log_level(outLevel *uint32) Status

//go:wasmimport env proxy_get_current_time_nanoseconds
func proxy_get_current_time_nanoseconds(outTime *uint64) Status

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxy_set_tick_period_milliseconds(period uint32) Status

//go:wasmimport env proxy_set_effective_context
func proxy_set_effective_context(contextID uint32) Status

//go:wasmimport env proxy_done
func proxy_done() Status

// Buffers: get copies [start, start+max) of buffer type into a fresh guest allocation.

//go:wasmimport env proxy_get_buffer_bytes
func proxy_get_buffer_bytes(bufType, start, maxSize uint32, outPtr, outSize *uint32) Status

//go:wasmimport env proxy_get_buffer_status
func proxy_get_buffer_status(bufType uint32, outSize, outFlags *uint32) Status

//go:wasmimport env proxy_set_buffer_bytes
func proxy_set_buffer_bytes(bufType, start, size uint32, data unsafe.Pointer, dataSize uint32) Status

// Header maps (pairs format, pairs.go).

//go:wasmimport env proxy_get_header_map_pairs
func proxy_get_header_map_pairs(mapType uint32, outPtr, outSize *uint32) Status

//go:wasmimport env proxy_set_header_map_pairs
func proxy_set_header_map_pairs(mapType uint32, data unsafe.Pointer, size uint32) Status

//go:wasmimport env proxy_get_header_map_value
func proxy_get_header_map_value(mapType uint32, key unsafe.Pointer, keySize uint32, outPtr, outSize *uint32) Status

//go:wasmimport env proxy_add_header_map_value
func proxy_add_header_map_value(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) Status

//go:wasmimport env proxy_replace_header_map_value
func proxy_replace_header_map_value(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) Status

//go:wasmimport env proxy_remove_header_map_value
func proxy_remove_header_map_value(mapType uint32, key unsafe.Pointer, keySize uint32) Status

//go:wasmimport env proxy_get_header_map_size
func proxy_get_header_map_size(mapType uint32, outSize *uint32) Status

// Stream control.

//go:wasmimport env proxy_continue_stream
func proxy_continue_stream(streamType uint32) Status

//go:wasmimport env proxy_close_stream
func proxy_close_stream(streamType uint32) Status

//go:wasmimport env proxy_send_local_response
func proxy_send_local_response(status uint32, details unsafe.Pointer, detailsSize uint32,
	body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) Status

// HTTP calls: token written to outToken (0 on failure).

//go:wasmimport env proxy_http_call
func proxy_http_call(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32,
	body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32,
	timeoutMs uint32, outToken *uint32) Status

// Shared data and queues.

//go:wasmimport env proxy_get_shared_data
func proxy_get_shared_data(key unsafe.Pointer, keySize uint32, outPtr, outSize, outCas *uint32) Status

//go:wasmimport env proxy_set_shared_data
func proxy_set_shared_data(key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize, cas uint32) Status

//go:wasmimport env proxy_register_shared_queue
func proxy_register_shared_queue(name unsafe.Pointer, nameSize uint32, outID *uint32) Status

//go:wasmimport env proxy_resolve_shared_queue
func proxy_resolve_shared_queue(vmID unsafe.Pointer, vmIDSize uint32, name unsafe.Pointer, nameSize uint32, outID *uint32) Status

//go:wasmimport env proxy_enqueue_shared_queue
func proxy_enqueue_shared_queue(queueID uint32, value unsafe.Pointer, valueSize uint32) Status

//go:wasmimport env proxy_dequeue_shared_queue
func proxy_dequeue_shared_queue(queueID uint32, outPtr, outSize *uint32) Status

// Properties and foreign functions.

//go:wasmimport env proxy_get_property
func proxy_get_property(path unsafe.Pointer, pathSize uint32, outPtr, outSize *uint32) Status

//go:wasmimport env proxy_set_property
func proxy_set_property(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) Status

//go:wasmimport env proxy_call_foreign_function
func proxy_call_foreign_function(name unsafe.Pointer, nameSize uint32, args unsafe.Pointer, argsSize uint32,
	outPtr, outSize *uint32) Status

// Metrics: ids are per VM; increment takes a signed delta, record/get unsigned values.

//go:wasmimport env proxy_define_metric
func proxy_define_metric(metricType uint32, name unsafe.Pointer, nameSize uint32, outID *uint32) Status

//go:wasmimport env proxy_increment_metric
func proxy_increment_metric(metricID uint32, delta int64) Status

//go:wasmimport env proxy_record_metric
func proxy_record_metric(metricID uint32, value uint64) Status

//go:wasmimport env proxy_get_metric
func proxy_get_metric(metricID uint32, outValue *uint64) Status
