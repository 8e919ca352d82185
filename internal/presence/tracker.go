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
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/liveness"
)

// eventBuffer is how many wake-ups may wait for the reconciler before a caller blocks.
const eventBuffer = 1024

// Session identifies one authenticated connection of a satellite. A newer session replaces an
// older one, and facts reported for a replaced session are ignored.
type Session uint64

// Tracker records connects, heartbeats and disconnects by the manager's clock. Heartbeats only
// update memory; connects, disconnects and version changes also wake the reconciler, which
// requeues itself for the expiry of the heartbeats in between.
type Tracker struct {
	clock  clock.PassiveClock
	events chan event.TypedGenericEvent[*v1alpha1.Satellite]

	mu          sync.Mutex
	since       time.Time
	lastSession Session
	satellites  map[types.UID]*entry
}

type entry struct {
	key     types.NamespacedName
	session Session
	facts   liveness.Facts
}

// NewTracker returns an empty Tracker that reads time from clk.
func NewTracker(clk clock.PassiveClock) *Tracker {
	return &Tracker{
		clock:      clk,
		events:     make(chan event.TypedGenericEvent[*v1alpha1.Satellite], eventBuffer),
		satellites: map[types.UID]*entry{},
	}
}

// Events is the source of reconcile requests for source.Channel.
func (t *Tracker) Events() <-chan event.TypedGenericEvent[*v1alpha1.Satellite] {
	return t.events
}

// Since returns when this manager started to track heartbeats: the first time it was asked,
// which is the first reconcile, so a standby that becomes leader counts from then.
func (t *Tracker) Since() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.since.IsZero() {
		t.since = t.clock.Now()
	}
	return t.since
}

// Facts returns what is known of the satellite with the given UID, and whether anything is.
func (t *Tracker) Facts(uid types.UID) (liveness.Facts, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.satellites[uid]
	if !ok {
		return liveness.Facts{}, false
	}
	return e.facts, true
}

// Connected records an authenticated session of a satellite and returns its handle. It replaces
// any earlier session of the same satellite.
func (t *Tracker) Connected(key types.NamespacedName, uid types.UID, version string) Session {
	t.mu.Lock()
	now := t.clock.Now()
	t.lastSession++
	s := t.lastSession
	t.satellites[uid] = &entry{key: key, session: s, facts: liveness.Facts{
		Connected:      true,
		ConnectedSince: now,
		LastHeartbeat:  now,
		Version:        version,
	}}
	t.mu.Unlock()
	t.Wake(key)
	return s
}

// Heartbeat records a heartbeat of a live session. It wakes the reconciler only when the
// reported version changed.
func (t *Tracker) Heartbeat(uid types.UID, s Session, version string) {
	t.mu.Lock()
	e, ok := t.satellites[uid]
	if !ok || e.session != s {
		t.mu.Unlock()
		return
	}
	e.facts.LastHeartbeat = t.clock.Now()
	changed := version != "" && version != e.facts.Version
	if changed {
		e.facts.Version = version
	}
	key := e.key
	t.mu.Unlock()
	if changed {
		t.Wake(key)
	}
}

// Disconnected records the end of a session. clean is true when the session ended with a close
// handshake or was closed by the manager; the satellite then goes Offline after the disconnect
// grace instead of the full threshold.
func (t *Tracker) Disconnected(uid types.UID, s Session, clean bool) {
	t.mu.Lock()
	e, ok := t.satellites[uid]
	if !ok || e.session != s || !e.facts.Connected {
		t.mu.Unlock()
		return
	}
	e.facts.Connected = false
	if clean {
		e.facts.DisconnectedAt = t.clock.Now()
	}
	key := e.key
	t.mu.Unlock()
	t.Wake(key)
}

// Forget drops what is known of a deleted satellite.
func (t *Tracker) Forget(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.satellites, uid)
}

// Wake asks for a reconcile of the satellite, for a change the Tracker does not see itself (the
// number of assignments relayed to it). It must be called without locks held: the channel is
// drained by the controller, and a full buffer blocks the caller.
func (t *Tracker) Wake(key types.NamespacedName) {
	t.events <- event.TypedGenericEvent[*v1alpha1.Satellite]{
		Object: &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
	}
}
