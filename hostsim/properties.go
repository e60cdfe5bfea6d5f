package hostsim

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/hostsim/internal/abi"
)

// Defaults for requests that do not say where they come from.
const (
	defaultSourceAddress      = "127.0.0.1:50000"
	defaultDestinationAddress = "127.0.0.1:8080"
)

// EncodeInt encodes an int property as Envoy does (8 bytes, little endian).
func EncodeInt(n int64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(n))
	return b
}

// EncodeBool encodes a bool property as Envoy does (1 byte).
func EncodeBool(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

// hcGetProperty: (path_ptr, path_size, out_value_ptr, out_value_size).
// The path is NUL-separated segments; a trailing NUL is tolerated.
func hcGetProperty(ctx context.Context, v *VM, m api.Module, s []uint64) {
	raw, ok := read(m, a32(s, 0), a32(s, 1))
	if !ok {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	val, st := v.property(splitPath(raw))
	if st != abi.OK {
		set(s, st)
		return
	}
	set(s, v.writeOut(ctx, m, a32(s, 2), a32(s, 3), val))
}

// hcSetProperty: (path_ptr, path_size, value_ptr, value_size). Stores the
// bytes in the stream's filter state; no stream → NotFound.
func hcSetProperty(_ context.Context, v *VM, m api.Module, s []uint64) {
	raw, ok1 := read(m, a32(s, 0), a32(s, 1))
	val, ok2 := read(m, a32(s, 2), a32(s, 3))
	if !ok1 || !ok2 {
		set(s, abi.InvalidMemoryAccess)
		return
	}
	st := v.stream()
	if st == nil {
		set(s, abi.NotFound)
		return
	}
	st.filterState[strings.Join(splitPath(raw), "\x00")] = val
	set(s, abi.OK)
}

func splitPath(raw []byte) []string {
	p := string(raw)
	p = strings.TrimSuffix(p, "\x00")
	if p == "" {
		return nil
	}
	return strings.Split(p, "\x00")
}

// legacyTopLevel are the names Envoy 1.33 removed in favour of xds.*.
var legacyTopLevel = map[string]bool{
	"node": true, "cluster_name": true, "cluster_metadata": true, "route_name": true,
	"route_metadata": true, "listener_direction": true, "listener_metadata": true,
	"upstream_host_metadata": true,
}

// property resolves a property path in the effective context.
func (v *VM) property(segs []string) ([]byte, abi.Status) {
	if len(segs) == 0 {
		return nil, abi.NotFound
	}
	joined := strings.Join(segs, ".")
	pc := v.curPlugin().cfg
	switch joined {
	case "plugin_name":
		return []byte(pc.Name), abi.OK
	case "plugin_root_id":
		return []byte(pc.RootID), abi.OK
	case "plugin_vm_id":
		return []byte(pc.VMID), abi.OK
	}
	if legacyTopLevel[segs[0]] {
		if v.host.cfg.profile != ProfileEnvoy132 {
			return nil, abi.NotFound
		}
		segs = append([]string{"xds"}, segs...)
		joined = "xds." + joined
	}
	props := v.host.cfg.properties
	if segs[0] == "xds" {
		if val, ok := props[joined]; ok {
			return val, abi.OK
		}
		return nil, abi.NotFound
	}
	st := v.stream()
	if st == nil {
		return nil, abi.NotFound // stream attributes need a stream
	}
	if val, ok := props[joined]; ok {
		return val, abi.OK
	}
	if val, ok, st2 := st.attribute(segs); ok || st2 != abi.OK {
		return val, st2
	}
	if val, ok := st.filterState[strings.Join(segs, "\x00")]; ok {
		return val, abi.OK
	}
	return nil, abi.NotFound
}

// attribute answers Envoy's stream attributes.
func (s *Stream) attribute(segs []string) ([]byte, bool, abi.Status) {
	str := func(x string) ([]byte, bool, abi.Status) { return []byte(x), true, abi.OK }
	num := func(n int64) ([]byte, bool, abi.Status) { return EncodeInt(n), true, abi.OK }
	notFound := func() ([]byte, bool, abi.Status) { return nil, false, abi.NotFound }
	src := s.req.SourceAddress
	if src == "" {
		src = defaultSourceAddress
	}
	dst := s.req.DestinationAddress
	if dst == "" {
		dst = defaultDestinationAddress
	}
	headersReadable := s.reqHeadersAvail || s.inLog
	header := func(name string) ([]byte, bool, abi.Status) {
		if !headersReadable {
			return notFound()
		}
		for _, kv := range s.reqHeaders {
			if kv[0] == name {
				return str(kv[1])
			}
		}
		return notFound()
	}
	joined := strings.Join(segs, ".")
	switch joined {
	case "source.address":
		return str(src)
	case "destination.address":
		return str(dst)
	case "source.port":
		return num(port(src))
	case "destination.port":
		return num(port(dst))
	case "connection.id", "connection_id":
		return num(int64(s.c.id))
	case "connection.mtls":
		return EncodeBool(false), true, abi.OK
	case "request.path":
		return header(":path")
	case "request.url_path", "request.query":
		p, ok, st := header(":path")
		if !ok {
			return p, ok, st
		}
		path, query, _ := strings.Cut(string(p), "?")
		if joined == "request.url_path" {
			return str(path)
		}
		query, _, _ = strings.Cut(query, "#")
		return str(query)
	case "request.host":
		return header(":authority")
	case "request.scheme":
		return header(":scheme")
	case "request.method":
		return header(":method")
	case "request.referer":
		return header("referer")
	case "request.useragent":
		return header("user-agent")
	case "request.id":
		return header("x-request-id")
	case "request.protocol":
		p := s.req.Protocol
		if p == "" {
			p = "HTTP/1.1"
		}
		return str(p)
	case "request.time":
		return num(s.start)
	case "request.headers":
		if !headersReadable {
			return notFound()
		}
		return abi.EncodePairs(joinedHeaders(s.reqHeaders)), true, abi.OK
	case "response.code":
		if s.responseStatus == 0 {
			return notFound()
		}
		return num(int64(s.responseStatus))
	case "response.headers":
		if s.respHeaders == nil {
			return notFound()
		}
		return abi.EncodePairs(joinedHeaders(s.respHeaders)), true, abi.OK
	}
	if len(segs) == 3 && segs[0] == "request" && segs[1] == "headers" {
		if !headersReadable {
			return notFound()
		}
		for _, kv := range joinedHeaders(s.reqHeaders) {
			if kv[0] == lower(segs[2]) {
				return str(kv[1])
			}
		}
		return notFound()
	}
	if len(segs) == 3 && segs[0] == "response" && segs[1] == "headers" {
		for _, kv := range joinedHeaders(s.respHeaders) {
			if kv[0] == lower(segs[2]) {
				return str(kv[1])
			}
		}
		return notFound()
	}
	return nil, false, abi.OK
}

// joinedHeaders merges repeated headers with commas, first-seen order.
func joinedHeaders(h [][2]string) [][2]string {
	idx := map[string]int{}
	var out [][2]string
	for _, kv := range h {
		if i, ok := idx[kv[0]]; ok {
			out[i][1] += "," + kv[1]
			continue
		}
		idx[kv[0]] = len(out)
		out = append(out, kv)
	}
	return out
}

func port(addr string) int64 {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(p, 10, 64)
	return n
}

// foreign runs an Envoy foreign function. Unknown names → NotFound.
func (v *VM) foreign(name string, args []byte) ([]byte, abi.Status) {
	switch name {
	case "clear_route_cache", "declare_property":
		return nil, abi.OK
	case "compress":
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		_, _ = w.Write(args)
		_ = w.Close()
		return b.Bytes(), abi.OK
	case "uncompress":
		r, err := zlib.NewReader(bytes.NewReader(args))
		if err != nil {
			return nil, abi.SerializationFailure
		}
		out, err := io.ReadAll(io.LimitReader(r, 64<<20))
		if err != nil {
			return nil, abi.SerializationFailure
		}
		return out, abi.OK
	case "set_envoy_filter_state", "verify_signature", "sign":
		// Registered in Envoy, not simulated here: an explicit answer.
		return nil, abi.Unimplemented
	}
	return nil, abi.NotFound
}

func itoa(n int) string { return strconv.Itoa(n) }

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }
