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
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// recordingSink keeps every publication, in order.
type recordingSink struct{ got []Presence }

func (s *recordingSink) Publish(p Presence)          { s.got = append(s.got, p) }
func (s *recordingSink) Forget(types.NamespacedName) {}

// take returns the states published since the last call.
func (s *recordingSink) take() []string {
	var states []string
	for _, p := range s.got {
		states = append(states, p.State)
	}
	s.got = nil
	return states
}

func newPresenceFleet() (*Fleet, *clocktesting.FakeClock, *recordingSink) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	sink := &recordingSink{}
	f := New(Options{StatusRefresh: time.Minute, RenewInterval: time.Minute, Presence: sink}, clk)
	info := satInfo("monitoring", "eu-west", "uid-1", "csat_a")
	info.OfflineThreshold = 45 * time.Second
	f.UpsertSatellite(info)
	return f, clk, sink
}

// TestPresenceIsPublishedOnEveryChangeAndRenewedOncePerInterval checks what the leader learns
// of a session, and that heartbeats alone cost at most one publication per renew interval.
func TestPresenceIsPublishedOnEveryChangeAndRenewedOncePerInterval(t *testing.T) {
	f, clk, sink := newPresenceFleet()
	t0 := clk.Now()
	h, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceConnected {
		t.Fatalf("connect published %v, want one Connected", got)
	}

	// Fifteen-second heartbeats for three minutes: a renewal at each minute, none between.
	renewals := 0
	for range 12 {
		clk.Step(15 * time.Second)
		f.Heartbeat(h, "", nil)
		renewals += len(sink.take())
	}
	if renewals != 3 {
		t.Errorf("%d renewals in 3 minutes of heartbeats, want 3", renewals)
	}

	f.Heartbeat(h, "0.2.0", nil)
	if got := sink.got; len(got) != 1 || got[0].Version != "0.2.0" || !got[0].Since.Equal(t0) {
		t.Errorf("a new version published %+v, want it at once with the session's start", got)
	}
	sink.take()

	// Silent for the threshold: published once, however often the sweep runs.
	clk.Step(44 * time.Second)
	f.SweepSilent()
	clk.Step(time.Second)
	f.SweepSilent()
	f.SweepSilent()
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceSilent {
		t.Errorf("silence published %v, want one Silent", got)
	}
	clk.Step(time.Second)
	f.Heartbeat(h, "", nil)
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceConnected {
		t.Errorf("the heartbeat after a silence published %v, want one Connected", got)
	}

	clk.Step(time.Second)
	f.Disconnected(h, true, 0, "")
	last := sink.got[len(sink.got)-1]
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceDisconnected {
		t.Errorf("a clean close published %v, want one Disconnected", got)
	}
	if !last.LastHeartbeat.Equal(clk.Now()) {
		t.Errorf("a clean close is published at %v, want the close's time %v", last.LastHeartbeat, clk.Now())
	}

	h, _, _ = f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	sink.take()
	f.Disconnected(h, false, 0, "")
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceLost {
		t.Errorf("a session lost without a close published %v, want one Lost", got)
	}
	h, _, _ = f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	sink.take()
	f.Disconnected(h, true, protocol.CloseGoingAway, "going_away")
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceReleased {
		t.Errorf("a session this replica closed as it shuts down published %v, want one Released", got)
	}
	for i := 1; i < len(sink.got); i++ {
		if sink.got[i].Seq <= sink.got[i-1].Seq {
			t.Errorf("publication %d is not numbered after the one before it", i)
		}
	}
}

// TestDisplacedClosesTheOlderSession checks the fence across replicas: an older session here
// ends with 4002 when another replica holds the presence for a newer one, and a newer one here
// takes the presence back.
func TestDisplacedClosesTheOlderSession(t *testing.T) {
	f, clk, sink := newPresenceFleet()
	conn := &recordingConn{}
	h, _, _ := f.Authenticate("uid-1", "csat_a", oursCaps, conn)
	sink.take()

	f.Displaced("uid-1", Elsewhere{Holder: "replica-b", Since: clk.Now().Add(-time.Second), Open: true, For: time.Minute})
	if conn.closed != 0 {
		t.Fatalf("a newer session here was closed with %d for an older one elsewhere", conn.closed)
	}
	if got := sink.take(); len(got) != 1 || got[0] != v1alpha1.PresenceConnected {
		t.Errorf("a newer session here published %v, want Connected to take the presence back", got)
	}

	clk.Step(time.Second)
	f.Displaced("uid-1", Elsewhere{Holder: "replica-b", Since: clk.Now(), Open: true, For: time.Minute})
	if conn.closed != protocol.CloseReplaced {
		t.Errorf("an older session here was closed with %d, want %d", conn.closed, protocol.CloseReplaced)
	}
	f.Disconnected(h, true, protocol.CloseReplaced, "replaced")
	if got := sink.take(); len(got) != 0 {
		t.Errorf("the displaced session's end published %v: the presence is the other replica's", got)
	}
	if facts, _ := f.facts("uid-1"); facts.Connected {
		t.Error("the displaced satellite counts as connected here")
	}
}

// TestViewsTravelBetweenReplicas checks both ends of the views a presence carries: the holder
// publishes the views it took as they change, and another replica folds them in, so that it
// counts the satellite and drops a result the first replica already took.
func TestViewsTravelBetweenReplicas(t *testing.T) {
	holder, clk, sink := newPresenceFleet()
	if err := holder.UpsertAssignment(httpInfo(t, 1, v1alpha1.HTTPCheck{URL: "https://a.example/"})); err != nil {
		t.Fatal(err)
	}
	h, _, _ := holder.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	sink.take()
	r := &protocol.Result{ConfigID: "hca-1", SystemID: "payments-api", Status: v1alpha1.ResultUnhealthy, ExecutedAt: clk.Now()}
	if got, _ := holder.Ingest(h, r); got != string(v1alpha1.ResultUnhealthy) {
		t.Fatalf("Ingest = %q", got)
	}
	if len(sink.got) != 1 || len(sink.got[0].Views) != 1 || sink.got[0].Views[0].Status != v1alpha1.ResultUnhealthy {
		t.Fatalf("a new view published %+v, want one publication with the unhealthy view", sink.got)
	}
	views := sink.got[0].Views
	sink.take()
	r2 := *r
	r2.ExecutedAt = clk.Now().Add(time.Second)
	holder.Ingest(h, &r2)
	if got := sink.take(); len(got) != 0 {
		t.Errorf("a result that changed no view's status published %v; it waits for the renewal", got)
	}

	other, _, _ := newPresenceFleet()
	if err := other.UpsertAssignment(httpInfo(t, 1, v1alpha1.HTTPCheck{URL: "https://a.example/"})); err != nil {
		t.Fatal(err)
	}
	drain(other)
	other.ObserveViews("uid-1", views)
	if _, hcas := drain(other); hcas != 1 {
		t.Errorf("%d assignment wake-ups for a folded view, want 1", hcas)
	}
	rep, _ := other.Report("hca-1", 10)
	if rep.Counts.Unhealthy != 1 {
		t.Errorf("the other replica counts %+v, want the folded unhealthy view", rep.Counts)
	}
	other.ObserveViews("uid-1", views)
	if _, hcas := drain(other); hcas != 0 {
		t.Errorf("%d wake-ups for the same views again, want 0", hcas)
	}

	// The satellite comes to the other replica and resends the result the first one took.
	oh, _, _ := other.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	if got, _ := other.Ingest(oh, r); got != ResultDuplicate {
		t.Errorf("a resent result already taken elsewhere = %q, want %q", got, ResultDuplicate)
	}
	// While it holds the session, its own views win over what others published.
	stale := []PublishedView{{Assignment: "hca-1", CheckView: CheckView{Status: v1alpha1.ResultHealthy, LastRunAt: clk.Now().Add(time.Hour)}}}
	other.ObserveViews("uid-1", stale)
	if rep, _ := other.Report("hca-1", 10); rep.Counts.Unhealthy != 1 {
		t.Errorf("views published elsewhere replaced those of a session held here: %+v", rep.Counts)
	}
}

// TestWrittenAcks checks that an agent that asks for written acks gets the ack of a result only
// once the publication whose views hold it is written, that one publication follows at the
// latest after protocol.MaxUnwrittenResults results, and that an agent that does not ask is
// acknowledged by its session at once.
func TestWrittenAcks(t *testing.T) {
	f, clk, sink := newPresenceFleet()
	if err := f.UpsertAssignment(httpInfo(t, 1, v1alpha1.HTTPCheck{URL: "https://a.example/"})); err != nil {
		t.Fatal(err)
	}
	conn := &recordingConn{}
	caps := []string{protocol.CapabilityCheckConfig, protocol.CapabilityWrittenAcks}
	h, _, _ := f.Authenticate("uid-1", "csat_a", caps, conn)
	sink.take()
	result := func(id string, status v1alpha1.ResultStatus) *protocol.Result {
		clk.Step(time.Second)
		return &protocol.Result{ID: id, ConfigID: "hca-1", SystemID: "payments-api", Status: status, ExecutedAt: clk.Now()}
	}

	// The first result makes the view, which is published at once.
	if status, later := f.Ingest(h, result("r1", v1alpha1.ResultHealthy)); status != string(v1alpha1.ResultHealthy) || !later {
		t.Fatalf("Ingest = %q, ackLater %v; want healthy, acknowledged later", status, later)
	}
	if len(sink.got) != 1 || !slices.Equal(sink.got[0].Acks, []string{"r1"}) {
		t.Fatalf("published %+v, want one publication acknowledging r1", sink.got)
	}
	sink.take()
	// One that changes nothing waits; the next that changes the view's status is published at
	// once, with both to acknowledge.
	f.Ingest(h, result("r2", v1alpha1.ResultHealthy))
	if len(sink.got) != 0 {
		t.Fatalf("a result that changed no status published %+v", sink.got)
	}
	f.Ingest(h, result("r3", v1alpha1.ResultUnhealthy))
	if len(sink.got) != 1 || !slices.Equal(sink.got[0].Acks, []string{"r2", "r3"}) {
		t.Fatalf("published %+v, want one publication acknowledging r2 and r3", sink.got)
	}
	if len(conn.acked) != 0 {
		t.Fatalf("acknowledged %v before the publication was written", conn.acked)
	}
	written := sink.got[0]
	f.Written(written)
	if !slices.Equal(conn.acked, []string{"r2", "r3"}) {
		t.Errorf("acknowledged %v once written, want r2 and r3", conn.acked)
	}
	sink.take()

	// A duplicate is acknowledged by the session at once: resending cannot help.
	dup := result("d1", v1alpha1.ResultUnhealthy)
	dup.ExecutedAt = written.Views[0].LastRunAt
	if status, later := f.Ingest(h, dup); status != ResultDuplicate || later {
		t.Errorf("a duplicate = %q, ackLater %v; want %q, acknowledged at once", status, later, ResultDuplicate)
	}

	// Results that change nothing wait for the renewal, up to the bound.
	for i := range protocol.MaxUnwrittenResults - 1 {
		f.Ingest(h, result(fmt.Sprintf("n%d", i), v1alpha1.ResultUnhealthy))
	}
	if got := sink.take(); len(got) != 0 {
		t.Fatalf("published %d times below the bound of unwritten results", len(got))
	}
	f.Ingest(h, result("last", v1alpha1.ResultUnhealthy))
	if len(sink.got) != 1 || len(sink.got[0].Acks) != protocol.MaxUnwrittenResults {
		t.Fatalf("at the bound: %d publications, want 1 with %d acks", len(sink.got), protocol.MaxUnwrittenResults)
	}
	sink.take()

	// A publication of a session that has ended is not acknowledged to the next one.
	f.Ingest(h, result("r4", v1alpha1.ResultHealthy))
	ended := slices.Clone(sink.got)
	sink.take()
	f.Disconnected(h, false, 0, "")
	sink.take()
	next := &recordingConn{}
	_, _, _ = f.Authenticate("uid-1", "csat_a", caps, next)
	f.Written(ended[0])
	if len(next.acked) != 0 {
		t.Errorf("the next session was sent acks %v of the last one's results", next.acked)
	}

	// An agent that does not ask is acknowledged by its session at once.
	plain := &recordingConn{}
	ph, _, _ := f.Authenticate("uid-1", "csat_a", oursCaps, plain)
	sink.take()
	if _, later := f.Ingest(ph, result("p1", v1alpha1.ResultHealthy)); later {
		t.Error("a result of an agent that did not ask for written acks is acknowledged later")
	}
}
