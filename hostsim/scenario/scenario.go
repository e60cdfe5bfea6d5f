package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Scenario is a decoded scenario file (shared/docs/scenario.md, "Input").
type Scenario struct {
	// PluginConfig is the configuration string the host passes to
	// proxy_on_configure: plugin_config_raw as is, or the compact JSON text
	// of plugin_config (key order and number spelling kept). Nil when the
	// file has neither.
	PluginConfig []byte
	VMConfig     string
	RootID       string
	Env          map[string]string
	// NowUnixMs is the wall clock at the first request; HasNow says whether
	// the file set it (otherwise hostsim's default start time is used).
	NowUnixMs int64
	HasNow    bool
	Upstreams map[string]Upstream
	Requests  []Request
}

// Upstream is the canned answer of one cluster to proxy_http_call.
type Upstream struct {
	Status  int // 0 means 200
	Headers [][2]string
	Body    string
	DelayMs int64
}

// Request is one downstream request of a scenario.
type Request struct {
	Name               string
	Method             string
	Path               string
	Authority          string
	Scheme             string
	Headers            [][2]string
	Body               string
	SourceAddress      string
	DestinationAddress string
	AdvanceMs          int64
}

// ErrInvalid is the category of every Decode failure.
var ErrInvalid = errors.New("scenario: invalid scenario")

// InvalidError is a Decode failure; Path says where (JSON path, e.g.
// "requests[2].headers[0]").
type InvalidError struct {
	Path string
	Msg  string
}

func (e *InvalidError) Error() string {
	if e.Path == "" {
		return "scenario: " + e.Msg
	}
	return "scenario: " + e.Path + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// The wire types. Unknown fields are refused (a misspelt field would
// otherwise silently change what a scenario tests), and header pairs are
// decoded as open lists so that a pair with a missing or extra element is
// refused instead of being truncated or padded.
type fileScenario struct {
	PluginConfig    json.RawMessage         `json:"plugin_config"`
	PluginConfigRaw *string                 `json:"plugin_config_raw"`
	VMConfig        string                  `json:"vm_config"`
	RootID          string                  `json:"root_id"`
	Env             map[string]string       `json:"env"`
	NowUnixMs       *int64                  `json:"now_unix_ms"`
	Upstreams       map[string]fileUpstream `json:"upstreams"`
	Requests        []fileRequest           `json:"requests"`
}

type fileUpstream struct {
	Status  int        `json:"status"`
	Headers [][]string `json:"headers"`
	Body    string     `json:"body"`
	DelayMs int64      `json:"delay_ms"`
}

type fileRequest struct {
	Name               string     `json:"name"`
	Method             string     `json:"method"`
	Path               string     `json:"path"`
	Authority          string     `json:"authority"`
	Scheme             string     `json:"scheme"`
	Headers            [][]string `json:"headers"`
	Body               string     `json:"body"`
	SourceAddress      string     `json:"source_address"`
	DestinationAddress string     `json:"destination_address"`
	AdvanceMs          int64      `json:"advance_ms"`
}

// maxScenarioBytes bounds what Decode reads: scenarios are test files.
const maxScenarioBytes = 64 << 20

// Decode reads one scenario. Errors wrap ErrInvalid and name the JSON path
// at fault.
func Decode(r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxScenarioBytes+1))
	if err != nil {
		return nil, fmt.Errorf("scenario: reading: %w", err)
	}
	if len(data) > maxScenarioBytes {
		return nil, &InvalidError{Msg: "file larger than 64 MiB"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileScenario
	if err := dec.Decode(&f); err != nil {
		return nil, &InvalidError{Msg: jsonMessage(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &InvalidError{Msg: "data after the scenario object"}
	}
	return f.validate()
}

// jsonMessage turns encoding/json's errors into a short message that names
// the field.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field + ": expected " + te.Type.String() + ", got JSON " + te.Value
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func (f *fileScenario) validate() (*Scenario, error) {
	s := &Scenario{VMConfig: f.VMConfig, RootID: f.RootID, Env: f.Env}
	switch {
	case f.PluginConfigRaw != nil && len(f.PluginConfig) > 0:
		return nil, &InvalidError{Path: "plugin_config_raw", Msg: "plugin_config and plugin_config_raw are mutually exclusive"}
	case f.PluginConfigRaw != nil:
		s.PluginConfig = []byte(*f.PluginConfigRaw)
	case len(f.PluginConfig) > 0:
		var b bytes.Buffer
		if err := json.Compact(&b, f.PluginConfig); err != nil {
			return nil, &InvalidError{Path: "plugin_config", Msg: jsonMessage(err)}
		}
		s.PluginConfig = b.Bytes()
	}
	for name := range f.Env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return nil, &InvalidError{Path: "env", Msg: fmt.Sprintf("bad variable name %q", name)}
		}
	}
	if f.NowUnixMs != nil {
		if *f.NowUnixMs < 0 {
			return nil, &InvalidError{Path: "now_unix_ms", Msg: "must not be negative"}
		}
		s.NowUnixMs, s.HasNow = *f.NowUnixMs, true
	}
	if len(f.Upstreams) > 0 {
		s.Upstreams = make(map[string]Upstream, len(f.Upstreams))
	}
	for name, u := range f.Upstreams {
		at := "upstreams." + name
		if name == "" {
			return nil, &InvalidError{Path: "upstreams", Msg: "empty cluster name"}
		}
		if u.Status != 0 && (u.Status < 100 || u.Status > 599) {
			return nil, &InvalidError{Path: at + ".status", Msg: fmt.Sprintf("status %d out of range 100-599", u.Status)}
		}
		if u.DelayMs < 0 {
			return nil, &InvalidError{Path: at + ".delay_ms", Msg: "must not be negative"}
		}
		h, err := pairs(at+".headers", u.Headers)
		if err != nil {
			return nil, err
		}
		s.Upstreams[name] = Upstream{Status: u.Status, Headers: h, Body: u.Body, DelayMs: u.DelayMs}
	}
	for i, r := range f.Requests {
		at := fmt.Sprintf("requests[%d]", i)
		if r.AdvanceMs < 0 {
			return nil, &InvalidError{Path: at + ".advance_ms", Msg: "must not be negative"}
		}
		h, err := pairs(at+".headers", r.Headers)
		if err != nil {
			return nil, err
		}
		s.Requests = append(s.Requests, Request{
			Name: r.Name, Method: r.Method, Path: r.Path, Authority: r.Authority, Scheme: r.Scheme,
			Headers: h, Body: r.Body, SourceAddress: r.SourceAddress, DestinationAddress: r.DestinationAddress,
			AdvanceMs: r.AdvanceMs,
		})
	}
	return s, nil
}

// pairs checks a header list: every entry is [name, value] with a
// non-empty name.
func pairs(at string, in [][]string) ([][2]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([][2]string, len(in))
	for i, kv := range in {
		if len(kv) != 2 {
			return nil, &InvalidError{Path: fmt.Sprintf("%s[%d]", at, i), Msg: fmt.Sprintf("a header is [name, value], got %d elements", len(kv))}
		}
		if kv[0] == "" {
			return nil, &InvalidError{Path: fmt.Sprintf("%s[%d]", at, i), Msg: "empty header name"}
		}
		out[i] = [2]string{kv[0], kv[1]}
	}
	return out, nil
}
