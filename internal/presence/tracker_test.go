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

package presence

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/internal/liveness"
)

func TestTracker(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	tr := NewTracker(clk)
	key := types.NamespacedName{Namespace: "monitoring", Name: "eu-west"}
	const uid = types.UID("uid-1")
	wakes := func() int {
		n := 0
		for {
			select {
			case <-tr.Events():
				n++
			default:
				return n
			}
		}
	}

	if _, ok := tr.Facts(uid); ok {
		t.Fatal("facts of a satellite never seen")
	}
	if got := tr.Since(); !got.Equal(t0) {
		t.Errorf("Since = %v, want the first call's time %v", got, t0)
	}

	old := tr.Connected(key, uid, "")
	clk.Step(time.Second)
	current := tr.Connected(key, uid, "") // a newer connection replaces the older
	if n := wakes(); n != 2 {
		t.Errorf("%d wake-ups for two connects, want 2", n)
	}

	clk.Step(time.Second)
	tr.Heartbeat(uid, current, "0.1.0")
	clk.Step(time.Second)
	tr.Heartbeat(uid, current, "0.1.0")
	tr.Heartbeat(uid, old, "9.9.9") // the replaced session is ignored
	tr.Disconnected(uid, old, true) // so is its end
	if n := wakes(); n != 1 {
		t.Errorf("%d wake-ups, want 1 for the version change only", n)
	}
	want := liveness.Facts{Connected: true, ConnectedSince: t0.Add(time.Second), LastHeartbeat: t0.Add(3 * time.Second), Version: "0.1.0"}
	got, _ := tr.Facts(uid)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}

	clk.Step(time.Second)
	tr.Disconnected(uid, current, true)
	want.Connected, want.DisconnectedAt = false, t0.Add(4*time.Second)
	got, _ = tr.Facts(uid)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts after a clean disconnect (-want +got):\n%s", diff)
	}
	if n := wakes(); n != 1 {
		t.Errorf("%d wake-ups for the disconnect, want 1", n)
	}

	tr.Forget(uid)
	if _, ok := tr.Facts(uid); ok {
		t.Error("facts of a forgotten satellite")
	}
}
