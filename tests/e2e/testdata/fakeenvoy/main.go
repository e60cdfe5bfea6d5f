// Command fakeenvoy is a stand-in for the envoy binary that lets the e2e
// harness (process start, admin readiness, port rewriting, the request
// script) run where no Envoy is installed. It is NOT Envoy and proves
// nothing about Envoy: it reads the few fields of a static bootstrap the
// harness relies on and serves them with hostsim's HTTP front end.
//
// The e2e tests use it only when TOKENGATE_E2E_FAKE_ENVOY=1, and say so in
// their output. It lives under testdata so `go build ./...` and
// `go test ./...` ignore it.
//
// Supported: -c FILE, --mode validate (decode and exit), the first listener,
// the admin address (GET /ready answers LIVE), STATIC clusters on
// 127.0.0.1, the first route's cluster as the upstream, the Wasm filter's
// local filename, StringValue configuration, root_id, vm_config
// host_env_keys. Every other flag is ignored.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"sigs.k8s.io/yaml"

	"github.com/tokengate/tokengate/hostsim/serve"
)

type addr struct {
	SocketAddress struct {
		Address   string `json:"address"`
		PortValue int    `json:"port_value"`
	} `json:"socket_address"`
}

type bootstrap struct {
	Admin struct {
		Address addr `json:"address"`
	} `json:"admin"`
	StaticResources struct {
		Listeners []struct {
			Address      addr `json:"address"`
			FilterChains []struct {
				Filters []struct {
					TypedConfig struct {
						RouteConfig struct {
							VirtualHosts []struct {
								Routes []struct {
									Route struct {
										Cluster string `json:"cluster"`
									} `json:"route"`
								} `json:"routes"`
							} `json:"virtual_hosts"`
						} `json:"route_config"`
						HTTPFilters []struct {
							Name        string `json:"name"`
							TypedConfig struct {
								Config struct {
									RootID   string `json:"root_id"`
									VMConfig struct {
										Code struct {
											Local struct {
												Filename string `json:"filename"`
											} `json:"local"`
										} `json:"code"`
										EnvironmentVariables struct {
											HostEnvKeys []string `json:"host_env_keys"`
										} `json:"environment_variables"`
									} `json:"vm_config"`
									Configuration struct {
										Value string `json:"value"`
									} `json:"configuration"`
								} `json:"config"`
							} `json:"typed_config"`
						} `json:"http_filters"`
					} `json:"typed_config"`
				} `json:"filters"`
			} `json:"filter_chains"`
		} `json:"listeners"`
		Clusters []struct {
			Name           string `json:"name"`
			LoadAssignment struct {
				Endpoints []struct {
					LbEndpoints []struct {
						Endpoint struct {
							Address addr `json:"address"`
						} `json:"endpoint"`
					} `json:"lb_endpoints"`
				} `json:"endpoints"`
			} `json:"load_assignment"`
		} `json:"clusters"`
	} `json:"static_resources"`
}

func main() {
	var cfgPath string
	validate := false
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-c", "--config-path":
			if i+1 < len(args) {
				cfgPath = args[i+1]
				i++
			}
		case "--mode":
			if i+1 < len(args) {
				validate = args[i+1] == "validate"
				i++
			}
		}
	}
	if err := run(cfgPath, validate); err != nil {
		fmt.Fprintln(os.Stderr, "fakeenvoy:", err)
		os.Exit(1)
	}
}

func run(cfgPath string, validate bool) error {
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(src)
	if err != nil {
		return err
	}
	var b bootstrap
	if err := json.Unmarshal(js, &b); err != nil {
		return err
	}
	sr := b.StaticResources
	if len(sr.Listeners) == 0 || len(sr.Listeners[0].FilterChains) == 0 || len(sr.Listeners[0].FilterChains[0].Filters) == 0 {
		return errors.New("no listener with an HTTP connection manager")
	}
	hcm := sr.Listeners[0].FilterChains[0].Filters[0].TypedConfig
	clusters := map[string]string{}
	for _, c := range sr.Clusters {
		for _, e := range c.LoadAssignment.Endpoints {
			for _, lb := range e.LbEndpoints {
				a := lb.Endpoint.Address.SocketAddress
				clusters[c.Name] = "http://" + net.JoinHostPort(a.Address, strconv.Itoa(a.PortValue))
			}
		}
	}
	upstreamName := ""
	if vh := hcm.RouteConfig.VirtualHosts; len(vh) > 0 && len(vh[0].Routes) > 0 {
		upstreamName = vh[0].Routes[0].Route.Cluster
	}
	upstream, ok := clusters[upstreamName]
	if !ok {
		return fmt.Errorf("route cluster %q not defined", upstreamName)
	}
	var opts serve.Options
	var wasmPath string
	for _, f := range hcm.HTTPFilters {
		if f.Name != "envoy.filters.http.wasm" {
			continue
		}
		c := f.TypedConfig.Config
		wasmPath = c.VMConfig.Code.Local.Filename
		env := map[string]string{}
		for _, k := range c.VMConfig.EnvironmentVariables.HostEnvKeys {
			if v, ok := os.LookupEnv(k); ok { // Envoy skips keys absent from its environment
				env[k] = v
			}
		}
		opts = serve.Options{Upstream: upstream, Clusters: clusters, PluginConfig: []byte(c.Configuration.Value),
			RootID: c.RootID, Env: env, Workers: 2}
	}
	if wasmPath == "" {
		return errors.New("no envoy.filters.http.wasm filter with a local module")
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Logger = log.New(os.Stderr, "fakeenvoy: ", log.LstdFlags)
	srv, err := serve.New(ctx, wasm, opts)
	if err != nil {
		return fmt.Errorf("plugin refused to start: %w", err)
	}
	defer srv.Close(context.Background())
	if validate {
		fmt.Fprintln(os.Stderr, "fakeenvoy: configuration OK (not Envoy: a harness stand-in)")
		return nil
	}
	la := sr.Listeners[0].Address.SocketAddress
	ln, err := net.Listen("tcp", net.JoinHostPort(la.Address, strconv.Itoa(la.PortValue)))
	if err != nil {
		return err
	}
	aa := b.Admin.Address.SocketAddress
	adminLn, err := net.Listen("tcp", net.JoinHostPort(aa.Address, strconv.Itoa(aa.PortValue)))
	if err != nil {
		return err
	}
	admin := http.NewServeMux()
	admin.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "LIVE\n") })
	go http.Serve(adminLn, admin)
	go http.Serve(ln, srv)
	<-ctx.Done()
	return nil
}
