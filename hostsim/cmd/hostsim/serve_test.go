package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeCommand wires the flags end to end: a request allowed after a
// callout to a --cluster reaches --upstream with the plugin's headers, the
// --env value reaches the plugin, --allow-on-headers-stop-iteration lets a
// body callback resume a request paused in its headers, and the command
// stops cleanly on cancel.
func TestServeCommand(t *testing.T) {
	guest, err := guesttest.ScenarioPath()
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "up:"+r.URL.Path+":"+r.Header.Get("X-Callout-Body")+":"+r.Header.Get("X-Env"))
	}))
	defer upstream.Close()
	cluster := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "cluster-ok")
	}))
	defer cluster.Close()
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("words"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A free port: listen, note it, release it for the command.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- cli(ctx, []string{"serve", "--wasm", guest, "--config", config, "--listen", addr,
			"--upstream", upstream.URL, "--cluster", "authz=" + cluster.URL, "--env", "GREETING=hello",
			"--profile", "envoy-current", "--allow-on-headers-stop-iteration"}, io.Discard, &stderr)
	}()
	var resp *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; {
		req, _ := http.NewRequest("GET", "http://"+addr+"/p", nil)
		req.Header.Set("x-op", "callout")
		req.Header.Set("x-cluster", "authz")
		resp, err = http.DefaultClient.Do(req)
		if err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "up:/p:cluster-ok:" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/e", nil)
	req.Header.Set("x-op", "env")
	req.Header.Set("x-env-name", "GREETING")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "up:/e::hello|true" {
		t.Fatalf("env: got %q", body)
	}
	// The guest pauses in on_request_headers and continues from the body
	// callback: only --allow-on-headers-stop-iteration lets that resume
	// the request (without it Envoy, and serve, never resume it: 503).
	req, _ = http.NewRequest("POST", "http://"+addr+"/b", strings.NewReader("payload"))
	req.Header.Set("x-op", "pause")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "up:/b::" {
		t.Fatalf("paused in headers, resumed by the body: got %d %q", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, "listening on http://"+addr) || !strings.Contains(log, "request GET /p: forwarded 200") {
		t.Fatalf("log:\n%s", log)
	}
}
