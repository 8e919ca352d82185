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
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/liveness"
)

// Observer turns presence Leases into liveness facts for the leader. A holder's promise to
// write again is judged by this replica's clock, as the node lifecycle controller judges node
// Leases: a Lease proves its satellite alive for its duration from when this replica saw it
// change, not from the renewTime another replica's clock wrote.
type Observer struct {
	clock clock.PassiveClock

	mu   sync.Mutex
	seen map[types.NamespacedName]observation
	// announced holds, for each kind of Event of each Lease, when the last announced record
	// of that kind happened.
	announced map[announcement]time.Time
}

// announcement is one kind of Event that a Lease's records make.
type announcement struct {
	lease types.NamespacedName
	kind  string
}

// Kinds of announcements.
const (
	announceHoldDown      = "hold-down"
	announceRepeatedClose = "repeated-close"
)

// observation is when this replica first saw a version of a Lease.
type observation struct {
	resourceVersion string
	at              time.Time
}

// NewObserver returns an Observer that reads the time from clk.
func NewObserver(clk clock.PassiveClock) *Observer {
	return &Observer{clock: clk, seen: map[types.NamespacedName]observation{}, announced: map[announcement]time.Time{}}
}

// Facts returns the liveness facts that the Lease of the Satellite with this UID carries, or nil
// when lease is nil or belongs to an earlier Satellite of the same name. since floors the
// moment a Lease counts from: a term counts every Lease from its start at the earliest, because
// the cache may have missed renewals while this replica did not lead or could not reach the API.
func (o *Observer) Facts(uid types.UID, lease *coordinationv1.Lease, since time.Time) *liveness.Facts {
	if lease == nil || ownerUID(lease) != uid {
		return nil
	}
	key := types.NamespacedName{Namespace: lease.Namespace, Name: lease.Name}
	now := o.clock.Now()
	o.mu.Lock()
	seen, ok := o.seen[key]
	if !ok || seen.resourceVersion != lease.ResourceVersion {
		seen = observation{resourceVersion: lease.ResourceVersion, at: now}
		o.seen[key] = seen
	}
	o.mu.Unlock()

	f := &liveness.Facts{Version: lease.Annotations[v1alpha1.AnnotationAgentVersion]}
	if t := lease.Spec.AcquireTime; t != nil {
		f.ConnectedSince = t.Time
	}
	if t := lease.Spec.RenewTime; t != nil {
		f.LastHeartbeat = t.Time
	}
	switch lease.Annotations[v1alpha1.AnnotationPresence] {
	case v1alpha1.PresenceConnected, v1alpha1.PresenceReleased:
		// A released session is judged as one whose holder died: the satellite has the
		// Lease's duration to come back, on any replica.
		f.Connected = true
		f.Until = later(seen.at, since).Add(duration(lease))
	case v1alpha1.PresenceSilent:
		// The holder saw the threshold pass without a heartbeat: expired now.
		f.Connected = true
		f.Until = seen.at
	case v1alpha1.PresenceDisconnected:
		f.DisconnectedAt = f.LastHeartbeat
	}
	return f
}

// Forget drops what the observer saw of a deleted Satellite's Lease.
func (o *Observer) Forget(satellite types.NamespacedName) {
	o.mu.Lock()
	delete(o.seen, LeaseKey(satellite))
	for _, kind := range []string{announceHoldDown, announceRepeatedClose} {
		delete(o.announced, announcement{LeaseKey(satellite), kind})
	}
	o.mu.Unlock()
}

// Agent returns what the agent advertised, as the Lease's holder recorded it, or nil.
func Agent(lease *coordinationv1.Lease) *v1alpha1.AgentStatus {
	kind := lease.Annotations[v1alpha1.AnnotationAgentKind]
	if kind == "" {
		return nil
	}
	a := &v1alpha1.AgentStatus{Kind: v1alpha1.AgentKind(kind)}
	if caps := lease.Annotations[v1alpha1.AnnotationAgentCapabilities]; caps != "" {
		a.Capabilities = strings.Split(caps, ",")
	}
	return a
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// HoldDownNotice is a hold-down of agents that share a satellite's identity, for its Warning
// Event.
type HoldDownNotice struct {
	// Kept is the peer address of the session the hold-down keeps; Replaced is that of the
	// session its last replacement closed.
	Kept, Replaced string
	// Until is when the hold-down ends.
	Until time.Time
}

// TakeHoldDown returns, once, the hold-down that the replacements recorded in the Lease of the
// Satellite with this UID began, while it lasts. One that began before since is left: the
// leader of that time announced it.
func (o *Observer) TakeHoldDown(uid types.UID, lease *coordinationv1.Lease, since time.Time) (HoldDownNotice, bool) {
	if lease == nil || ownerUID(lease) != uid {
		return HoldDownNotice{}, false
	}
	began, until, held := fleet.HoldDown(Replacements(lease))
	if !held || began.Before(since) || !o.clock.Now().Before(until) {
		return HoldDownNotice{}, false
	}
	if !o.announce(lease, announceHoldDown, began) {
		return HoldDownNotice{}, false
	}
	return HoldDownNotice{
		Kept:     lease.Annotations[v1alpha1.AnnotationRemoteAddress],
		Replaced: lease.Annotations[v1alpha1.AnnotationReplacedAddress],
		Until:    until,
	}, true
}

// TakeRepeatedClose returns, once, the last run of the same close of the satellite's sessions
// that the Lease of the Satellite with this UID records. One reported before since is left: the
// leader of that time announced it.
func (o *Observer) TakeRepeatedClose(uid types.UID, lease *coordinationv1.Lease, since time.Time) (fleet.RepeatedClose, bool) {
	if lease == nil || ownerUID(lease) != uid {
		return fleet.RepeatedClose{}, false
	}
	rc := RepeatedClose(lease)
	if rc == nil || rc.At.Before(since) || !o.announce(lease, announceRepeatedClose, rc.At) {
		return fleet.RepeatedClose{}, false
	}
	return *rc, true
}

// announce records that the leader announces the record of that kind, made at, of the Lease,
// and reports whether it is new: later than the last one announced.
func (o *Observer) announce(lease *coordinationv1.Lease, kind string, at time.Time) bool {
	key := announcement{types.NamespacedName{Namespace: lease.Namespace, Name: lease.Name}, kind}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.announced[key].Before(at) {
		return false
	}
	o.announced[key] = at
	return true
}
