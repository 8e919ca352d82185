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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Facts is what the manager knows in memory about a satellite's sessions, by its own clock.
type Facts struct {
	// Connected is true while the satellite has an authenticated session.
	Connected bool
	// ConnectedSince is when the current (or last) session authenticated.
	ConnectedSince time.Time
	// LastHeartbeat is when the manager last heard from the satellite; authenticating counts.
	LastHeartbeat time.Time
	// DisconnectedAt is when the last session was closed cleanly (by either side). It is zero
	// while connected, and after a session was lost without a close.
	DisconnectedAt time.Time
	// Version is the agent version the satellite last reported.
	Version string
	// Until is, while Connected, when these facts stop proving the satellite alive, by the
	// manager's clock: a presence Lease proves it for its duration from when the manager saw it
	// renewed. Zero means LastHeartbeat plus the offline threshold.
	Until time.Time
}

// Input is everything the liveness decision depends on.
type Input struct {
	// Status is the status persisted in the API; an empty State means first observation.
	Status v1alpha1.SatelliteStatus
	// Generation is the Satellite's metadata.generation.
	Generation int64
	// Facts is nil when this manager has heard nothing of the satellite since it started.
	Facts *Facts
	// Now is the current time of the injected clock.
	Now time.Time
	// TrackingSince is when this manager started to judge the satellites (its term began).
	TrackingSince time.Time
	// Threshold is the satellite's offline threshold.
	Threshold time.Duration
	// DisconnectGrace is how long a cleanly disconnected satellite stays Online.
	DisconnectGrace time.Duration
	// RefreshInterval is the least time between two refreshes of lastHeartbeatAt while Online.
	RefreshInterval time.Duration
	// RefreshPhase places the satellite's refreshes within the refresh interval: they fall due
	// at RefreshPhase past every multiple of the interval since the Unix epoch, so that a fleet
	// that connected at once does not refresh in one burst. It is less than RefreshInterval.
	RefreshPhase time.Duration
}

// Event is a Kubernetes Event to emit for a transition.
type Event struct {
	Type    string // corev1.EventTypeNormal or corev1.EventTypeWarning
	Reason  string
	Message string
}

// Output is the liveness decision.
type Output struct {
	// Status is the status to persist; it equals Input.Status when nothing changed.
	Status v1alpha1.SatelliteStatus
	// Event is the transition to announce, or nil.
	Event *Event
	// RequeueAfter is when the decision may change without new facts; zero means only new
	// facts can change it.
	RequeueAfter time.Duration
	// RefreshDeferred says that a refresh of lastHeartbeatAt fell due but its window closed
	// before this reconcile came: it waits for the next interval, and nothing is written for it.
	RefreshDeferred bool
}

// Evaluate computes a satellite's state. It announces a transition only when the persisted state
// was known and differs; a first observation is silent. Without a live session a satellite never
// becomes Online, and one that was Online is held Online until a deadline: the offline threshold
// after the last heartbeat, the disconnect grace after a clean close, or, for a manager that has
// heard nothing yet (a new leader), a full threshold from when it started tracking, as the node
// lifecycle controller assumes "now" for a missing heartbeat.
func Evaluate(in Input) Output {
	out := Output{Status: *in.Status.DeepCopy()}
	out.Status.ObservedGeneration = in.Generation
	wasOnline := in.Status.State == v1alpha1.SatelliteOnline
	f := in.Facts

	if f != nil && f.Connected {
		expiry := f.LastHeartbeat.Add(in.Threshold)
		if !f.Until.IsZero() {
			expiry = f.Until
		}
		if in.Now.Before(expiry) {
			out.RefreshDeferred = setOnline(&out.Status, in, f)
			// The next decision: the expiry, or the next refresh slot if it comes first.
			next := expiry
			if _, nextSlot := refreshSlots(in); nextSlot.Before(next) {
				next = nextSlot
			}
			out.RequeueAfter = next.Sub(in.Now)
		} else {
			setOffline(&out.Status, in, v1alpha1.ReasonHeartbeatTimeout, timeoutMessage(in.Threshold))
		}
		return withEvent(out, in.Status.State)
	}

	if wasOnline {
		holdUntil, reason, message := in.TrackingSince.Add(in.Threshold), v1alpha1.ReasonHeartbeatTimeout, timeoutMessage(in.Threshold)
		if f != nil {
			holdUntil = f.LastHeartbeat.Add(in.Threshold)
			if !f.DisconnectedAt.IsZero() {
				if graceEnd := f.DisconnectedAt.Add(in.DisconnectGrace); graceEnd.Before(holdUntil) {
					holdUntil = graceEnd
				}
				reason, message = v1alpha1.ReasonDisconnected, "The satellite closed its session and did not reconnect"
			}
		}
		if in.Now.Before(holdUntil) {
			// Nothing is decided yet: keep the persisted status as it is, so a rolling restart
			// of the manager or a quick reconnect writes nothing and announces nothing.
			out.RequeueAfter = holdUntil.Sub(in.Now)
			return out
		}
		setOffline(&out.Status, in, reason, message)
		return withEvent(out, in.Status.State)
	}

	reason, message := v1alpha1.ReasonNeverConnected, "The satellite has not connected yet"
	if c := meta.FindStatusCondition(in.Status.Conditions, v1alpha1.ConditionOnline); c != nil {
		reason, message = c.Reason, c.Message
	}
	setOffline(&out.Status, in, reason, message)
	return withEvent(out, in.Status.State)
}

// setOnline marks s Online and refreshes lastHeartbeatAt while its window is open; it reports
// whether a refresh fell due but its window had closed. lastSeenAt is cleared: an Online
// satellite is being seen, and a refreshed lastSeenAt would show the age of the last status
// write, not of the last sight.
func setOnline(s *v1alpha1.SatelliteStatus, in Input, f *Facts) (deferred bool) {
	changed := s.State != v1alpha1.SatelliteOnline
	s.State = v1alpha1.SatelliteOnline
	since := seconds(f.ConnectedSince)
	s.ConnectedSince = &since
	if f.Version != "" {
		s.Version = f.Version
	}
	s.LastSeenAt = nil
	due := changed || s.LastHeartbeatAt == nil
	if !due {
		// Due when not refreshed since the current slot began, compared in the whole seconds
		// the API stores. The heartbeat written last is at most a presence renewal older than
		// its write, which is far less than half an interval: a slot that begins less than half
		// an interval after it (the transition to Online, say) is left out, so that a fleet that
		// connected at once does not write twice in its first interval, while the API server is
		// busiest.
		slot, _ := refreshSlots(in)
		if s.LastHeartbeatAt.Before(ptr.To(seconds(slot))) && slot.Sub(s.LastHeartbeatAt.Time) >= in.RefreshInterval/2 {
			due = in.Now.Sub(slot) <= refreshWindow(in.RefreshInterval)
			deferred = !due
		}
	}
	// Never backwards: a presence seen anew (a new term, a Lease created again) may carry an
	// older heartbeat than the one written.
	if last := seconds(f.LastHeartbeat); due && (s.LastHeartbeatAt == nil || s.LastHeartbeatAt.Before(&last)) {
		s.LastHeartbeatAt = &last
	}
	setCondition(s, in, metav1.ConditionTrue, v1alpha1.ReasonConnected,
		fmt.Sprintf("Session authenticated at %s", since.UTC().Format(time.RFC3339)))
	return deferred
}

func setOffline(s *v1alpha1.SatelliteStatus, in Input, reason, message string) {
	if s.State == v1alpha1.SatelliteOnline {
		if in.Facts != nil && !in.Facts.LastHeartbeat.IsZero() {
			last := seconds(in.Facts.LastHeartbeat)
			s.LastHeartbeatAt = &last
		}
		// Last seen at the last heartbeat known: of the facts, or, for a new leader that has
		// none, the one written last.
		s.LastSeenAt = s.LastHeartbeatAt.DeepCopy()
	}
	s.State = v1alpha1.SatelliteOffline
	s.ConnectedSince = nil
	setCondition(s, in, metav1.ConditionFalse, reason, message)
}

func setCondition(s *v1alpha1.SatelliteStatus, in Input, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type:               v1alpha1.ConditionOnline,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: in.Generation,
		LastTransitionTime: seconds(in.Now),
	})
}

// withEvent announces the transition from the persisted state, if there is one.
func withEvent(out Output, before v1alpha1.SatelliteState) Output {
	if before == "" || before == out.Status.State {
		return out
	}
	c := meta.FindStatusCondition(out.Status.Conditions, v1alpha1.ConditionOnline)
	if out.Status.State == v1alpha1.SatelliteOnline {
		out.Event = &Event{Type: "Normal", Reason: v1alpha1.EventSatelliteOnline, Message: c.Message}
	} else {
		out.Event = &Event{Type: "Warning", Reason: v1alpha1.EventSatelliteOffline, Message: c.Message}
	}
	return out
}

// refreshSlots returns the start of the satellite's refresh slot that holds now, and of the
// next one. An Online satellite's lastHeartbeatAt is refreshed once per slot: the presence
// Lease carries its liveness, so the status is written for transitions and, coarsely, for this.
func refreshSlots(in Input) (slot, next time.Time) {
	interval := in.RefreshInterval.Nanoseconds()
	offset := (in.Now.UnixNano() - in.RefreshPhase.Nanoseconds()) % interval
	if offset < 0 {
		offset += interval
	}
	slot = in.Now.Add(-time.Duration(offset))
	return slot, slot.Add(in.RefreshInterval)
}

// refreshWindow is how late in its slot a refresh may still be written: a twelfth of the
// refresh interval, and at least a second. Reconciles come late when
// the manager is behind on its writes, because the API server takes them more slowly than the
// refreshes fall due. The reconcilers' queue is first in, first out, so every transition then
// waits behind a backlog of refreshes: at 10,000 satellites, an API server taking 110 writes a
// second against 167 due made Offline 41 s late. A refresh that missed its window waits for the
// next slot, which drains the backlog and costs only a lastHeartbeatAt older by one interval;
// transitions are never left.
func refreshWindow(interval time.Duration) time.Duration {
	return max(interval/12, time.Second)
}

func timeoutMessage(threshold time.Duration) string {
	return fmt.Sprintf("No heartbeat for %s", threshold)
}

// seconds truncates to what the API stores, so that a status read back compares equal.
func seconds(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}
