// Package leakscan finds secrets where they must never appear: log lines,
// refusal bodies and reply headers. A suite registers every secret, key and
// full token of its fixtures, then checks each hostsim result; any hit is a
// test failure.
//
// # What counts as a leak
//
// A registered value found verbatim, or in one of the encodings a careless
// log line would produce from raw bytes (hex, standard and URL-safe base64,
// padded or not). Values shorter than MinLen are not registered: short
// strings ("1", "read") occur everywhere and would only produce noise; every
// real secret in the fixtures is far longer.
//
// The scanner never prints a secret: a finding names where the leak is and
// which registered value (by its index and length) was found.
package leakscan

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/tokengate/tokengate/hostsim"
)

// MinLen is the shortest value the scanner registers.
const MinLen = 8

// Scanner holds the registered values. It is safe for concurrent use.
type Scanner struct {
	mu     sync.RWMutex
	needle []string
	origin []int // index of the registered value each needle came from
	seen   map[string]bool
	n      int
}

// New returns an empty scanner.
func New() *Scanner { return &Scanner{seen: map[string]bool{}} }

// Add registers a textual secret (a key, a token).
func (s *Scanner) Add(v string) {
	if len(v) < MinLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[v] {
		return
	}
	s.n++
	s.add(v)
}

// AddBytes registers raw secret bytes and their usual encodings.
func (s *Scanner) AddBytes(b []byte) {
	if len(b) < MinLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[string(b)] {
		return
	}
	s.n++
	s.add(string(b))
	s.add(hex.EncodeToString(b))
	s.add(base64.StdEncoding.EncodeToString(b))
	s.add(base64.RawStdEncoding.EncodeToString(b))
	s.add(base64.URLEncoding.EncodeToString(b))
	s.add(base64.RawURLEncoding.EncodeToString(b))
}

func (s *Scanner) add(v string) {
	if s.seen[v] {
		return
	}
	s.seen[v] = true
	s.needle = append(s.needle, v)
	s.origin = append(s.origin, s.n)
}

// Len is the number of registered values.
func (s *Scanner) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// Finding is one leak.
type Finding struct {
	Where  string // e.g. "log[3]", "reply body"
	Secret int    // 1-based index of the registered value
	Length int
}

func (f Finding) String() string {
	return fmt.Sprintf("%s contains registered secret #%d (%d bytes)", f.Where, f.Secret, f.Length)
}

// Text scans one piece of text.
func (s *Scanner) Text(where, text string) []Finding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Finding
	for i, n := range s.needle {
		if strings.Contains(text, n) {
			out = append(out, Finding{Where: where, Secret: s.origin[i], Length: len(n)})
		}
	}
	return out
}

// Logs scans log records.
func (s *Scanner) Logs(where string, logs []hostsim.LogEntry) []Finding {
	var out []Finding
	for i, l := range logs {
		out = append(out, s.Text(fmt.Sprintf("%s log[%d]", where, i), l.Message)...)
	}
	return out
}

// Result scans what a request produced that a client or an operator can
// read: every log line, and for a local reply its headers and body. A
// forwarded request's headers are the upstream's business (a shadow rule or
// strip_credentials: false forwards credentials on purpose), so they are
// not scanned here.
func (s *Scanner) Result(where string, r *hostsim.Result) []Finding {
	if r == nil {
		return nil
	}
	out := s.Logs(where, r.Logs)
	if r.Outcome == hostsim.OutcomeLocalReply {
		out = append(out, s.Text(where+" reply body", string(r.Body))...)
		out = append(out, s.Text(where+" reply details", r.Details)...)
		for _, h := range r.Headers {
			out = append(out, s.Text(where+" reply header "+h[0], h[1])...)
		}
	}
	if r.Response != nil {
		out = append(out, s.Text(where+" response body", string(r.Response.Body))...)
		for _, h := range r.Response.Headers {
			out = append(out, s.Text(where+" response header "+h[0], h[1])...)
		}
	}
	return out
}

// ResultWith is Result, also looking for extra: values of this one request
// only (its credentials), which are not worth registering for good.
func (s *Scanner) ResultWith(where string, r *hostsim.Result, extra []string) []Finding {
	out := s.Result(where, r)
	if r == nil {
		return out
	}
	var texts []string
	for _, l := range r.Logs {
		texts = append(texts, l.Message)
	}
	if r.Outcome == hostsim.OutcomeLocalReply {
		texts = append(texts, string(r.Body), r.Details)
		for _, h := range r.Headers {
			texts = append(texts, h[1])
		}
	}
	for i, v := range extra {
		if len(v) < MinLen {
			continue
		}
		for _, t := range texts {
			if strings.Contains(t, v) {
				out = append(out, Finding{Where: where + " (request credential)", Secret: -(i + 1), Length: len(v)})
				break
			}
		}
	}
	return out
}

// TB is the part of testing.TB the helpers need.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Check reports every finding of r as a test error.
func (s *Scanner) Check(t TB, where string, r *hostsim.Result) {
	t.Helper()
	for _, f := range s.Result(where, r) {
		t.Errorf("secret leak: %s", f)
	}
}

// CheckLogs reports every finding in host-level logs as a test error.
func (s *Scanner) CheckLogs(t TB, where string, logs []hostsim.LogEntry) {
	t.Helper()
	for _, f := range s.Logs(where, logs) {
		t.Errorf("secret leak: %s", f)
	}
}
