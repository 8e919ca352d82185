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
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// maxBytesPerIdleSatellite is the budget for a Satellite that never connects.
const maxBytesPerIdleSatellite = 2048

// idleSatelliteBytes returns the heap the fleet retains per Satellite that never connected,
// over n of them with a region and a label, as a Satellite of the README has.
func idleSatelliteBytes(n int) float64 {
	infos := make([]SatelliteInfo, n)
	for i := range infos {
		infos[i] = SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: fmt.Sprintf("satellite-%05d", i)},
			UID: types.UID(fmt.Sprintf("0b7e1d2c-6a4f-4c1e-9d3b-%012d", i)), Region: "eu-west-1",
			Labels: map[string]string{"tier": "edge"}, TokenHash: HashToken([]byte(fmt.Sprint(i))), HasToken: true}
	}
	f, _ := newTestFleet()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, info := range infos {
		f.UpsertSatellite(info)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestIdleSatelliteMemory holds the fleet to its budget: nothing sized by a constant is
// allocated for a Satellite before it connects. The caller's strings (names, UIDs) are counted
// too, since the fleet keeps them.
func TestIdleSatelliteMemory(t *testing.T) {
	if got := idleSatelliteBytes(10000); got > maxBytesPerIdleSatellite {
		t.Errorf("%.0f bytes per Satellite that never connected, budget %d", got, maxBytesPerIdleSatellite)
	} else {
		t.Logf("%.0f bytes per Satellite that never connected (budget %d)", got, maxBytesPerIdleSatellite)
	}
}

// BenchmarkIdleSatelliteMemory reports the heap retained per never-connected Satellite.
func BenchmarkIdleSatelliteMemory(b *testing.B) {
	var per float64
	for b.Loop() {
		per = idleSatelliteBytes(10000)
	}
	b.ReportMetric(per, "B/satellite")
}

// nopConn is a session that the benchmark serves by hand.
type nopConn struct{ dirty bool }

func (c *nopConn) ConfigChanged()                      { c.dirty = true }
func (c *nopConn) Close(int, string, protocol.Message) {}
func (c *nopConn) RemoteAddr() string                  { return "192.0.2.1:40000" }
func (c *nopConn) Acknowledge([]string)                {}

// BenchmarkConfigPushFanOut measures one change of an assignment that selects every one of n
// connected satellites, with existing other assignments selecting them all too: derive, hand the
// change to every session, and have each fetch its list and encode its frame as its writer does.
// One satellite is the baseline for the ratio. With patches, the sessions' agents take
// config_patch; frame-B/session is what each session then writes.
func BenchmarkConfigPushFanOut(b *testing.B) {
	for _, tc := range []struct {
		satellites, existing int
		patches              bool
	}{{1, 0, false}, {1000, 0, false}, {10000, 0, false}, {10000, 100, false}, {10000, 100, true}} {
		name := fmt.Sprintf("satellites=%d/existing=%d", tc.satellites, tc.existing)
		caps := oursCaps
		if tc.patches {
			name, caps = name+"/patches", patchCaps
		}
		b.Run(name, func(b *testing.B) {
			f, _ := newTestFleet()
			handles := make([]Handle, tc.satellites)
			conns := make([]*nopConn, tc.satellites)
			for i := range tc.satellites {
				uid := fmt.Sprintf("uid-%d", i)
				f.UpsertSatellite(SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: fmt.Sprintf("sat-%d", i)},
					UID: types.UID(uid), Region: "eu-west-1", Labels: map[string]string{"tier": "edge"},
					TokenHash: HashToken([]byte(uid)), HasToken: true})
				conns[i] = &nopConn{}
				var err error
				if handles[i], _, err = f.Authenticate(uid, uid, caps, conns[i]); err != nil {
					b.Fatal("authenticate")
				}
				drain(f) // as the reconciler would, or the wake-up channel fills
			}
			sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
			if err != nil {
				b.Fatal(err)
			}
			wire := func(uid string) protocol.Assignment {
				return protocol.Assignment{ConfigID: uid, SystemID: "payments-api", StrategyID: "http", IntervalSeconds: 30,
					Config: []byte(`{"timeoutMs":10000,"http":{"url":"https://payments.example.com/healthz","method":"GET"}}`)}
			}
			for i := range tc.existing {
				uid := fmt.Sprintf("existing-%03d", i)
				if err := f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: uid}, UID: types.UID(uid),
					Generation: 1, Selection: sel, Wire: wire(uid)}); err != nil {
					b.Fatal(err)
				}
			}
			drain(f)
			for j, c := range conns { // the sessions' writers take the lists so far
				if c.dirty {
					c.dirty = false
					f.ConfigFrame(handles[j])
				}
			}
			info := AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "payments"}, UID: "zz-config",
				Selection: sel, Wire: wire("zz-config")}
			frameBytes := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				info.Generation = int64(i + 1)
				info.Wire.IntervalSeconds = 30 + i%2 // a real change each time
				if err := f.UpsertAssignment(info); err != nil {
					b.Fatal(err)
				}
				for j, c := range conns {
					if !c.dirty {
						b.Fatal("a selected session got no push")
					}
					c.dirty = false
					frame, ok := f.ConfigFrame(handles[j])
					if !ok {
						b.Fatal("no config")
					}
					frameBytes = len(frame)
				}
				drain(f)
			}
			b.ReportMetric(float64(frameBytes), "frame-B/session")
		})
	}
}

// BenchmarkReport measures one report of an assignment selecting n connected satellites, half
// of which have reported: the time the fleet's lock is held for it, which results wait behind.
func BenchmarkReport(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("satellites=%d", n), func(b *testing.B) {
			f, _ := newTestFleet()
			handles := make([]Handle, n)
			for i := range n {
				uid := fmt.Sprintf("uid-%d", i)
				f.UpsertSatellite(SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: fmt.Sprintf("sat-%05d", i)},
					UID: types.UID(uid), Region: fmt.Sprintf("region-%d", i%8), TokenHash: HashToken([]byte(uid)), HasToken: true})
				var err error
				if handles[i], _, err = f.Authenticate(uid, uid, oursCaps, &nopConn{}); err != nil {
					b.Fatal("authenticate")
				}
				drain(f)
			}
			var regions []string
			for i := range 8 {
				regions = append(regions, fmt.Sprintf("region-%d", i))
			}
			sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: regions})
			if err != nil {
				b.Fatal(err)
			}
			info := AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "payments"}, UID: "payments", Generation: 1,
				Selection: sel, Wire: protocol.Assignment{ConfigID: "payments", SystemID: "payments-api", StrategyID: "http", IntervalSeconds: 30,
					Config: []byte(`{"http":{"url":"https://payments.example.com/healthz"}}`)}}
			if err := f.UpsertAssignment(info); err != nil {
				b.Fatal(err)
			}
			drain(f)
			for i := 0; i < n; i += 2 {
				if got, _ := f.Ingest(handles[i], &protocol.Result{ConfigID: "payments", ExecutedAt: f.clock.Now(), Status: v1alpha1.ResultHealthy}); got != string(v1alpha1.ResultHealthy) {
					b.Fatalf("ingest: %s", got)
				}
				drain(f)
			}
			drain(f)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := f.Report("payments", 100); !ok {
					b.Fatal("no report")
				}
			}
		})
	}
}
