// Package demo_test checks the `make run` demo end to end: the demo's
// handler (the real module in hostsim/serve) on a random 127.0.0.1 port,
// every printed curl line parsed back and replayed with net/http, each
// status and refusal reason as the line says.
package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/envoy/demo"
)

func wasmModule(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "build", "tokengate.wasm"))
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("build/tokengate.wasm is missing: run make wasm")
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDemoCurlLinesGiveWhatTheySay(t *testing.T) {
	wasm := wasmModule(t)
	setup, err := demo.Load(filepath.Join("..", "..", "envoy", "demo", "tokengate.template.json"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := setup.Start(ctx, wasm, 2)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: run.Handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); run.Close(ctx) })
	base := "http://" + ln.Addr().String()

	examples, err := setup.Examples(base, startOfWindow())
	if err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	demo.WriteExamples(&printed, examples, "tokengate")
	lines := parsePrinted(t, printed.String())
	if len(lines) != len(examples) {
		t.Fatalf("read %d curl lines back from %d examples:\n%s", len(lines), len(examples), printed.String())
	}
	kinds := map[string][2]int{}
	for _, l := range lines {
		t.Run(l.kind+"/"+l.note, func(t *testing.T) {
			req, err := parseCurl(l.curl)
			if err != nil {
				t.Fatalf("%v\n%s", err, l.curl)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != l.status {
				t.Fatalf("status %d, the line says %d\n%s\n%s", resp.StatusCode, l.status, l.curl, body)
			}
			if l.allowed {
				var echo struct {
					Upstream string
					Headers  map[string]string
				}
				if err := json.Unmarshal(body, &echo); err != nil || echo.Upstream != "tokengate demo echo" {
					t.Fatalf("not the echo upstream's answer: %s", body)
				}
				if _, ok := echo.Headers["x-tokengate-provider"]; !ok && l.kind != "anonymous" {
					t.Fatalf("upstream saw no identity headers: %s", body)
				}
				return
			}
			var reply struct{ Error string }
			if err := json.Unmarshal(body, &reply); err != nil || reply.Error != l.reason {
				t.Fatalf("reply %s, the line says %q\n%s", body, l.reason, l.curl)
			}
		})
		c := kinds[l.kind]
		if l.allowed {
			c[0]++
		} else {
			c[1]++
		}
		kinds[l.kind] = c
	}
	for k, c := range kinds {
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("kind %s has %d allowed and %d refused lines; want at least one of each", k, c[0], c[1])
		}
	}
	if len(kinds) < 13 {
		t.Errorf("only %d kinds demonstrated", len(kinds))
	}
}

// printedLine is one example as the demo prints it: the "## kind" heading
// it is under, its "# allowed: 200 — note" / "# refused: 401 reason — note"
// comment, and the curl line after it.
type printedLine struct {
	kind, note, reason, curl string
	allowed                  bool
	status                   int
}

func parsePrinted(t *testing.T, out string) []printedLine {
	t.Helper()
	var res []printedLine
	kind := ""
	var pending *printedLine
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			kind = line[3:]
		case strings.HasPrefix(line, "# allowed: ") || strings.HasPrefix(line, "# refused: "):
			verdict, note, ok := strings.Cut(line[len("# allowed: "):], " — ")
			if !ok {
				t.Fatalf("comment without a note: %q", line)
			}
			f := strings.Fields(verdict)
			st, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("no status in %q", line)
			}
			pending = &printedLine{kind: kind, note: note, allowed: strings.HasPrefix(line, "# allowed"), status: st}
			if !pending.allowed {
				if len(f) != 2 {
					t.Fatalf("refusal without a reason: %q", line)
				}
				pending.reason = f[1]
			}
		case strings.HasPrefix(line, "curl "):
			if pending == nil {
				t.Fatalf("curl line without a verdict comment: %q", line)
			}
			pending.curl = line
			res = append(res, *pending)
			pending = nil
		}
	}
	return res
}

func startOfWindow() time.Time {
	now := time.Now()
	if left := 30 - now.Unix()%30; left < 10 {
		time.Sleep(time.Duration(left) * time.Second)
	}
	return time.Now()
}

func parseCurl(line string) (*http.Request, error) {
	words, err := shellWords(line)
	if err != nil {
		return nil, err
	}
	if len(words) < 2 || words[0] != "curl" {
		return nil, errors.New("not a curl line")
	}
	method, url, body := "", "", ""
	var headers [][2]string
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-i":
		case "-X", "-H", "--data-binary":
			if i+1 == len(words) {
				return nil, errors.New(w + " without a value")
			}
			i++
			switch w {
			case "-X":
				method = words[i]
			case "-H":
				n, v, ok := strings.Cut(words[i], ":")
				if !ok {
					return nil, errors.New("bad header " + words[i])
				}
				headers = append(headers, [2]string{n, strings.TrimSpace(v)})
			default:
				body = words[i]
			}
		default:
			if strings.HasPrefix(w, "-") || url != "" {
				return nil, errors.New("unexpected word " + w)
			}
			url = w
		}
	}
	if method == "" {
		method = "GET"
		if body != "" {
			method = "POST"
		}
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	return req, nil
}

func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted:
			if c == '\'' {
				quoted = false
			} else {
				cur.WriteByte(c)
			}
		case c == '\'':
			quoted, in = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
