// Package demo is the `make run` demo: the tokengate module served by
// hostsim/serve in front of an echo upstream, with a configuration that has
// one route per credential kind (tokengate.template.json), secrets generated
// on first run into secrets/, and ready-to-paste curl lines — one allowed and
// one refused per kind — minted fresh with plugin/token.
//
// The tokengate CLI (`tokengate demo`) wires it to a listener; tests/demo
// starts the same pieces in-process and replays every printed line.
//
// # Secrets
//
// Load creates what is missing in the secrets directory: one file per
// secret (mode 0600), an Ed25519 key pair for JWTs and signatures, an API
// key, and tokengate.json, the template with the key's hash filled in. Every
// other secret reaches the plugin through the VM environment
// ({"env": "TG_DEMO_..."}), as a real deployment should do it.
package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokengate/tokengate/hostsim/serve"
	"github.com/tokengate/tokengate/plugin/token"
)

// Setup is a demo's configuration and secrets, loaded or made by Load.
type Setup struct {
	Dir    string            // the secrets directory
	Config []byte            // the plugin configuration (secrets/tokengate.json)
	Env    map[string]string // the VM environment: the TG_DEMO_* secrets

	apiKey string
	botKey ed25519.PrivateKey
	// session and access are the opaque tokens the demo's auth service
	// knows (a session cookie and an OAuth access token).
	session, access string
	secrets         map[string][]byte
}

// secretSpec is one generated secret: its environment name and how many
// random bytes it holds (written as unpadded base64url text).
type secretSpec struct {
	env   string
	bytes int
}

var secretSpecs = []secretSpec{
	{"TG_DEMO_ROLLING_SEED", 24},
	{"TG_DEMO_M2M_SEED", 24},
	{"TG_DEMO_DJANGO_SECRET", 36},
	{"TG_DEMO_REPORTING_KEY", 24},
	{"TG_DEMO_HTTPSIG_SECRET", 32},
}

// Load reads the demo's secrets from dir (envoy/demo/secrets), making any
// that are missing, and the configuration from templatePath.
func Load(templatePath, dir string) (*Setup, error) {
	tmpl, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Setup{Dir: dir, Env: map[string]string{}, secrets: map[string][]byte{}}
	for _, sp := range secretSpecs {
		v, err := loadOrMake(filepath.Join(dir, strings.ToLower(sp.env)), func() ([]byte, error) {
			return randomText(sp.bytes)
		})
		if err != nil {
			return nil, err
		}
		s.secrets[sp.env] = v
		s.Env[sp.env] = string(v)
	}
	// Fernet keys are padded URL-safe base64 of 32 bytes.
	fk, err := loadOrMake(filepath.Join(dir, "tg_demo_fernet_key"), func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return []byte(base64.URLEncoding.EncodeToString(b)), err
	})
	if err != nil {
		return nil, err
	}
	s.secrets["TG_DEMO_FERNET_KEY"] = fk
	s.Env["TG_DEMO_FERNET_KEY"] = string(fk)

	keyPEM, err := loadOrMake(filepath.Join(dir, "bot.key"), func() ([]byte, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), err
	})
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New(filepath.Join(dir, "bot.key") + ": not PEM (delete it to make a new one)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	bk, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, errors.New(filepath.Join(dir, "bot.key") + ": not an Ed25519 PKCS#8 key (delete it to make a new one)")
	}
	s.botKey = bk
	pub, err := token.PublicPEM(bk.Public())
	if err != nil {
		return nil, err
	}
	s.Env["TG_DEMO_JWT_PUBLIC"] = pub
	if err := os.WriteFile(filepath.Join(dir, "bot.pub.pem"), []byte(pub), 0o644); err != nil {
		return nil, err
	}

	for _, t := range []struct {
		file string
		dst  *string
	}{{"session_token", &s.session}, {"access_token", &s.access}} {
		v, err := loadOrMake(filepath.Join(dir, t.file), func() ([]byte, error) { return randomText(24) })
		if err != nil {
			return nil, err
		}
		*t.dst = string(v)
	}

	key, err := loadOrMake(filepath.Join(dir, "api_key"), func() ([]byte, error) {
		k, err := token.NewAPIKey("demo", nil)
		return []byte(k.Key), err
	})
	if err != nil {
		return nil, err
	}
	s.apiKey = string(key)
	s.Config = bytes.ReplaceAll(tmpl, []byte("{{API_KEY_HASH}}"), []byte(token.APIKeyHash(s.apiKey)))
	if err := os.WriteFile(filepath.Join(dir, "tokengate.json"), s.Config, 0o644); err != nil {
		return nil, err
	}
	// The VM environment as one JSON object, for
	// tokengate explain/config check --env-file.
	env, err := json.MarshalIndent(s.Env, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "vm_env.json"), env, 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// loadOrMake returns the file's content, first writing make()'s result
// (mode 0600, never overwriting) when the file does not exist.
func loadOrMake(path string, make func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) == 0 {
			return nil, errors.New(path + " is empty (delete it to make a new one)")
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	v, err := make()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(v); err != nil {
		f.Close()
		return nil, err
	}
	return v, f.Close()
}

func randomText(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b)), nil
}

// Running is a started demo: Handler serves the plugin; Close stops it and
// the echo upstream.
type Running struct {
	Handler  http.Handler
	Upstream string // the echo upstream's base URL
	Auth     string // the auth service's base URL (cluster demo_auth)
	srv      *serve.Server
	echo     *http.Server
	auth     *http.Server
}

// Start runs the plugin in hostsim/serve with the demo configuration in
// front of a fresh echo upstream on 127.0.0.1.
func (s *Setup) Start(ctx context.Context, wasm []byte, workers int) (*Running, error) {
	echo, up, err := listen(http.HandlerFunc(Echo))
	if err != nil {
		return nil, err
	}
	auth, authURL, err := listen(s.authService())
	if err != nil {
		echo.Close()
		return nil, err
	}
	srv, err := serve.New(ctx, wasm, serve.Options{Upstream: up, PluginConfig: s.Config, Env: s.Env, Workers: workers,
		Clusters: map[string]string{"demo_auth": authURL}})
	if err != nil {
		echo.Close()
		auth.Close()
		return nil, err
	}
	return &Running{Handler: srv, Upstream: up, Auth: authURL, srv: srv, echo: echo, auth: auth}, nil
}

func listen(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

// authService is the demo's stand-in for the services behind the session
// and introspection providers: it knows one session token and one access
// token, and answers the providers' call-outs (see plugin/provider/session
// and plugin/provider/introspect for the contracts).
func (s *Setup) authService() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokengate/session", func(w http.ResponseWriter, r *http.Request) {
		var q struct{ Token string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&q); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("content-type", "application/json")
		if subtle.ConstantTimeCompare([]byte(q.Token), []byte(s.session)) != 1 {
			_, _ = w.Write([]byte(`{"valid":false}`))
			return
		}
		exp := time.Now().Add(time.Hour).Unix()
		_, _ = fmt.Fprintf(w, `{"valid":true,"subject":"web-user-7","role":"staff","expires_at":%d}`, exp)
	})
	mux.HandleFunc("POST /oauth2/introspect", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("content-type", "application/json")
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(s.access)) != 1 {
			_, _ = w.Write([]byte(`{"active":false}`))
			return
		}
		exp := time.Now().Add(time.Hour).Unix()
		_, _ = fmt.Fprintf(w, `{"active":true,"sub":"svc-7","scope":"orders:read orders:write","exp":%d}`, exp)
	})
	return mux
}

// Close stops the plugin, the upstream and the auth service.
func (r *Running) Close(ctx context.Context) error {
	err := r.srv.Close(ctx)
	r.echo.Close()
	r.auth.Close()
	return err
}

// Echo is the demo upstream: it answers 200 with a JSON description of the
// request it received, so the identity headers tokengate adds (and the
// credentials it strips) are visible.
func Echo(w http.ResponseWriter, r *http.Request) {
	headers := make(map[string]string, len(r.Header))
	for n, v := range r.Header {
		headers[strings.ToLower(n)] = strings.Join(v, ", ")
	}
	out := struct {
		Upstream string            `json:"upstream"`
		Method   string            `json:"method"`
		Path     string            `json:"path"`
		Host     string            `json:"host"`
		Headers  map[string]string `json:"headers"` // encoding/json sorts the names
	}{"tokengate demo echo", r.Method, r.URL.RequestURI(), r.Host, headers}
	w.Header().Set("content-type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
	}
}
