package serve_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tokengate/tokengate/hostsim"
	"github.com/tokengate/tokengate/hostsim/internal/guesttest"
	"github.com/tokengate/tokengate/hostsim/serve"
)

var cache = wazero.NewCompilationCache()

// seen is what a test upstream or cluster received.
type seen struct {
	Method, URI, Host, Body string
	Header                  http.Header
}

// recorder is an httptest server that records requests and answers with
// a fixed status and body.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T, status int, body string) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Body: string(b), Header: r.Header.Clone()})
		rec.mu.Unlock()
		w.Header().Set("X-From", "upstream")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the server got no request")
	}
	return r.reqs[len(r.reqs)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// proxy starts the guest behind serve, in front of upstream, and returns
// the proxy's URL.
func proxy(t *testing.T, o serve.Options) string {
	t.Helper()
	wasm, err := guesttest.ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	return proxyWasm(t, wasm, o)
}

// proxyWasm is proxy for any module.
func proxyWasm(t *testing.T, wasm []byte, o serve.Options) string {
	t.Helper()
	o.Profile = hostsim.ProfileEnvoyCurrent
	o.Config = o.Config.WithCompilationCache(cache)
	var logs bytes.Buffer
	o.Logger = log.New(&lockedWriter{w: &logs}, "", 0)
	srv, err := serve.New(context.Background(), wasm, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("proxy log:\n%s", logs.String())
		}
	})
	return ts.URL
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func get(t *testing.T, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	return do(t, "GET", url, "", headers...)
}

func do(t *testing.T, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestForwardedWithPluginHeaders(t *testing.T) {
	up := newRecorder(t, 200, "hello from upstream")
	url := proxy(t, serve.Options{Upstream: up.URL + "/base"})
	resp, body := do(t, "POST", url+"/items?limit=5", "payload", "X-Op", "add", "X-Dup", "1", "X-Dup", "2")
	if resp.StatusCode != 200 || body != "hello from upstream" || resp.Header.Get("X-From") != "upstream" {
		t.Fatalf("client got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	got := up.last(t)
	if got.Method != "POST" || got.URI != "/base/items?limit=5" || got.Body != "payload" {
		t.Fatalf("upstream got %s %s %q", got.Method, got.URI, got.Body)
	}
	if got.Header.Get("X-Added") != "yes" {
		t.Fatalf("plugin header missing upstream: %v", got.Header)
	}
	if d := got.Header.Values("X-Dup"); len(d) != 2 || d[0] != "1" || d[1] != "2" {
		t.Fatalf("duplicate headers: %q", d)
	}
	if got.Header.Get("X-Forwarded-For") != "" {
		t.Fatalf("the proxy added X-Forwarded-For: %v", got.Header)
	}
}

func TestForwardedPathRewritten(t *testing.T) {
	up := newRecorder(t, 200, "")
	url := proxy(t, serve.Options{Upstream: up.URL})
	resp, _ := get(t, url+"/original?q=1", "x-op", "path")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := up.last(t).URI; got != "/rewritten" {
		t.Fatalf("upstream got %s, want the plugin's :path", got)
	}
}

func TestDeniedGetsLocalReply(t *testing.T) {
	up := newRecorder(t, 200, "")
	url := proxy(t, serve.Options{Upstream: up.URL})
	for _, tc := range []struct {
		name, op, body, ctype string
		status                int
	}{
		{"reply with body", "reply", "denied <here> & now", "text/plain", 403},
		{"reply with its own content-type", "reply-typed", `{"error":"bad"}`, "application/json", 400},
		{"reply without body", "reply-empty", "", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, url+"/x", "x-op", tc.op)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Fatalf("content-type %q, want %q", got, tc.ctype)
			}
			if resp.Header.Get("Date") != "" {
				t.Fatal("a local reply must not carry Date")
			}
		})
	}
	resp, _ := get(t, url+"/x", "x-op", "reply")
	if d := resp.Header.Values("X-Dup"); len(d) != 2 || resp.Header.Get("X-Why") != "test" {
		t.Fatalf("plugin reply headers lost: %v", resp.Header)
	}
	if up.count() != 0 {
		t.Fatalf("a denied request reached the upstream %d times", up.count())
	}
}

// TestCalloutOverRealHTTP: proxy_http_call reaches the cluster's server
// over HTTP, and its answer decides the request.
func TestCalloutOverRealHTTP(t *testing.T) {
	up := newRecorder(t, 200, "")
	allow := newRecorder(t, 200, "verdict-ok")
	deny := newRecorder(t, 403, "no")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on
	url := proxy(t, serve.Options{Upstream: up.URL, Clusters: map[string]string{
		"authz": allow.URL, "deny": deny.URL, "dead": deadURL}})

	resp, _ := get(t, url+"/a", "x-op", "callout", "x-cluster", "authz")
	if resp.StatusCode != 200 {
		t.Fatalf("allowed callout: status %d", resp.StatusCode)
	}
	call := allow.last(t)
	if call.Method != "GET" || call.URI != "/check" || call.Host != "authz" {
		t.Fatalf("cluster got %s %s host %q", call.Method, call.URI, call.Host)
	}
	if h := up.last(t).Header; h.Get("X-Callout-Status") != "200" || h.Get("X-Callout-Body") != "verdict-ok" {
		t.Fatalf("upstream did not see the callout's answer: %v", h)
	}

	for _, tc := range []struct{ cluster, body string }{
		{"deny", "callout said 403"},
		{"dead", "callout said 503"},
		{"unknown", "callout failed"},
	} {
		resp, body := get(t, url+"/a", "x-op", "callout", "x-cluster", tc.cluster)
		if resp.StatusCode == 200 || body != tc.body {
			t.Errorf("cluster %s: got %d %q, want a refusal %q", tc.cluster, resp.StatusCode, body, tc.body)
		}
	}
	if up.count() != 1 {
		t.Fatalf("upstream got %d requests, want only the allowed one", up.count())
	}
}

func TestAddresses(t *testing.T) {
	up := newRecorder(t, 200, "")
	url := proxy(t, serve.Options{Upstream: up.URL})
	get(t, url+"/", "x-op", "props")
	h := up.last(t).Header
	host := strings.TrimPrefix(url, "http://")
	if h.Get("X-Dst") != host || !strings.HasPrefix(h.Get("X-Src"), "127.0.0.1:") {
		t.Fatalf("source %q destination %q (proxy at %s)", h.Get("X-Src"), h.Get("X-Dst"), host)
	}
}

func TestTrapFailsClosed(t *testing.T) {
	up := newRecorder(t, 200, "")
	url := proxy(t, serve.Options{Upstream: up.URL})
	for _, op := range []string{"trap", "add"} {
		resp, body := get(t, url+"/", "x-op", op)
		if resp.StatusCode != 503 || body != "" {
			t.Fatalf("op %s: got %d %q, want 503 and no body (the VM is dead)", op, resp.StatusCode, body)
		}
	}
	if up.count() != 0 {
		t.Fatal("a request passed a dead VM")
	}
}

func TestBodyLimit(t *testing.T) {
	up := newRecorder(t, 200, "")
	url := proxy(t, serve.Options{Upstream: up.URL, MaxRequestBytes: 8})
	if resp, _ := do(t, "POST", url+"/", "123456789", "x-op", "add"); resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", url+"/", "12345678", "x-op", "add"); resp.StatusCode != 200 {
		t.Fatalf("status %d at the limit", resp.StatusCode)
	}
}

// TestConcurrentRequests: requests from many goroutines share two worker
// VMs; each VM runs one request at a time, and every request is answered.
func TestConcurrentRequests(t *testing.T) {
	up := newRecorder(t, 200, "ok")
	url := proxy(t, serve.Options{Upstream: up.URL, Workers: 2})
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := "add"
			if i%2 == 1 {
				op = "reply"
			}
			req, _ := http.NewRequest("GET", url+"/", nil)
			req.Header.Set("x-op", op)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if want := map[string]int{"add": 200, "reply": 403}[op]; resp.StatusCode != want {
				errs <- op + ": " + resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if up.count() != 20 {
		t.Fatalf("upstream got %d, want 20", up.count())
	}
}

func TestNewRefuses(t *testing.T) {
	wasm, err := guesttest.ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := serve.Options{Profile: hostsim.ProfileEnvoyCurrent, Config: hostsim.Config{}.WithCompilationCache(cache)}
	for _, tc := range []struct {
		name string
		edit func(o *serve.Options)
		want string
	}{
		{"no upstream", func(o *serve.Options) {}, "no upstream"},
		{"upstream not a URL", func(o *serve.Options) { o.Upstream = "localhost:80" }, "not an http(s) URL"},
		{"bad cluster URL", func(o *serve.Options) {
			o.Upstream = "http://127.0.0.1:1"
			o.Clusters = map[string]string{"c": "ftp://x"}
		}, `cluster "c"`},
		{"configuration refused", func(o *serve.Options) {
			o.Upstream = "http://127.0.0.1:1"
			o.PluginConfig = []byte("fail")
		}, "proxy_on_configure returned false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			srv, err := serve.New(ctx, wasm, o)
			if err == nil {
				srv.Close(ctx)
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// The log carries the plugin's records and one line per request, never
// header values (they may be credentials).
func TestLogHasNoHeaderValues(t *testing.T) {
	up := newRecorder(t, 200, "")
	wasm, err := guesttest.ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	srv, err := serve.New(context.Background(), wasm, serve.Options{Upstream: up.URL, Profile: hostsim.ProfileEnvoyCurrent,
		Config: hostsim.Config{}.WithCompilationCache(cache), Logger: log.New(&buf, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	ts := httptest.NewServer(srv)
	defer ts.Close()
	get(t, ts.URL+"/path?token=query-secret", "x-op", "add", "authorization", "Bearer header-secret")
	out := buf.String()
	if !strings.Contains(out, "request GET /path: forwarded 200") || !strings.Contains(out, "wasm info: configure") {
		t.Fatalf("log:\n%s", out)
	}
	for _, secret := range []string{"query-secret", "header-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log leaks %s:\n%s", secret, out)
		}
	}
}

// TestTicksFollowRealTime: with no requests at all, the plugin's ticks
// (period 20 ms) are delivered as real time passes.
func TestTicksFollowRealTime(t *testing.T) {
	wasm, err := guesttest.ScenarioWasm()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := serve.New(ctx, wasm, serve.Options{Upstream: "http://127.0.0.1:1", PluginConfig: []byte("tick=20"),
		ClockInterval: 10 * time.Millisecond, Profile: hostsim.ProfileEnvoyCurrent,
		Config: hostsim.Config{}.WithCompilationCache(cache)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m, ok := srv.Host().Metric("ticks"); ok && m.Value >= 3 {
			return
		}
		if time.Now().After(deadline) {
			m, _ := srv.Host().Metric("ticks")
			t.Fatalf("only %d ticks delivered", m.Value)
		}
	}
}
