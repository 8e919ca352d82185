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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/liveness"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// oursCaps are the capabilities our agent advertises: the fleet's tests of our dialect use them.
var oursCaps = []string{protocol.CapabilityCheckConfig}

// recordingConn is a session as the fleet sees it, recording what the fleet asked of it.
type recordingConn struct {
	pushes int
	closed int    // the close code, 0 while open
	remote string // the peer's address; empty is 192.0.2.1:40000
	acked  []string
}

func (c *recordingConn) Acknowledge(ids []string) { c.acked = append(c.acked, ids...) }

func (c *recordingConn) RemoteAddr() string {
	if c.remote == "" {
		return "192.0.2.1:40000"
	}
	return c.remote
}

func (c *recordingConn) ConfigChanged() { c.pushes++ }
func (c *recordingConn) Close(code int, _ string, _ protocol.Message) {
	if c.closed == 0 {
		c.closed = code
	}
}

// drain counts and empties the fleet's wake-up channels.
func drain(f *Fleet) (satellites, assignments int) {
	for {
		select {
		case <-f.SatelliteEvents():
			satellites++
		case <-f.AssignmentEvents():
			assignments++
		default:
			return satellites, assignments
		}
	}
}

func newTestFleet() (*Fleet, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	return New(Options{StatusRefresh: time.Minute}, clk), clk
}

func satInfo(ns, name, uid, token string) SatelliteInfo {
	return SatelliteInfo{Key: types.NamespacedName{Namespace: ns, Name: name}, UID: types.UID(uid), Region: "eu-west-1",
		TokenHash: HashToken([]byte(token)), HasToken: true}
}

func TestSessionFacts(t *testing.T) {
	f, clk := newTestFleet()
	t0 := clk.Now()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
	if _, ok := f.facts("uid-1"); ok {
		t.Fatal("facts of a satellite that never connected")
	}
	if _, _, err := f.Authenticate("uid-1", "csat_wrong", oursCaps, &recordingConn{}); err == nil {
		t.Error("a wrong token authenticates")
	}
	if _, _, err := f.Authenticate("uid-2", "csat_a", oursCaps, &recordingConn{}); err == nil {
		t.Error("an unknown client ID authenticates")
	}

	oldConn := &recordingConn{}
	old, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, oldConn)
	if err != nil {
		t.Fatal("the right token does not authenticate")
	}
	clk.Step(time.Second)
	current, _, err := f.Authenticate("", "csat_a", oursCaps, &recordingConn{}) // a bearer token alone
	if err != nil {
		t.Fatal("the token alone does not authenticate")
	}
	if oldConn.closed != protocol.CloseReplaced {
		t.Errorf("the replaced session was closed with %d, want %d", oldConn.closed, protocol.CloseReplaced)
	}
	if s, _ := drain(f); s != 2 {
		t.Errorf("%d wake-ups for two connects, want 2", s)
	}

	clk.Step(time.Second)
	f.Heartbeat(current, "0.1.0", nil)
	clk.Step(time.Second)
	f.Heartbeat(current, "0.1.0", nil)
	f.Heartbeat(old, "9.9.9", nil)   // the replaced session is ignored
	f.Disconnected(old, true, 0, "") // so is its end
	// Heartbeats and versions reach the reconciler through the presence Lease, not a wake-up.
	if s, _ := drain(f); s != 0 {
		t.Errorf("%d wake-ups for heartbeats, want 0", s)
	}
	want := liveness.Facts{Connected: true, ConnectedSince: t0.Add(time.Second), LastHeartbeat: t0.Add(3 * time.Second), Version: "0.1.0"}
	got, _ := f.facts("uid-1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}

	clk.Step(time.Second)
	f.Disconnected(current, true, 0, "")
	want.Connected, want.DisconnectedAt = false, t0.Add(4*time.Second)
	got, _ = f.facts("uid-1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts after a clean disconnect (-want +got):\n%s", diff)
	}
	if s, _ := drain(f); s != 1 {
		t.Errorf("%d wake-ups for the disconnect, want 1", s)
	}

	f.RemoveSatellite(types.NamespacedName{Namespace: "monitoring", Name: "eu-west"})
	if _, ok := f.facts("uid-1"); ok {
		t.Error("facts of a deleted satellite")
	}
	if f.Unknown([]types.UID{"uid-1"}) == 0 {
		t.Error("a deleted satellite is known")
	}
}

func TestTokenRotationAndDeletionCloseTheSession(t *testing.T) {
	f, _ := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
	conn := &recordingConn{}
	if _, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, conn); err != nil {
		t.Fatal("does not authenticate")
	}
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_b"))
	if conn.closed != protocol.CloseAuthFailed {
		t.Errorf("a rotation closed the session with %d, want %d", conn.closed, protocol.CloseAuthFailed)
	}
	if facts, _ := f.facts("uid-1"); facts.Connected {
		t.Error("the satellite counts as connected after its token rotated")
	}
	if _, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{}); err == nil {
		t.Error("the old token still authenticates")
	}
	conn = &recordingConn{}
	if _, _, err := f.Authenticate("uid-1", "csat_b", oursCaps, conn); err != nil {
		t.Fatal("the new token does not authenticate")
	}
	f.RemoveSatellite(types.NamespacedName{Namespace: "monitoring", Name: "eu-west"})
	if conn.closed != protocol.CloseDeleted {
		t.Errorf("a deletion closed the session with %d, want %d", conn.closed, protocol.CloseDeleted)
	}
}

func TestSharedTokenAuthenticatesNeither(t *testing.T) {
	f, _ := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "victim", "uid-1", "csat_same"))
	f.UpsertSatellite(satInfo("monitoring", "borrower", "uid-2", "csat_same"))
	for _, id := range []string{"", "uid-1", "uid-2"} {
		if _, _, err := f.Authenticate(id, "csat_same", oursCaps, &recordingConn{}); err == nil {
			t.Errorf("a token two Satellites share authenticates with client ID %q", id)
		}
	}
	f.RemoveSatellite(types.NamespacedName{Namespace: "monitoring", Name: "borrower"})
	if h, _, err := f.Authenticate("", "csat_same", oursCaps, &recordingConn{}); err != nil || h.UID() != "uid-1" {
		t.Errorf("the victim does not authenticate once the borrower is gone (error %v)", err)
	}
}

func TestIngest(t *testing.T) {
	f, clk := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
	sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Satellites: []string{"eu-west"}})
	if err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "monitoring", Name: "payments"}
	if err := f.UpsertAssignment(AssignmentInfo{Key: key, UID: "hca-1", Generation: 1, Selection: sel,
		Wire: protocol.Assignment{ConfigID: "hca-1", SystemID: "payments-api", StrategyID: "http", IntervalSeconds: 30}}); err != nil {
		t.Fatal(err)
	}
	h, list, err := f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	if err != nil || len(list) != 1 {
		t.Fatalf("authenticated (error %v) with %d assignments, want 1", err, len(list))
	}
	drain(f)
	result := func(status v1alpha1.ResultStatus, at time.Time) *protocol.Result {
		return &protocol.Result{ConfigID: "hca-1", SystemID: "payments-api", Status: status, ExecutedAt: at}
	}
	t1 := clk.Now()
	steps := []struct {
		name   string
		result *protocol.Result
		want   string
		wakes  int
	}{
		{"a first result decides the view", result(v1alpha1.ResultHealthy, t1), "healthy", 1},
		{"the same result again is a duplicate", result(v1alpha1.ResultHealthy, t1), ResultDuplicate, 0},
		{"an older result is a duplicate too", result(v1alpha1.ResultUnhealthy, t1.Add(-time.Second)), ResultDuplicate, 0},
		{"a newer result with the same status wakes nobody", result(v1alpha1.ResultHealthy, t1.Add(time.Second)), "healthy", 0},
		{"a change of status wakes the reconciler", result(v1alpha1.ResultUnhealthy, t1.Add(2*time.Second)), "unhealthy", 1},
		{"an assignment not relayed is rejected", &protocol.Result{ConfigID: "other", Status: v1alpha1.ResultHealthy, ExecutedAt: t1.Add(3 * time.Second)}, ResultRejected, 0},
	}
	for _, step := range steps {
		if got, _ := f.Ingest(h, step.result); got != step.want {
			t.Errorf("%s: Ingest = %q, want %q", step.name, got, step.want)
		}
		if _, wakes := drain(f); wakes != step.wakes {
			t.Errorf("%s: %d wake-ups, want %d", step.name, wakes, step.wakes)
		}
	}
	clk.Step(time.Minute)
	f.Ingest(h, result(v1alpha1.ResultUnhealthy, clk.Now()))
	if _, wakes := drain(f); wakes != 1 {
		t.Errorf("no wake-up for the coarse refresh after a minute (%d)", wakes)
	}
	rep, ok := f.Report("hca-1", 100)
	if !ok {
		t.Fatal("no report")
	}
	if diff := cmp.Diff(Counts{Unhealthy: 1}, rep.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestReportBoundsTheListAndSeedsFromThePersistedStatus(t *testing.T) {
	f, _ := newTestFleet()
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		f.UpsertSatellite(satInfo("monitoring", n, "uid-"+n, "csat_"+n))
	}
	sel, _ := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
	persisted := &v1alpha1.HealthCheckAssignmentStatus{
		Summary:    &v1alpha1.CheckSummary{Healthy: 3, Unhealthy: 1, Unknown: 1},
		Satellites: []v1alpha1.SatelliteCheckStatus{{Name: "b", Status: v1alpha1.ResultUnhealthy, Message: "503"}, {Name: "d"}},
	}
	if err := f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "p"}, UID: "hca-1", Generation: 1,
		Selection: sel, Wire: protocol.Assignment{ConfigID: "hca-1"}, Persisted: persisted}); err != nil {
		t.Fatal(err)
	}
	rep, _ := f.Report("hca-1", 1)
	if diff := cmp.Diff(Counts{Healthy: 3, Unhealthy: 1, Unknown: 1}, rep.Counts); diff != "" {
		t.Errorf("seeded counts (-want +got):\n%s", diff)
	}
	if len(rep.NotHealthy) != 1 || rep.NotHealthy[0].Name != "b" || !rep.Truncated {
		t.Errorf("listed %+v (truncated %v), want b alone and truncated", rep.NotHealthy, rep.Truncated)
	}
	if diff := cmp.Diff([]RegionCounts{{Region: "eu-west-1", Counts: Counts{Healthy: 3, Unhealthy: 1, Unknown: 1}}}, rep.Regions); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
}

func TestSeedsReachSatellitesSelectedLater(t *testing.T) {
	f, clk := newTestFleet()
	sel, _ := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
	persisted := &v1alpha1.HealthCheckAssignmentStatus{
		Summary:    &v1alpha1.CheckSummary{Healthy: 1, Unhealthy: 1},
		Satellites: []v1alpha1.SatelliteCheckStatus{{Name: "b", Status: v1alpha1.ResultUnhealthy}},
	}
	// After a restart the assignment may arrive before its Satellites.
	if err := f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "p"}, UID: "hca-1",
		Generation: 1, Selection: sel, Wire: protocol.Assignment{ConfigID: "hca-1"}, Persisted: persisted}); err != nil {
		t.Fatal(err)
	}
	f.UpsertSatellite(satInfo("monitoring", "a", "uid-a", "csat_a"))
	f.UpsertSatellite(satInfo("monitoring", "b", "uid-b", "csat_b"))
	rep, _ := f.Report("hca-1", 100)
	if diff := cmp.Diff(Counts{Healthy: 1, Unhealthy: 1}, rep.Counts); diff != "" {
		t.Errorf("counts from the persisted status (-want +got):\n%s", diff)
	}
	// A Satellite that appears after the first refresh (a minute here) is new: nothing stands
	// for it. (The others' views are not stale yet: that takes two minutes.)
	clk.Step(90 * time.Second)
	f.UpsertSatellite(satInfo("monitoring", "c", "uid-c", "csat_c"))
	rep, _ = f.Report("hca-1", 100)
	if diff := cmp.Diff(Counts{Healthy: 1, Unhealthy: 1, Unknown: 1}, rep.Counts); diff != "" {
		t.Errorf("counts with a new satellite (-want +got):\n%s", diff)
	}
}

// facts returns the liveness facts of the satellite with this UID, and whether it has
// authenticated with this fleet: what the fleet publishes as its presence.
func (f *Fleet) facts(uid types.UID) (liveness.Facts, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sat, ok := f.satellites[uid]
	if !ok || !sat.hasFacts {
		return liveness.Facts{}, false
	}
	return sat.facts, true
}
