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
	"slices"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Presence is what this replica publishes of a satellite whose session it holds, or held last:
// the leader judges the satellite's liveness from it (package presence writes it into the
// satellite's Lease). It changes on connect, clean disconnect, loss and silence at once, and
// with heartbeats at most once per renew interval.
type Presence struct {
	Key types.NamespacedName
	UID types.UID
	// Seq orders the publications of this fleet: a sink keeps the latest of each satellite,
	// whatever order concurrent callers hand them over in.
	Seq uint64
	// State is one of v1alpha1.PresenceConnected, PresenceSilent, PresenceDisconnected,
	// PresenceLost and PresenceReleased.
	State string
	// Since is when the session authenticated.
	Since time.Time
	// LastHeartbeat is when this replica last heard from the satellite; after a clean
	// disconnect, when the session closed.
	LastHeartbeat time.Time
	// Threshold is the satellite's offline threshold: how long it may stay silent.
	Threshold time.Duration
	Agent     AgentInfo
	Version   string
	// RemoteAddr is the session's peer.
	RemoteAddr string
	// Replacements are the times of the satellite's last replaced sessions, on any replica,
	// oldest first: the record that holds agents sharing its identity down (see HoldDown).
	// ReplacedAddr is the peer of the session that this replica's last replacement closed, or "".
	Replacements []time.Time
	ReplacedAddr string
	// RepeatedClose is the last run of the same close of the satellite's sessions that this
	// replica reported, or nil.
	RepeatedClose *RepeatedClose
	// Views are the satellite's views of its relayed assignments that this replica took
	// results for, sorted by assignment: the leader folds them into the assignments' status,
	// and the next replica to serve the satellite drops a resent result they already hold.
	Views []PublishedView
	// Acks are the IDs of the session's results that Views hold and whose agent waits for them
	// to be written (protocol.CapabilityWrittenAcks): once the publication is in the API server,
	// the sink hands it back to Fleet.Written, which acknowledges them.
	Acks []string
	// session is the fleet's number of the session Acks belong to.
	session uint64
}

// PublishedView is a satellite's view of one assignment, as the replica that took its results
// publishes it.
type PublishedView struct {
	Assignment types.UID `json:"a"`
	CheckView
}

// MaxPublishedMessage bounds the message of a published view: a presence Lease holds the views
// of every assignment relayed to its satellite, and must stay small.
const MaxPublishedMessage = 256

// PresenceSink takes the fleet's publications. It is called under the fleet's lock, so it must
// return at once and must not call the fleet.
type PresenceSink interface {
	Publish(Presence)
	// Forget drops what the sink holds of a deleted Satellite.
	Forget(types.NamespacedName)
}

// publishLocked hands the satellite's presence in state to the sink.
func (f *Fleet) publishLocked(sat *satellite, state string) {
	if f.opts.Presence == nil {
		return
	}
	f.lastPresence++
	at := sat.facts.LastHeartbeat
	if state == v1alpha1.PresenceDisconnected {
		at = sat.facts.DisconnectedAt
	}
	if state == v1alpha1.PresenceConnected {
		sat.renewedAt = sat.facts.LastHeartbeat
	}
	var views []PublishedView
	for _, a := range sat.relayed {
		if v, ok := a.views[sat]; ok && !v.Persisted && !v.LastRunAt.IsZero() {
			v.Message = truncateRunes(v.Message, MaxPublishedMessage)
			views = append(views, PublishedView{Assignment: a.UID, CheckView: v})
		}
	}
	var acks []string
	if sat.conn != nil {
		acks = sat.unwritten
	}
	sat.unwritten = nil
	var replacements []time.Time
	var replacedAddr string
	if d := sat.duplicates; d != nil {
		replacements, replacedAddr = slices.Clone(d.replaced), d.replacedAddr
	}
	f.opts.Presence.Publish(Presence{
		Key:           sat.key,
		UID:           sat.uid,
		Seq:           f.lastPresence,
		State:         state,
		Since:         sat.facts.ConnectedSince,
		LastHeartbeat: at,
		Threshold:     sat.threshold,
		Agent:         AgentInfo{Dialect: sat.agent.dialect(), Capabilities: sat.agent.Capabilities},
		Version:       sat.facts.Version,
		RemoteAddr:    sat.remoteAddr,
		Replacements:  replacements,
		ReplacedAddr:  replacedAddr,
		RepeatedClose: sat.closes.reported,
		Views:         views,
		Acks:          acks,
		session:       sat.session,
	})
}

// Written tells the fleet that publication p is in the API server: the results it holds are
// acknowledged to the session they came from, if it is still open. Those of a session that
// ended are not: its agent sends them again on its next session, and the replica that takes it
// drops them by the views it reads in the Lease.
func (f *Fleet) Written(p Presence) {
	if len(p.Acks) == 0 {
		return
	}
	f.mu.Lock()
	sat := f.satellites[p.UID]
	var conn Conn
	if sat != nil && sat.conn != nil && sat.session == p.session {
		conn = sat.conn
	}
	f.mu.Unlock()
	if conn == nil {
		return
	}
	for ids := range slices.Chunk(p.Acks, protocol.MaxAckIDs) {
		conn.Acknowledge(ids)
	}
}

// truncateRunes cuts s to at most n bytes at a rune boundary.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ObserveViews folds the views that another replica published of the satellite with this UID
// (its presence Lease) into the assignments that select it, so that the leader's status counts
// satellites that other replicas serve, and so that this replica, should the satellite come
// here, knows which results it already took. A view no newer than the one held is left, and
// nothing is folded while this replica holds the satellite's session: its own views are newer.
func (f *Fleet) ObserveViews(uid types.UID, views []PublishedView) {
	var fx effects
	defer f.run(&fx)
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	sat := f.satellites[uid]
	if sat == nil || sat.conn != nil {
		return
	}
	for _, pv := range views {
		a := f.assignments[pv.Assignment]
		if a == nil {
			continue
		}
		if _, selected := a.selected[sat]; !selected {
			continue
		}
		prev, seen := a.views[sat]
		if seen && !prev.Persisted && !pv.LastRunAt.After(prev.LastRunAt) {
			continue
		}
		v := pv.CheckView
		v.Persisted = false
		a.setView(sat, v)
		wasStale := seen && !prev.ReceivedAt.IsZero() && now.Sub(prev.ReceivedAt) >= staleAge(a.Wire.IntervalSeconds)
		if v.Status != prev.Status || wasStale || now.Sub(a.lastWake) >= f.opts.StatusRefresh {
			a.lastWake = now
			fx.wakeHCA = append(fx.wakeHCA, a.Key)
		}
	}
}

// liveState is the presence of a satellite whose session is open here.
func (s *satellite) liveState() string {
	if s.silent {
		return v1alpha1.PresenceSilent
	}
	return v1alpha1.PresenceConnected
}

// renewDueLocked reports whether a heartbeat of the satellite's session is to renew its
// presence: the first heartbeat at least a renew interval after the last renewal does.
func (f *Fleet) renewDueLocked(sat *satellite) bool {
	return sat.facts.LastHeartbeat.Sub(sat.renewedAt) >= f.opts.RenewInterval
}

// SweepSilent publishes, once, the silence of every session whose satellite sent no heartbeat
// for its offline threshold: the session stays open, but the leader is to judge the satellite
// Offline at once rather than when the presence's duration runs out. The next heartbeat
// publishes it connected again. It is meant to be called about once a second.
func (f *Fleet) SweepSilent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for _, sat := range f.satellites {
		if sat.conn != nil && !sat.silent && sat.threshold > 0 && now.Sub(sat.facts.LastHeartbeat) >= sat.threshold {
			sat.silent = true
			f.publishLocked(sat, v1alpha1.PresenceSilent)
		}
	}
}

// Elsewhere is a session of a satellite that another replica holds, as the satellite's presence
// Lease tells it.
type Elsewhere struct {
	// Holder is the replica.
	Holder string
	// Since is when the session authenticated.
	Since time.Time
	// Open is false once the holder published the session's end.
	Open bool
	// Silent is true when the holder heard nothing from the satellite for its offline
	// threshold: a newcomer that replaces a half-open session is an ordinary reconnect.
	Silent bool
	// RemoteAddr is the session's peer.
	RemoteAddr string
	// For is how long from now the holder promises the session open: the Lease's duration, past
	// which a replica that died holds the satellite no longer.
	For time.Duration
}

// elsewhere is what the fleet keeps of another replica's open session: a newcomer that
// replaces it counts towards a hold-down as one that replaces a session here.
type elsewhere struct {
	remoteAddr string
	until      time.Time
}

// Displaced tells the fleet of the session of the satellite with this UID that another replica
// holds, or held last. A session of this replica's that is older ends with 4002 replaced,
// because the satellite dialled again and reached the other replica; one that is newer
// publishes itself again, to take the presence back.
func (f *Fleet) Displaced(uid types.UID, e Elsewhere) {
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	sat := f.satellites[uid]
	if sat == nil {
		return
	}
	if !e.Open {
		sat.elsewhere = nil
		return
	}
	if sat.conn != nil && sat.facts.ConnectedSince.After(e.Since) {
		f.publishLocked(sat, sat.liveState())
		return
	}
	until := f.clock.Now()
	if !e.Silent {
		until = until.Add(e.For)
	}
	if sat.elsewhere == nil {
		sat.elsewhere = &elsewhere{} // kept across renewals: every replica sees every other's
	}
	*sat.elsewhere = elsewhere{remoteAddr: e.RemoteAddr, until: until}
	if sat.conn == nil {
		return
	}
	fx.close(sat.conn, protocol.CloseReplaced, "replaced by a session on replica "+e.Holder, &protocol.Shutdown{Reason: protocol.ShutdownReplaced})
	// The presence is the other replica's now: this one's end of the session is not published.
	f.endSessionLocked(sat, &fx)
}

// ObserveReplacements merges the replacements of the satellite with this UID that its presence
// Lease records, oldest first, into this replica's record: a hold-down that agents reaching
// different replicas began holds here too.
func (f *Fleet) ObserveReplacements(uid types.UID, replacements []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sat := f.satellites[uid]
	if sat == nil || len(replacements) == 0 {
		return
	}
	if sat.duplicates == nil {
		sat.duplicates = &duplicates{}
	}
	sat.duplicates.replaced = MergeReplacements(sat.duplicates.replaced, replacements)
}
