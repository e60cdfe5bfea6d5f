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
	kinds := map[string][2]int{}
	for _, ex := range examples {
		line := ex.Curl()
		t.Run(ex.Kind+"/"+ex.Note, func(t *testing.T) {
			req, err := parseCurl(line)
			if err != nil {
				t.Fatalf("%v\n%s", err, line)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != ex.Status {
				t.Fatalf("status %d, the line says %d\n%s\n%s", resp.StatusCode, ex.Status, line, body)
			}
			if ex.Allowed {
				var echo struct {
					Upstream string
					Headers  map[string]string
				}
				if err := json.Unmarshal(body, &echo); err != nil || echo.Upstream != "tokengate demo echo" {
					t.Fatalf("not the echo upstream's answer: %s", body)
				}
				if _, ok := echo.Headers["x-tokengate-provider"]; !ok && ex.Kind != "anonymous" {
					t.Fatalf("upstream saw no identity headers: %s", body)
				}
				return
			}
			var reply struct{ Error string }
			if err := json.Unmarshal(body, &reply); err != nil || reply.Error != ex.Reason {
				t.Fatalf("reason %q, the line says %q\n%s", body, ex.Reason, line)
			}
		})
		c := kinds[ex.Kind]
		if ex.Allowed {
			c[0]++
		} else {
			c[1]++
		}
		kinds[ex.Kind] = c
	}
	for k, c := range kinds {
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("kind %s has %d allowed and %d refused lines; want at least one of each", k, c[0], c[1])
		}
	}
	if len(kinds) < 9 {
		t.Errorf("only %d kinds demonstrated", len(kinds))
	}
}

// parseCurl reads back what the demo prints: curl -i [-X M] [-H 'h']...
// [--data-binary 'b'] 'URL', single-quoted as a POSIX shell would.
// startOfWindow returns now once at least 10 of the current 30-second
// rolling-code window remain, waiting for the next window otherwise: the
// lines are replayed one after the other, and a code minted at the very end
// of its window would be refused before its line comes up.
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
