/*
Copyright 2026 The Checkstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package fleet

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

var patchCaps = []string{protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch}

// agentSession is what a test's agent holds of one session: the list it applied so far.
type agentSession struct {
	h       Handle
	patches bool
	list    []protocol.Assignment
}

// receive applies the session's next frame as an agent does, and reports its type.
func (s *agentSession) receive(t *testing.T, f *Fleet) (protocol.Type, bool) {
	t.Helper()
	data, ok := f.ConfigFrame(s.h)
	if !ok {
		return "", false
	}
	m, err := protocol.DecodeFromManager(data)
	if err != nil {
		t.Fatalf("the frame does not decode: %v\n%s", err, data)
	}
	switch m := m.(type) {
	case *protocol.ConfigUpdated:
		s.list = m.Assignments
	case *protocol.ConfigPatch:
		if !s.patches {
			t.Fatalf("a session that does not take patches got one: %s", data)
		}
		s.list = m.Apply(s.list)
	default:
		t.Fatalf("ConfigFrame gave a %s", m.MessageType())
	}
	return m.MessageType(), true
}

// wantList is the satellite's whole list, as a config_updated carries it.
func wantList(t *testing.T, f *Fleet, h Handle) []protocol.Assignment {
	t.Helper()
	f.mu.Lock()
	list := h.sat.encoded()
	f.mu.Unlock()
	return decodeList(t, list)
}

// TestPatchesKeepTheWholeList drives random fleets (the derivation test's changes, plus edits of
// the wire form, reconnects, capabilities advertised anew, and frames an agent takes only now
// and then, as a burst is coalesced) and checks that an agent applying every config_patch holds
// exactly the list a config_updated would carry, and that an agent without the capability never
// gets a patch.
func TestPatchesKeepTheWholeList(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			f, _ := newTestFleet()
			m := newModel()
			sessions := map[types.UID]*agentSession{}
			counts := map[protocol.Type]int{}
			connect := func(uid types.UID) {
				s := &agentSession{patches: rng.IntN(3) > 0}
				caps := oursCaps
				if s.patches {
					caps = patchCaps
				}
				h, list, err := f.Authenticate(string(uid), strings.TrimPrefix(string(uid), "sat-uid-"), caps, &recordingConn{})
				if err != nil {
					t.Fatalf("%s not authenticated", uid)
				}
				s.h, s.list = h, decodeList(t, list)
				sessions[uid] = s
			}
			for step := range 300 {
				op := m.randomChange(rng, f)
				if uid, ok := anyKey(rng, m.assignments); ok && rng.IntN(4) == 0 {
					// A new wire form: the patch must replace the assignment.
					info := m.assignments[uid]
					info.Generation++
					info.Wire.IntervalSeconds = 1 + rng.IntN(600)
					m.assignments[uid] = info
					if err := f.UpsertAssignment(info); err != nil {
						t.Fatal(err)
					}
					op += ", then a new interval for " + info.Key.String()
				}
				drain(f)
				// In a fixed order, so that a seed replays the same run.
				for _, uid := range slices.Sorted(maps.Keys(m.satellites)) {
					if s, ok := sessions[uid]; !ok || rng.IntN(20) == 0 {
						if ok {
							f.Disconnected(s.h, true, 0, "")
						}
						connect(uid)
					}
				}
				for _, uid := range slices.Sorted(maps.Keys(sessions)) {
					s := sessions[uid]
					if _, ok := m.satellites[uid]; !ok {
						delete(sessions, uid) // deleted: its session was closed
						continue
					}
					if rng.IntN(20) == 0 {
						// The agent advertises other capabilities in a heartbeat.
						s.patches = !s.patches
						caps := oursCaps
						if s.patches {
							caps = patchCaps
						}
						f.Heartbeat(s.h, "", caps)
					}
					if rng.IntN(2) == 0 {
						continue // the writer takes the list later, with the next changes
					}
					typ, ok := s.receive(t, f)
					if !ok {
						t.Fatalf("step %d (%s): %s's session is not current", step, op, uid)
					}
					counts[typ]++
					if diff := cmp.Diff(wantList(t, f, s.h), s.list); diff != "" {
						t.Fatalf("step %d (%s): %s (patches %v) holds another list than the fleet's (-want +got):\n%s",
							step, op, uid, s.patches, diff)
					}
				}
			}
			if counts[protocol.TypeConfigPatch] == 0 || counts[protocol.TypeConfigUpdated] == 0 {
				t.Errorf("frames by type %v: the test did not exercise both", counts)
			}
		})
	}
}

// everything selects every satellite in eu-west-1, where satInfo puts them.
func everything(t *testing.T) Selection {
	t.Helper()
	sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// TestOneChangeIsOneSharedPatch: sessions that hold the same list get one shared config_patch
// for a new assignment, carrying only it, and a session without the capability the whole list.
func TestOneChangeIsOneSharedPatch(t *testing.T) {
	f, _ := newTestFleet()
	var sessions []*agentSession
	for i := range 3 {
		uid, token := fmt.Sprintf("uid-%d", i), fmt.Sprintf("csat_%d", i)
		f.UpsertSatellite(satInfo("monitoring", fmt.Sprintf("sat-%d", i), uid, token))
		caps := patchCaps
		if i == 2 {
			caps = oursCaps
		}
		h, list, err := f.Authenticate(uid, token, caps, &recordingConn{})
		if err != nil {
			t.Fatal("not authenticated")
		}
		sessions = append(sessions, &agentSession{h: h, patches: i < 2, list: decodeList(t, list)})
	}
	add := func(name string) {
		t.Helper()
		info := AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: name}, UID: types.UID(name), Generation: 1,
			Selection: everything(t), Wire: protocol.Assignment{ConfigID: name, SystemID: "payments-api", StrategyID: "http", IntervalSeconds: 30,
				Config: []byte(`{"timeoutMs":1000,"http":{"url":"https://payments.example/healthz"}}`)}}
		if err := f.UpsertAssignment(info); err != nil {
			t.Fatal(err)
		}
		drain(f)
	}
	for i := range 10 {
		add(fmt.Sprintf("hca-%02d", i))
	}
	for _, s := range sessions {
		if _, ok := s.receive(t, f); !ok {
			t.Fatal("not current")
		}
	}
	add("hca-new")
	frames := make([][]byte, len(sessions))
	for i, s := range sessions {
		frames[i], _ = f.ConfigFrame(s.h)
	}
	if !sameBytes(frames[0], frames[1]) {
		t.Error("two sessions with the same change got patches built apart")
	}
	m, err := protocol.DecodeFromManager(frames[0])
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := m.(*protocol.ConfigPatch); !ok || len(p.Assignments) != 1 || p.Assignments[0].ConfigID != "hca-new" || len(p.Removed) != 0 {
		t.Errorf("the patch is %s, want hca-new added alone", frames[0])
	}
	if m, err := protocol.DecodeFromManager(frames[2]); err != nil || len(m.(*protocol.ConfigUpdated).Assignments) != 11 {
		t.Errorf("the session without the capability got %s, want the whole list of 11", frames[2])
	}
}
