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

package liveness

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

const (
	threshold = 45 * time.Second
	grace     = 15 * time.Second
	refresh   = 60 * time.Second
	// phase puts the refresh slots at half past every minute; t0 is on a minute.
	phase = 30 * time.Second
)

// t0 is when the manager started tracking; every case's clock starts here.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mt(d time.Duration) *metav1.Time { t := metav1.NewTime(at(d)); return &t }

// persisted builds a status as the reconciler would have written it: lastSeenAt is set only
// while Offline, since an Online satellite is being seen.
func persisted(state v1alpha1.SatelliteState, reason string, lastHeartbeat time.Duration) v1alpha1.SatelliteStatus {
	s := v1alpha1.SatelliteStatus{State: state, LastHeartbeatAt: mt(lastHeartbeat)}
	status := metav1.ConditionFalse
	if state == v1alpha1.SatelliteOnline {
		status = metav1.ConditionTrue
		s.ConnectedSince = mt(-time.Hour)
	} else {
		s.LastSeenAt = mt(lastHeartbeat)
	}
	message := "No heartbeat for 45s"
	if state == v1alpha1.SatelliteOnline {
		message = "Session authenticated at " + s.ConnectedSince.UTC().Format(time.RFC3339)
	}
	s.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionOnline, Status: status, Reason: reason, Message: message,
		ObservedGeneration: 3, LastTransitionTime: *mt(-time.Hour)}}
	return s
}

func connected(lastHeartbeat time.Duration) *Facts {
	return &Facts{Connected: true, ConnectedSince: at(-time.Hour), LastHeartbeat: at(lastHeartbeat), Version: "0.1.0"}
}

// leased is connected with the expiry a presence Lease gives: until, not the threshold.
func leased(lastHeartbeat, until time.Duration) *Facts {
	f := connected(lastHeartbeat)
	f.Until = at(until)
	return f
}

func TestEvaluate(t *testing.T) {
	online := persisted(v1alpha1.SatelliteOnline, v1alpha1.ReasonConnected, -10*time.Second)
	online.Version = "0.1.0"
	offline := persisted(v1alpha1.SatelliteOffline, v1alpha1.ReasonHeartbeatTimeout, -time.Minute)
	// An Online status written when lastSeenAt was refreshed while Online.
	onlineSeen := *online.DeepCopy()
	onlineSeen.LastSeenAt = mt(-10 * time.Second)

	cases := map[string]struct {
		status    v1alpha1.SatelliteStatus
		facts     *Facts
		now       time.Duration // since t0
		threshold time.Duration // default threshold

		wantState     v1alpha1.SatelliteState
		wantReason    string // of the Online condition
		wantEvent     string // event reason, "" for none
		wantRequeue   time.Duration
		wantNoWrite   bool         // the status must come back unchanged (but for observedGeneration)
		wantLastSeen  *metav1.Time // lastSeenAt on going Offline; nil for no check
		wantHeartbeat *metav1.Time // lastHeartbeatAt; nil for no check
	}{
		// The seed's heartbeat-monitor.test.ts, case by case.
		"first observation is silent": {
			status: v1alpha1.SatelliteStatus{}, now: time.Minute,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonNeverConnected,
		},
		"first observation of a connected satellite is silent": {
			status: v1alpha1.SatelliteStatus{}, facts: connected(time.Minute - time.Second), now: time.Minute,
			// The requeue is for the next refresh slot (half past), due before the expiry.
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: phase,
			wantHeartbeat: mt(time.Minute - time.Second),
		},
		"online to offline when heartbeats stop": {
			status: online, facts: connected(0), now: threshold,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantEvent: v1alpha1.EventSatelliteOffline,
			// Going Offline, the satellite was last seen at its last heartbeat.
			wantLastSeen: mt(0), wantHeartbeat: mt(0),
		},
		"offline to online on connect": {
			status: offline, facts: connected(time.Minute), now: time.Minute,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantEvent: v1alpha1.EventSatelliteOnline,
			wantRequeue: phase, wantHeartbeat: mt(time.Minute),
		},
		"unchanged online is silent and writes nothing": {
			// lastHeartbeatAt (10 s ago) was refreshed in the current slot; the next begins in
			// 30 s, before the expiry.
			status: online, facts: connected(-5 * time.Second), now: 0,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: phase,
			wantNoWrite: true,
		},
		"an online status that still has lastSeenAt loses it": {
			// Written before lastSeenAt was cleared while Online: one write clears it, and
			// lastHeartbeatAt, refreshed in the current slot, is left as it is.
			status: onlineSeen, facts: connected(-5 * time.Second), now: 0,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: phase,
			wantHeartbeat: mt(-10 * time.Second),
		},
		"unchanged offline is silent and writes nothing": {
			status: offline, now: time.Hour,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantNoWrite: true,
		},
		"deleted then re-added is a first observation, silent": {
			// A re-created Satellite has a new UID, so the hub has no facts for it and its
			// status is empty.
			status: v1alpha1.SatelliteStatus{}, now: time.Hour,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonNeverConnected,
		},

		// Per-satellite threshold.
		"a short threshold expires sooner": {
			status: online, facts: connected(0), now: 10 * time.Second, threshold: 10 * time.Second,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantEvent: v1alpha1.EventSatelliteOffline,
			wantLastSeen: mt(0),
		},
		"a long threshold holds on": {
			status: online, facts: connected(0), now: 10*time.Minute + phase, threshold: time.Hour,
			// lastHeartbeatAt is refreshed in every slot, long before the expiry; the reconcile
			// comes as a slot begins, and the next is a refresh interval later. What is written
			// is the heartbeat, ten and a half minutes old, not the time of the write.
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: refresh,
			wantHeartbeat: mt(0),
		},

		// A presence Lease: Until replaces the heartbeat plus the threshold as the expiry.
		"a lease holds a satellite online past its threshold": {
			// The heartbeat is ten minutes old, but the Lease proves the satellite alive for 20 s
			// more: it stays Online and is judged again when the Lease runs out, before the next
			// refresh slot (30 s). The old heartbeat is not written over the newer refresh.
			status: online, facts: leased(-10*time.Minute, 20*time.Second), now: 0,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: 20 * time.Second,
			wantNoWrite: true,
		},
		"a lease that ran out takes a satellite offline": {
			status: online, facts: leased(-10*time.Minute, -time.Second), now: 0,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantEvent: v1alpha1.EventSatelliteOffline,
			wantLastSeen: mt(-10 * time.Minute), wantHeartbeat: mt(-10 * time.Minute),
		},
		"a lease that ran out ends a fresh heartbeat's threshold": {
			// A silent Lease expires now, though the threshold after the heartbeat has 40 s left.
			status: online, facts: leased(-5*time.Second, 0), now: 0,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantEvent: v1alpha1.EventSatelliteOffline,
			wantLastSeen: mt(-5 * time.Second),
		},

		// The grace after a clean disconnect.
		"inside the disconnect grace nothing changes": {
			status: online, facts: &Facts{LastHeartbeat: at(0), DisconnectedAt: at(0)}, now: 5 * time.Second,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: grace - 5*time.Second,
			wantNoWrite: true,
		},
		"after the disconnect grace it is offline": {
			status: online, facts: &Facts{LastHeartbeat: at(0), DisconnectedAt: at(0)}, now: grace,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonDisconnected, wantEvent: v1alpha1.EventSatelliteOffline,
			wantLastSeen: mt(0),
		},
		"a lost connection waits for the full threshold": {
			status: online, facts: &Facts{LastHeartbeat: at(0)}, now: grace,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: threshold - grace,
			wantNoWrite: true,
		},
		"a disconnected satellite that was offline stays offline": {
			status: offline, facts: &Facts{LastHeartbeat: at(0), DisconnectedAt: at(0)}, now: time.Second,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantNoWrite: true,
		},

		// A new leader has no heartbeats yet.
		"a new leader gives an online satellite a full threshold": {
			status: online, now: 30 * time.Second,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: threshold - 30*time.Second,
			wantNoWrite: true,
		},
		"a new leader marks it offline once the threshold passes": {
			status: online, now: threshold,
			wantState: v1alpha1.SatelliteOffline, wantReason: v1alpha1.ReasonHeartbeatTimeout, wantEvent: v1alpha1.EventSatelliteOffline,
		},
		"a satellite that reconnects to a new leader is silent": {
			// The requeue is for the next refresh slot, at 30 s, due before the expiry.
			status: online, facts: connected(20 * time.Second), now: 20 * time.Second,
			wantState: v1alpha1.SatelliteOnline, wantReason: v1alpha1.ReasonConnected, wantRequeue: 10 * time.Second,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			th := tc.threshold
			if th == 0 {
				th = threshold
			}
			clk := clocktesting.NewFakeClock(at(tc.now))
			in := Input{Status: tc.status, Generation: 3, Facts: tc.facts, Now: clk.Now(), TrackingSince: t0,
				Threshold: th, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase}
			out := Evaluate(in)

			if out.Status.State != tc.wantState {
				t.Errorf("state = %q, want %q", out.Status.State, tc.wantState)
			}
			c := meta.FindStatusCondition(out.Status.Conditions, v1alpha1.ConditionOnline)
			if c == nil || c.Reason != tc.wantReason {
				t.Errorf("Online condition = %+v, want reason %q", c, tc.wantReason)
			}
			gotEvent := ""
			if out.Event != nil {
				gotEvent = out.Event.Reason
			}
			if gotEvent != tc.wantEvent {
				t.Errorf("event = %q, want %q", gotEvent, tc.wantEvent)
			}
			if out.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeueAfter = %v, want %v", out.RequeueAfter, tc.wantRequeue)
			}
			// An Online satellite is being seen: it has no lastSeenAt.
			if out.Status.State == v1alpha1.SatelliteOnline && out.Status.LastSeenAt != nil {
				t.Errorf("lastSeenAt = %v while Online, want none", out.Status.LastSeenAt)
			}
			if tc.wantLastSeen != nil && !tc.wantLastSeen.Equal(out.Status.LastSeenAt) {
				t.Errorf("lastSeenAt = %v, want %v", out.Status.LastSeenAt, tc.wantLastSeen)
			}
			if tc.wantHeartbeat != nil && !tc.wantHeartbeat.Equal(out.Status.LastHeartbeatAt) {
				t.Errorf("lastHeartbeatAt = %v, want %v", out.Status.LastHeartbeatAt, tc.wantHeartbeat)
			}
			if tc.wantNoWrite {
				want := *tc.status.DeepCopy()
				want.ObservedGeneration = 3
				if diff := cmp.Diff(want, out.Status); diff != "" {
					t.Errorf("status changed (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestEvaluateSequence walks one satellite through its life with a fake clock, feeding each
// output back as the persisted status, and counts the events and status writes.
func TestEvaluateSequence(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	var status v1alpha1.SatelliteStatus
	var facts *Facts
	var events []string
	writes := 0
	step := func(d time.Duration) Output {
		clk.Step(d)
		out := Evaluate(Input{Status: status, Facts: facts, Now: clk.Now(), TrackingSince: t0,
			Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
		if !cmp.Equal(status, out.Status) {
			writes++
		}
		if out.Event != nil {
			events = append(events, out.Event.Reason)
		}
		if out.Status.State == v1alpha1.SatelliteOnline && out.Status.LastSeenAt != nil {
			t.Errorf("at %v: lastSeenAt = %v while Online, want none", clk.Since(t0), out.Status.LastSeenAt)
		}
		status = out.Status
		return out
	}

	step(0) // created: Offline, silent
	facts = &Facts{Connected: true, ConnectedSince: clk.Now(), LastHeartbeat: clk.Now(), Version: "0.1.0"}
	step(0) // connected
	// Ten minutes of heartbeats every 15 s, with a reconcile after each.
	for range 40 {
		clk.Step(15 * time.Second)
		facts.LastHeartbeat = clk.Now()
		step(0)
	}
	// Heartbeats stop; following the requeues lands exactly on the expiry.
	last := clk.Now()
	out := step(0)
	for i := 0; status.State == v1alpha1.SatelliteOnline && i < 5; i++ {
		out = step(out.RequeueAfter)
	}
	if got := clk.Since(last); got != threshold {
		t.Errorf("went Offline %v after the last heartbeat, want exactly %v", got, threshold)
	}

	wantEvents := []string{v1alpha1.EventSatelliteOnline, v1alpha1.EventSatelliteOffline}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if status.State != v1alpha1.SatelliteOffline {
		t.Errorf("final state = %q, want Offline", status.State)
	}
	// First Offline, Online, one lastHeartbeatAt refresh per slot while Online (645 s, from 0
	// to the expiry, hold 11 slots, at 30 s, 90 s, ... 630 s), and Offline again.
	if writes > 14 {
		t.Errorf("%d status writes, want at most 14", writes)
	}
	if status.LastHeartbeatAt == nil || !status.LastHeartbeatAt.Time.Equal(facts.LastHeartbeat) {
		t.Errorf("lastHeartbeatAt = %v, want the last heartbeat %v", status.LastHeartbeatAt, facts.LastHeartbeat)
	}
	if status.LastSeenAt == nil || !status.LastSeenAt.Time.Equal(facts.LastHeartbeat) {
		t.Errorf("lastSeenAt = %v, want the last heartbeat %v", status.LastSeenAt, facts.LastHeartbeat)
	}
}

// TestEvaluateRefreshesLastHeartbeatOncePerRefreshInterval: while Online, lastHeartbeatAt is
// written once per refresh slot, not on every heartbeat, and what it is written with is the
// heartbeat in the facts, not the time of the write.
func TestEvaluateRefreshesLastHeartbeatOncePerRefreshInterval(t *testing.T) {
	for name, tc := range map[string]struct {
		lastHeartbeatAt, heartbeat, now time.Duration
		want                            time.Duration // lastHeartbeatAt afterwards
	}{
		// lastHeartbeatAt was refreshed at 30 s, in the slot that holds now: a newer heartbeat
		// waits for the next slot, or it would be a second write in the interval.
		"a heartbeat alone refreshes nothing": {lastHeartbeatAt: phase, heartbeat: refresh, now: refresh + time.Second, want: phase},
		// The slot at 90 s begins, and lastHeartbeatAt was last refreshed before it.
		"once per interval, as a slot begins": {lastHeartbeatAt: 0, heartbeat: refresh + phase - time.Second, now: refresh + phase,
			want: refresh + phase - time.Second},
		// The heartbeat (a Lease's renew time, say) is older than the write: it is what is
		// written, so that lastHeartbeatAt never claims a heartbeat that did not happen.
		"the heartbeat, not the time of the write": {lastHeartbeatAt: 0, heartbeat: refresh + phase - 20*time.Second, now: refresh + phase,
			want: refresh + phase - 20*time.Second},
	} {
		online := persisted(v1alpha1.SatelliteOnline, v1alpha1.ReasonConnected, tc.lastHeartbeatAt)
		out := Evaluate(Input{Status: online, Facts: connected(tc.heartbeat), Now: at(tc.now), TrackingSince: t0,
			Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
		if out.Status.State != v1alpha1.SatelliteOnline || out.Event != nil {
			t.Errorf("%s: state %s, event %+v; want Online, no event", name, out.Status.State, out.Event)
		}
		if !mt(tc.want).Equal(out.Status.LastHeartbeatAt) {
			t.Errorf("%s: lastHeartbeatAt = %v, want %v", name, out.Status.LastHeartbeatAt, mt(tc.want))
		}
		if out.Status.LastSeenAt != nil {
			t.Errorf("%s: lastSeenAt = %v while Online, want none", name, out.Status.LastSeenAt)
		}
	}
}

// TestEvaluateLeavesALateRefreshForTheNextWindow: a reconcile that comes after the refresh's
// window closed (the manager is behind on its writes) writes nothing and requeues for the next
// window, and a transition is written however late it comes.
func TestEvaluateLeavesALateRefreshForTheNextWindow(t *testing.T) {
	window := refreshWindow(refresh) // 5 s
	for name, tc := range map[string]struct {
		now          time.Duration // lastHeartbeatAt was refreshed at 0; the slots begin at 30 s, 90 s, ...
		wantWrite    bool
		wantDeferred bool
		wantRequeue  time.Duration
	}{
		"not due":                 {now: phase - time.Second, wantRequeue: time.Second},
		"on time":                 {now: phase, wantWrite: true, wantRequeue: refresh},
		"late, within the window": {now: phase + window, wantWrite: true, wantRequeue: refresh - window},
		"after the window":        {now: phase + window + time.Second, wantDeferred: true, wantRequeue: refresh - window - time.Second},
		"in the next slot's window": {now: phase + refresh + time.Second, wantWrite: true,
			wantRequeue: refresh - time.Second},
		"after the next slot's window": {now: phase + refresh + 30*time.Second, wantDeferred: true, wantRequeue: 30 * time.Second},
	} {
		online := persisted(v1alpha1.SatelliteOnline, v1alpha1.ReasonConnected, 0)
		online.Version = "0.1.0"
		out := Evaluate(Input{Status: online, Generation: 3, Facts: connected(tc.now - time.Second), Now: at(tc.now), TrackingSince: t0,
			Threshold: time.Hour, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
		wrote := !cmp.Equal(online, out.Status, cmpopts.IgnoreFields(v1alpha1.SatelliteStatus{}, "ObservedGeneration"))
		if wrote != tc.wantWrite || out.RefreshDeferred != tc.wantDeferred || out.RequeueAfter != tc.wantRequeue {
			t.Errorf("%s: wrote %v, deferred %v, requeue %v; want %v, %v, %v", name, wrote, out.RefreshDeferred, out.RequeueAfter,
				tc.wantWrite, tc.wantDeferred, tc.wantRequeue)
		}
		// A write is the refresh of lastHeartbeatAt, to the heartbeat in the facts.
		if tc.wantWrite && !mt(tc.now-time.Second).Equal(out.Status.LastHeartbeatAt) {
			t.Errorf("%s: lastHeartbeatAt = %v, want %v", name, out.Status.LastHeartbeatAt, mt(tc.now-time.Second))
		}
	}

	// Offline is written and announced however late its reconcile comes, with lastSeenAt at the
	// last heartbeat, not at the late reconcile.
	online := persisted(v1alpha1.SatelliteOnline, v1alpha1.ReasonConnected, 0)
	out := Evaluate(Input{Status: online, Facts: connected(0), Now: at(threshold + 40*time.Second), TrackingSince: t0,
		Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
	if out.Status.State != v1alpha1.SatelliteOffline || out.Event == nil {
		t.Errorf("a late expiry gave state %s and event %+v, want Offline with an Event", out.Status.State, out.Event)
	}
	if !mt(0).Equal(out.Status.LastSeenAt) {
		t.Errorf("a late expiry: lastSeenAt = %v, want the last heartbeat %v", out.Status.LastSeenAt, mt(0))
	}
}

// TestNoRefreshSoonAfterAWrite: a satellite that connects 5 s before its refresh slot is not
// refreshed in that slot, but in the next; the transition was its write for the interval.
func TestNoRefreshSoonAfterAWrite(t *testing.T) {
	facts := &Facts{Connected: true, ConnectedSince: at(phase - 5*time.Second), LastHeartbeat: at(phase - 5*time.Second)}
	in := Input{Status: persisted(v1alpha1.SatelliteOffline, v1alpha1.ReasonNeverConnected, -time.Hour), Facts: facts,
		Now: at(phase - 5*time.Second), TrackingSince: t0, Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase}
	out := Evaluate(in)
	if out.Status.State != v1alpha1.SatelliteOnline || out.RequeueAfter != 5*time.Second {
		t.Fatalf("connect: state %s, requeue %v; want Online, 5s (the slot)", out.Status.State, out.RequeueAfter)
	}
	// The lastSeenAt of the Offline status is cleared by the transition.
	if out.Status.LastSeenAt != nil {
		t.Errorf("connect: lastSeenAt = %v, want none while Online", out.Status.LastSeenAt)
	}
	in.Status, in.Now = out.Status, at(phase)
	facts.LastHeartbeat = in.Now
	if next := Evaluate(in); !cmp.Equal(next.Status, out.Status) || next.RefreshDeferred || next.RequeueAfter != threshold {
		t.Errorf("the slot 5 s after the transition: wrote %v, deferred %v, requeue %v; want no write, not deferred, the expiry",
			!cmp.Equal(next.Status, out.Status), next.RefreshDeferred, next.RequeueAfter)
	}
	in.Now = at(phase + refresh)
	facts.LastHeartbeat = in.Now
	if next := Evaluate(in); next.Status.LastHeartbeatAt == nil || !next.Status.LastHeartbeatAt.Time.Equal(in.Now) || next.Status.LastSeenAt != nil {
		t.Errorf("the next slot: lastHeartbeatAt %v, lastSeenAt %v; want %v, none", next.Status.LastHeartbeatAt, next.Status.LastSeenAt, in.Now)
	}
}

// TestRefreshesKeepUpWithALateQueue follows an Online satellite whose every reconcile comes a
// fixed delay after its requeue, as in a queue that is behind: within the window it is
// refreshed once per interval; beyond it the refreshes wait, and fewer are written.
func TestRefreshesKeepUpWithALateQueue(t *testing.T) {
	for _, tc := range []struct {
		delay                time.Duration
		minWrites, maxWrites int
	}{
		{delay: 0, minWrites: 59, maxWrites: 61},
		{delay: 3 * time.Second, minWrites: 55, maxWrites: 61},
		{delay: 20 * time.Second, minWrites: 0, maxWrites: 40},
	} {
		clk := clocktesting.NewFakeClock(t0)
		facts := &Facts{Connected: true, ConnectedSince: t0, LastHeartbeat: t0}
		var status v1alpha1.SatelliteStatus
		writes := 0
		for clk.Since(t0) < time.Hour {
			facts.LastHeartbeat = clk.Now().Add(-time.Second) // heartbeats keep coming
			out := Evaluate(Input{Status: status, Facts: facts, Now: clk.Now(), TrackingSince: t0,
				Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
			if !cmp.Equal(status, out.Status) {
				writes++
			}
			status = out.Status
			if status.State != v1alpha1.SatelliteOnline {
				t.Fatalf("delay %v: went %s", tc.delay, status.State)
			}
			clk.Step(out.RequeueAfter + tc.delay)
		}
		t.Logf("delay %v: %d writes in an hour", tc.delay, writes)
		if writes < tc.minWrites || writes > tc.maxWrites {
			t.Errorf("delay %v: %d writes in an hour, want %d to %d", tc.delay, writes, tc.minWrites, tc.maxWrites)
		}
	}
}

func TestEvaluateRecordsVersionChange(t *testing.T) {
	online := persisted(v1alpha1.SatelliteOnline, v1alpha1.ReasonConnected, 0)
	online.Version = "0.1.0"
	facts := connected(time.Second)
	facts.Version = "0.2.0"
	out := Evaluate(Input{Status: online, Facts: facts, Now: at(time.Second), TrackingSince: t0,
		Threshold: threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
	if out.Status.Version != "0.2.0" || out.Event != nil {
		t.Errorf("version = %q, event = %+v; want 0.2.0 and no event", out.Status.Version, out.Event)
	}
}

// TestLastHeartbeatAtStaysWithinTheRefreshInterval follows the requeues of an Online satellite
// whose heartbeats are a fixed age old when a reconcile reads them (a Lease's renew time is read
// some time after the renewal), and checks the age of lastHeartbeatAt at every moment a
// reconcile happens and just before it: it never exceeds the refresh interval plus that age.
// lastSeenAt stays empty throughout.
func TestLastHeartbeatAtStaysWithinTheRefreshInterval(t *testing.T) {
	for _, tc := range []struct{ threshold, age time.Duration }{
		{5 * time.Second, time.Second},
		{threshold, time.Second},
		{10 * time.Minute, time.Second},
		{threshold, 20 * time.Second},
		{10 * time.Minute, 20 * time.Second},
	} {
		clk := clocktesting.NewFakeClock(t0)
		facts := &Facts{Connected: true, ConnectedSince: t0, LastHeartbeat: t0}
		var status v1alpha1.SatelliteStatus
		for range 100 {
			out := Evaluate(Input{Status: status, Facts: facts, Now: clk.Now(), TrackingSince: t0,
				Threshold: tc.threshold, DisconnectGrace: grace, RefreshInterval: refresh, RefreshPhase: phase})
			status = out.Status
			if status.State != v1alpha1.SatelliteOnline || out.RequeueAfter <= 0 {
				t.Fatalf("threshold %v, age %v: state %s, requeue %v", tc.threshold, tc.age, status.State, out.RequeueAfter)
			}
			if status.LastSeenAt != nil {
				t.Fatalf("threshold %v, age %v: lastSeenAt = %v while Online, want none", tc.threshold, tc.age, status.LastSeenAt)
			}
			// The next reconcile runs at the requeue; the age just before it is the largest.
			clk.Step(out.RequeueAfter)
			facts.LastHeartbeat = clk.Now().Add(-tc.age)
			// One second more: lastHeartbeatAt is truncated to what the API stores.
			if age := clk.Since(status.LastHeartbeatAt.Time); age > refresh+tc.age+time.Second {
				t.Fatalf("threshold %v, age %v: lastHeartbeatAt is %v old while Online, above the refresh interval %v plus the age",
					tc.threshold, tc.age, age, refresh)
			}
		}
	}
}
