package abi

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// fuzzPlugin panics whenever its switch is on, and records which stream reached plugin code.
type fuzzPlugin struct {
	types.DefaultVMContext
	types.DefaultPluginContext
	boom    bool
	reached map[uint32]int
}

func (f *fuzzPlugin) maybePanic() {
	if f.boom {
		panic("fuzz")
	}
}
func (f *fuzzPlugin) NewPluginContext(uint32) types.PluginContext { return f }
func (f *fuzzPlugin) OnTick()                                     { f.maybePanic() }
func (f *fuzzPlugin) NewHttpContext(id uint32) types.HttpContext {
	f.maybePanic()
	return &fuzzStream{id: id, f: f}
}

type fuzzStream struct {
	types.DefaultHttpContext
	id uint32
	f  *fuzzPlugin
}

func (s *fuzzStream) hit() types.Action {
	s.f.reached[s.id]++
	s.f.maybePanic()
	return types.ActionContinue
}
func (s *fuzzStream) OnHttpRequestHeaders(int, bool) types.Action  { return s.hit() }
func (s *fuzzStream) OnHttpRequestBody(int, bool) types.Action     { return s.hit() }
func (s *fuzzStream) OnHttpResponseHeaders(int, bool) types.Action { return s.hit() }
func (s *fuzzStream) OnHttpStreamDone()                            { s.f.maybePanic() }

// FuzzMachine drives random callback sequences with random panics. Properties: no panic escapes
// an export; a stream gets at most one internal-error reply; once failed, a stream never reaches
// plugin request/response code again; a panic in a request callback always leaves a reply.
func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 2, 1, 2, 0x81, 2, 3, 2, 4, 2, 5, 2})
	f.Add([]byte{0, 3, 6, 3, 0x87, 3, 1, 3})
	f.Add([]byte{0x80, 2, 1, 2, 2, 2})
	f.Fuzz(func(t *testing.T, prog []byte) {
		p := &fuzzPlugin{reached: map[uint32]int{}}
		r := &recorder{live: map[uint32]bool{}}
		m := newMachine(r)
		r.m = m
		m.vm = p
		m.onContextCreate(1, 0)
		failedAt := map[uint32]int{} // stream → plugin calls seen when it failed
		replied := map[uint32]int{}  // replies per stream lifetime (Envoy never reuses ids)
		token := uint32(0)
		for i := 0; i+1 < len(prog); i += 2 {
			op, arg := prog[i], prog[i+1]
			p.boom = op&0x80 != 0
			id := 2 + uint32(arg%4)
			replies := len(r.replies)
			switch op & 0x7f % 9 {
			case 0:
				if _, exists := m.streams[id]; !exists {
					m.onContextCreate(id, 1)
					r.live[id] = true
				}
			case 1:
				m.onRequestHeaders(id, 1, 0)
			case 2:
				m.onRequestBody(id, 1, 1)
			case 3:
				m.onResponseHeaders(id, 1, 1)
			case 4:
				m.onLog(id)
			case 5:
				m.onDelete(id)
				delete(r.live, id)
				delete(failedAt, id)
				delete(replied, id)
			case 6:
				if _, ok := m.streams[id]; ok {
					m.enter(id)
					token += 4
					m.registerCallout(token, func(int, int, int) { p.maybePanic() })
				}
			case 7:
				m.onHttpCallResponse(1, token, 0, 0, 0)
			case 8:
				m.onTick(1)
			}
			for sid, s := range m.streams {
				if s.failed {
					if _, seen := failedAt[sid]; !seen {
						failedAt[sid] = p.reached[sid]
					}
					if p.reached[sid] != failedAt[sid] {
						t.Fatalf("failed stream %d reached plugin code again", sid)
					}
				}
			}
			if op&0x7f%9 == 1 && p.boom {
				if s := m.streams[id]; s == nil || !s.replied {
					t.Fatalf("panic in request headers of %d left no reply", id)
				}
			}
			if len(r.replies) > replies+1 {
				t.Fatalf("one callback sent %d replies", len(r.replies)-replies)
			}
			for _, sid := range r.replies[replies:] {
				if replied[sid]++; replied[sid] > 1 {
					t.Fatalf("stream %d got a second reply", sid)
				}
			}
		}
	})
}
