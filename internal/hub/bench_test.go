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

package hub

import (
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/presence"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// BenchmarkConfigPushFanOut measures one assignment change pushed to every in-process session
// it selects: derive each satellite's list, hand it to the session, and encode the frame as its
// writer would. One session is the baseline for the ratio.
func BenchmarkConfigPushFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			h := New(Options{}, presence.NewTracker(clock.RealClock{}), clock.RealClock{}, logr.Discard())
			h.wakeSatellite = func(types.NamespacedName) {}
			var sessions []*session
			for i := range n {
				uid := types.UID(fmt.Sprintf("uid-%d", i))
				h.UpsertSatellite(SatelliteInfo{
					Key: types.NamespacedName{Namespace: "monitoring", Name: fmt.Sprintf("sat-%d", i)},
					UID: uid, Region: "eu-west-1", Labels: map[string]string{"tier": "edge"},
				})
				sessions = append(sessions, &session{configReady: make(chan struct{}, 1), done: make(chan struct{}), log: logr.Discard()})
				h.satellites[uid].session = sessions[i]
			}
			sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
			if err != nil {
				b.Fatal(err)
			}
			info := AssignmentInfo{
				Key:       types.NamespacedName{Namespace: "monitoring", Name: "payments"},
				UID:       "config-1",
				Selection: sel,
				Wire: protocol.Assignment{ConfigID: "config-1", SystemID: "payments-api", StrategyID: "http",
					Config: []byte(`{"timeoutMs":10000,"http":{"url":"https://payments.example.com/healthz","method":"GET"}}`)},
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				info.Wire.IntervalSeconds = 30 + i%2 // a real change each time
				h.UpsertAssignment(info)
				// The writers' share, done here so that every list is encoded exactly once.
				for _, s := range sessions {
					<-s.configReady
					list, ok := s.takeConfig()
					if !ok {
						b.Fatal("a selected session got no config")
					}
					if _, err := protocol.Encode(&protocol.ConfigUpdated{Assignments: list}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
