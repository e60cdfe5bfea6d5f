package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
)

// Result is the output of a scenario (shared/docs/scenario.md, "Output").
// The json tags let a test read an encoded result back with encoding/json.
type Result struct {
	VMStartOK   bool             `json:"vm_start_ok"`
	ConfigureOK bool             `json:"configure_ok"`
	Logs        []Log            `json:"logs"`
	Metrics     map[string]int64 `json:"metrics"`
	Results     []RequestResult  `json:"results"`
}

// Log is one log record.
type Log struct {
	Level   string `json:"level"` // trace, debug, info, warn, error, critical
	Message string `json:"message"`
}

// RequestResult is what happened to one request.
type RequestResult struct {
	Name string `json:"name"`
	// Outcome is forwarded, local_reply, paused_forever or trap; hostsim
	// also reports reset when the plugin closed the stream
	// (proxy_close_stream), which scenario.md does not list.
	Outcome string      `json:"outcome"`
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
	Logs    []Log       `json:"logs"`
}

func newResult() *Result {
	return &Result{Logs: []Log{}, Metrics: map[string]int64{}, Results: []RequestResult{}}
}

// Encode writes r as one JSON object followed by a newline, in a fixed
// layout: keys in the documented order, metrics sorted by name, one header
// pair or log record per line, empty lists as [] and {} (never null), no
// HTML escaping. The same result always gives the same bytes, so outputs
// can be compared with diff.
//
// # Notes
//
// Bodies are JSON strings: bytes that are not valid UTF-8 come out as
// U+FFFD, as with encoding/json.
func (r *Result) Encode(w io.Writer) error {
	bw := bufio.NewWriter(w)
	e := &encoder{w: bw}
	e.raw("{\n")
	e.raw(`  "vm_start_ok": ` + strconv.FormatBool(r.VMStartOK) + ",\n")
	e.raw(`  "configure_ok": ` + strconv.FormatBool(r.ConfigureOK) + ",\n")
	e.raw(`  "logs": `)
	e.logs(r.Logs, "  ")
	e.raw(",\n")
	e.raw(`  "metrics": `)
	e.metrics(r.Metrics)
	e.raw(",\n")
	e.raw(`  "results": `)
	if len(r.Results) == 0 {
		e.raw("[]")
	} else {
		e.raw("[\n")
		for i, rr := range r.Results {
			e.request(rr)
			e.sep(i, len(r.Results))
		}
		e.raw("  ]")
	}
	e.raw("\n}\n")
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

type encoder struct {
	w   *bufio.Writer
	err error
	buf bytes.Buffer
}

func (e *encoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// str writes s as a JSON string without HTML escaping.
func (e *encoder) str(s string) {
	e.buf.Reset()
	enc := json.NewEncoder(&e.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil && e.err == nil {
		e.err = err
	}
	e.raw(string(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))))
}

// sep ends element i of n: a comma unless it is the last, then a newline.
func (e *encoder) sep(i, n int) {
	if i < n-1 {
		e.raw(",")
	}
	e.raw("\n")
}

func (e *encoder) logs(ls []Log, indent string) {
	if len(ls) == 0 {
		e.raw("[]")
		return
	}
	e.raw("[\n")
	for i, l := range ls {
		e.raw(indent + `  {"level": `)
		e.str(l.Level)
		e.raw(`, "message": `)
		e.str(l.Message)
		e.raw("}")
		e.sep(i, len(ls))
	}
	e.raw(indent + "]")
}

func (e *encoder) metrics(m map[string]int64) {
	if len(m) == 0 {
		e.raw("{}")
		return
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	e.raw("{\n")
	for i, n := range names {
		e.raw("    ")
		e.str(n)
		e.raw(": " + strconv.FormatInt(m[n], 10))
		e.sep(i, len(names))
	}
	e.raw("  }")
}

func (e *encoder) request(rr RequestResult) {
	e.raw("    {\n")
	e.raw(`      "name": `)
	e.str(rr.Name)
	e.raw(",\n")
	e.raw(`      "outcome": `)
	e.str(rr.Outcome)
	e.raw(",\n")
	e.raw(`      "status": ` + strconv.Itoa(rr.Status) + ",\n")
	e.raw(`      "headers": `)
	if len(rr.Headers) == 0 {
		e.raw("[]")
	} else {
		e.raw("[\n")
		for i, h := range rr.Headers {
			e.raw("        [")
			e.str(h[0])
			e.raw(", ")
			e.str(h[1])
			e.raw("]")
			e.sep(i, len(rr.Headers))
		}
		e.raw("      ]")
	}
	e.raw(",\n")
	e.raw(`      "body": `)
	e.str(rr.Body)
	e.raw(",\n")
	e.raw(`      "logs": `)
	e.logs(rr.Logs, "      ")
	e.raw("\n    }")
}
