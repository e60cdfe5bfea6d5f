package hostsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// PluginConfig is what Envoy's PluginConfig and VmConfig give one plugin.
type PluginConfig struct {
	Name   string // plugin_name; log prefix
	RootID string // plugin_root_id
	VMID   string // plugin_vm_id; partitions shared data and queues
	// Configuration is buffer 7 during proxy_on_configure.
	Configuration []byte
	// VMConfiguration is buffer 6; its size is passed to proxy_on_vm_start.
	VMConfiguration []byte
	// Env is vm_config.environment_variables (WASI environ).
	Env map[string]string
	// Workers is the number of worker VMs (default 1). Envoy runs one VM per
	// worker thread, each with its own memory and its own root context.
	Workers int
	// NoCanary skips the canary VM Envoy starts (and throws away) to
	// validate the configuration. Keep it false for fidelity.
	NoCanary      bool
	FailurePolicy FailurePolicy
	// Upstream is the answer the main request's upstream gives when a
	// request is forwarded (default 200, no headers, empty body).
	Upstream *CannedResponse
	// AllowOnHeadersStopIteration mirrors the Envoy filter flag: when true,
	// PAUSE (1) from proxy_on_request_headers is a plain StopIteration —
	// body callbacks still reach the plugin with the headers readable, and
	// a body Continue resumes the stream. When false (Envoy's default) it
	// stops all iteration until the plugin resumes.
	AllowOnHeadersStopIteration bool
	// ShareVMs joins the worker VMs of an already started plugin with the
	// same VM key (VMID, VMConfiguration, Env, Workers), as Envoy shares a
	// VM between plugins: this plugin gets its own root context there (the
	// next id, typically 2) with its own context_create → vm_start →
	// configure, and guest globals are shared. Envoy does this
	// automatically; hostsim only when asked, so that tests starting
	// several plugins on one Host keep them apart unless they mean not to.
	// With no such plugin, StartPlugin starts fresh VMs as usual.
	ShareVMs bool
	// UpstreamHandler, when set, serves every forwarded request (see
	// Request.UpstreamHandler); e.g. an httputil.ReverseProxy for a real
	// upstream.
	UpstreamHandler http.Handler
}

// ErrConfigRejected is the category of StartPlugin failures where the
// module loaded but Envoy would reject the configuration.
var ErrConfigRejected = errors.New("hostsim: plugin configuration rejected")

// StartError says why StartPlugin failed. It unwraps to ErrConfigRejected.
type StartError struct {
	VMStartOK   bool
	ConfigureOK bool
	Trap        string     // non-empty when start-up or a root callback trapped
	Logs        []LogEntry // everything logged during the attempt
	Worker      int        // -2 base VM, -1 canary, else worker index
}

func (e *StartError) Error() string {
	switch {
	case e.Trap != "":
		return "hostsim: plugin start failed: " + e.Trap
	case !e.VMStartOK:
		return "hostsim: plugin start failed: proxy_on_vm_start returned false"
	default:
		return "hostsim: plugin start failed: proxy_on_configure returned false"
	}
}

// Unwrap makes errors.Is(err, ErrConfigRejected) true.
func (e *StartError) Unwrap() error { return ErrConfigRejected }

// Plugin is one started plugin: its worker VMs.
type Plugin struct {
	host    *Host
	cfg     PluginConfig
	workers []*VM
	roots   []*vmContext // this plugin's root context on each worker
	env     []string
	stopped bool // guarded by host.mu
}

// rootOn returns this plugin's root context on worker VM v.
func (p *Plugin) rootOn(v *VM) *vmContext { return p.roots[v.index] }

// sameVMKey reports whether a plugin with config pc would share VMs with p.
func (p *Plugin) sameVMKey(pc PluginConfig) bool {
	if p.cfg.VMID != pc.VMID || string(p.cfg.VMConfiguration) != string(pc.VMConfiguration) ||
		p.cfg.Workers != pc.Workers || len(p.cfg.Env) != len(pc.Env) {
		return false
	}
	for k, v := range pc.Env {
		if w, ok := p.cfg.Env[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// StartPlugin starts a plugin the way Envoy does: a base VM (start-up
// exports only), a canary VM (start-up, then context_create → vm_start →
// configure, then discarded without on_done), then one VM per worker with
// the same sequence. _initialize therefore runs Workers+2 times.
//
// On failure the error is a *StartError (ErrConfigRejected) and the plugin
// is nil.
func (h *Host) StartPlugin(ctx context.Context, pc PluginConfig) (*Plugin, error) {
	if pc.Workers <= 0 {
		pc.Workers = 1
	}
	pc.Configuration = append([]byte(nil), pc.Configuration...)
	pc.VMConfiguration = append([]byte(nil), pc.VMConfiguration...)
	p := &Plugin{host: h, cfg: pc}
	keys := make([]string, 0, len(pc.Env))
	for k := range pc.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys) // Envoy's order is unspecified; ours is stable.
	for _, k := range keys {
		p.env = append(p.env, k+"="+pc.Env[k])
	}
	if pc.ShareVMs {
		if owner := h.findSharable(pc); owner != nil {
			return h.joinPlugin(ctx, p, owner)
		}
	}
	// Registered from the start: a live plugin keeps its shared-data
	// partition alive, as Envoy's base VM does while canary and workers come
	// and go.
	h.mu.Lock()
	h.plugins = append(h.plugins, p)
	h.mu.Unlock()
	failed := func(err error) (*Plugin, error) {
		h.mu.Lock()
		p.stopped = true
		h.mu.Unlock()
		h.dropPartitionIfUnused(p.cfg.VMID)
		return nil, err
	}
	base, err := p.newVM(ctx, -2, false)
	if err != nil {
		return failed(err)
	}
	base.close(ctx)
	if !pc.NoCanary {
		canary, err := p.newVM(ctx, -1, true)
		if err != nil {
			return failed(err)
		}
		canary.close(ctx) // thrown away without on_done/on_delete
	}
	for i := 0; i < pc.Workers; i++ {
		v, err := p.newVM(ctx, i, true)
		if err != nil {
			for _, w := range p.workers {
				w.close(ctx)
			}
			return failed(err)
		}
		p.workers = append(p.workers, v)
		p.roots = append(p.roots, v.root)
	}
	return p, nil
}

func (h *Host) findSharable(pc PluginConfig) *Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, q := range h.plugins {
		if q.sameVMKey(pc) && !q.stopped {
			return q
		}
	}
	return nil
}

// joinPlugin starts p on owner's worker VMs, after a canary of its own.
func (h *Host) joinPlugin(ctx context.Context, p, owner *Plugin) (*Plugin, error) {
	if !p.cfg.NoCanary {
		canary, err := p.newVM(ctx, -1, true)
		if err != nil {
			return nil, err
		}
		canary.close(ctx)
	}
	for i, v := range owner.workers {
		v.mu.Lock()
		v.capture = &[]LogEntry{}
		root, vmOK, cfgOK := v.startRoot(ctx, p)
		logs := *v.capture
		v.capture = nil
		if v.failed || !vmOK || !cfgOK {
			se := &StartError{VMStartOK: vmOK, ConfigureOK: cfgOK, Trap: v.trap, Logs: logs, Worker: i}
			v.mu.Unlock()
			return nil, se
		}
		v.sharers = append(v.sharers, p)
		v.mu.Unlock()
		p.workers = append(p.workers, v)
		p.roots = append(p.roots, root)
	}
	h.mu.Lock()
	h.plugins = append(h.plugins, p)
	h.mu.Unlock()
	return p, nil
}

// newVM instantiates the module, runs the start-up exports and, when root
// is true, the root context sequence.
func (p *Plugin) newVM(ctx context.Context, index int, root bool) (*VM, error) {
	v, err := p.host.instantiate(ctx, p, index)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.capture = &[]LogEntry{}
	defer func() { v.capture = nil }()
	fail := func(se *StartError) (*VM, error) {
		se.Logs = *v.capture
		se.Worker = index
		v.closeLocked(ctx)
		return nil, se
	}
	if !v.startup(ctx) {
		return fail(&StartError{Trap: v.trap})
	}
	if !root {
		return v, nil
	}
	_, vmOK, cfgOK := v.startRoot(ctx, p)
	if v.failed {
		return fail(&StartError{VMStartOK: vmOK, ConfigureOK: cfgOK, Trap: v.trap})
	}
	if !vmOK || !cfgOK {
		return fail(&StartError{VMStartOK: vmOK, ConfigureOK: cfgOK})
	}
	p.host.addVM(v)
	return v, nil
}

// Worker returns worker VM i (0-based). It panics if i is out of range,
// like a slice index: that is a test bug, not a runtime condition.
func (p *Plugin) Worker(i int) *VM { return p.workers[i] }

// Workers returns the worker VMs.
func (p *Plugin) Workers() []*VM { return append([]*VM(nil), p.workers...) }

// Config returns the plugin configuration the plugin was started with.
func (p *Plugin) Config() PluginConfig { return p.cfg }

// Stop shuts the plugin down as on a config removal: on every live worker
// proxy_on_done(root); if it returns true, proxy_on_delete(root) and the VM
// closes. If it returns false, the root keeps running (ticks, callouts,
// queues) until the guest calls proxy_done; then proxy_on_delete runs after
// that callback and the VM closes.
func (p *Plugin) Stop(ctx context.Context) {
	p.host.mu.Lock()
	p.stopped = true
	p.host.mu.Unlock()
	for i, v := range p.workers {
		v.mu.Lock()
		v.stopping = true
		v.stopRoot(ctx, p.roots[i])
		if !v.liveRoots() || v.failed {
			v.closeLocked(ctx)
		}
		v.mu.Unlock()
	}
}

// HTTP sends req through this plugin's filter on worker i (VM.HTTP uses
// the VM's first plugin; this is the way to reach a plugin that joined
// shared VMs).
func (p *Plugin) HTTP(ctx context.Context, worker int, req Request) *Result {
	return p.workers[worker].http(ctx, p, req)
}

// NewStream prepares a step-by-step stream through this plugin's filter
// on worker i.
func (p *Plugin) NewStream(worker int, req Request) *Stream {
	v := p.workers[worker]
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.newStream(p.roots[worker], req)
}

// RootContextID returns this plugin's root context id on worker i.
func (p *Plugin) RootContextID(worker int) uint32 {
	v := p.workers[worker]
	v.mu.Lock()
	defer v.mu.Unlock()
	return p.roots[worker].id
}

// SharedData reads the plugin's shared-data partition (its VMID).
func (p *Plugin) SharedData(key string) (value []byte, cas uint32, ok bool) {
	return p.host.SharedData(p.cfg.VMID, key)
}

func (p *Plugin) String() string {
	return fmt.Sprintf("plugin %q (%d workers)", p.cfg.Name, len(p.workers))
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
