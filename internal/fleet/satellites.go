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
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/internal/liveness"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// satellite is what the fleet knows of one Satellite. It holds nothing sized by a constant:
// what grows (the relayed list, views) grows with use.
type satellite struct {
	uid    types.UID
	key    types.NamespacedName
	region string
	labels map[string]string
	hash   TokenHash
	// hasToken is false while the Satellite's token Secret is missing: nobody can authenticate.
	hasToken bool
	// offline mirrors the Satellite's status.state as its reconciler judged it, with the grace it
	// gives to a clean disconnect and to a new manager: assignments do not count an Offline
	// satellite, and a rolling restart of the manager does not make them say so.
	offline bool

	// conn is the live authenticated session, or nil; session numbers it, so that the end of
	// a replaced session is told apart from the end of the current one. remoteAddr is the peer
	// of the current or last session.
	conn       Conn
	session    uint64
	remoteAddr string
	// elsewhere is the satellite's session on another replica while its presence Lease says it
	// is open, or nil.
	elsewhere *elsewhere
	// facts are the liveness facts of the current or last session; hasFacts is false until the
	// satellite first authenticates with this manager.
	facts    liveness.Facts
	hasFacts bool
	// threshold is the satellite's offline threshold; renewedAt is the heartbeat its presence was
	// last published connected with, and silent is true from a published silence to the next
	// heartbeat.
	threshold time.Duration
	renewedAt time.Time
	silent    bool
	// unwritten are the IDs of the current session's results that were taken since the last
	// publication and wait for it to be written before they are acknowledged (see
	// protocol.CapabilityWrittenAcks).
	unwritten []string

	// relayed are the assignments relayed to the satellite, sorted by configId: what it was (or
	// will be, on connect) sent, less those its agent's dialect cannot carry.
	relayed []*assignment
	// sent is the list the current session was last sent, while its agent takes patches: what
	// the next config_patch starts from. Sessions sent equal lists share it.
	sent *sentList

	// agent is what the satellite's agent advertised in its current or last session; its
	// dialect picks the form of the assignments it is sent. The zero value (no session yet) is
	// DialectCheckstack's, which is what an agent that advertises nothing gets.
	agent AgentInfo
	// closes counts the manager's closes of the satellite's sessions with the same code in a
	// row, so that a poison message (a session closed, reconnected and closed again) is
	// reported instead of repeating unseen.
	closes closeStreak
	// duplicates damps agents that share the satellite's identity and replace each other; nil
	// until a session of the satellite is first replaced.
	duplicates *duplicates
}

// AgentInfo is what a satellite's agent advertised: its dialect and capabilities.
type AgentInfo struct {
	Dialect      protocol.Dialect
	Capabilities []string
}

// takesPatches reports whether the agent applies config_patch: it must speak our dialect, whose
// assignments the patch carries.
func (a AgentInfo) takesPatches() bool {
	return a.dialect() == protocol.DialectOurs && slices.Contains(a.Capabilities, protocol.CapabilityConfigPatch)
}

// wantsWrittenAcks reports whether the agent wants its results acknowledged once they are in
// the API server.
func (a AgentInfo) wantsWrittenAcks() bool {
	return a.dialect() == protocol.DialectOurs && slices.Contains(a.Capabilities, protocol.CapabilityWrittenAcks)
}

func (a AgentInfo) dialect() protocol.Dialect {
	if a.Dialect == "" {
		return protocol.DialectCheckstack
	}
	return a.Dialect
}

// RepeatedCloseThreshold is how many closes in a row with the same code make a satellite's
// close reported (a Warning Event and satellite_repeated_closes_total).
const RepeatedCloseThreshold = 3

// closeStreak is the run of the manager's closes of a satellite's sessions with one code.
type closeStreak struct {
	code   int
	reason string
	count  int
	// reported is the last run that reached the threshold, or nil: every presence of the
	// satellite carries it, so that the leader announces it whichever replica closed the sessions.
	reported *RepeatedClose
}

// RepeatedClose is a run of closes with the same code, for the satellite's Warning Event; its
// JSON form is what a presence Lease carries.
type RepeatedClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	// At is when the run reached RepeatedCloseThreshold.
	At time.Time `json:"at"`
}

// SatelliteInfo is what the SatelliteReconciler tells the fleet of a Satellite.
type SatelliteInfo struct {
	Key    types.NamespacedName
	UID    types.UID
	Region string
	Labels map[string]string
	// TokenHash is the hash of the satellite's token; HasToken false means there is none yet.
	TokenHash TokenHash
	HasToken  bool
	// Offline is true while the Satellite's state is Offline (a new Satellite is Offline until
	// it connects).
	Offline bool
	// OfflineThreshold is how long the satellite may stay silent before it is Offline.
	OfflineThreshold time.Duration
}

// UpsertSatellite records a Satellite's credentials and selection facts, and returns the other
// Satellites, of any namespace, that hold the same token: while there are any, none of them can
// authenticate. A changed token closes the live session (the old token is no longer valid);
// changed labels or region re-evaluate the assignments of its namespace, and only those, for it.
func (f *Fleet) UpsertSatellite(info SatelliteInfo) []types.NamespacedName {
	var fx effects
	defer f.run(&fx)
	start := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := f.namespaceLocked(info.Key.Namespace)
	sat, known := f.satellites[info.UID]
	if !known {
		if old := ns.satellites[info.Key.Name]; old != nil {
			// The Satellite was deleted and re-created under the same name.
			f.removeLocked(old, &fx)
		}
		sat = &satellite{uid: info.UID, key: info.Key}
		f.satellites[info.UID] = sat
		ns.satellites[info.Key.Name] = sat
	}
	if sat.hasToken && (!info.HasToken || sat.hash != info.TokenHash) {
		f.releaseTokenLocked(sat, &fx)
		if sat.conn != nil {
			fx.close(sat.conn, protocol.CloseAuthFailed, "token rotated", &protocol.Shutdown{Reason: protocol.ShutdownTokenRotate})
			f.detachLocked(sat, true, &fx)
		}
	}
	sat.threshold = info.OfflineThreshold
	newToken := info.HasToken && (!sat.hasToken || sat.hash != info.TokenHash)
	sat.hash, sat.hasToken = info.TokenHash, info.HasToken
	var others []types.NamespacedName
	if sat.hasToken {
		holders := f.tokens.add(sat.hash, sat.uid)
		for _, uid := range holders {
			other := f.satellites[uid]
			others = append(others, other.key)
			if !newToken {
				continue
			}
			// The token is nobody's now: the others' sessions end as after a rotation, and
			// their reconcilers are woken to report the conflict.
			if other.conn != nil {
				fx.close(other.conn, protocol.CloseAuthFailed, "token shared with another Satellite", &protocol.Shutdown{Reason: protocol.ShutdownTokenRotate})
				f.detachLocked(other, true, &fx)
			}
			fx.wakeSat = append(fx.wakeSat, other.key)
		}
	}
	if !known || sat.offline != info.Offline {
		sat.offline = info.Offline
		// The assignments that select it count it differently now.
		for _, a := range ns.assignments {
			if _, ok := a.selected[sat]; ok {
				fx.wakeHCA = append(fx.wakeHCA, a.Key)
			}
		}
	}
	if known && sat.region == info.Region && maps.Equal(sat.labels, info.Labels) {
		return others
	}
	if known {
		ns.unindex(sat)
	}
	oldRegion := sat.region
	sat.region, sat.labels = info.Region, maps.Clone(info.Labels)
	ns.index(sat)
	if known && oldRegion != sat.region {
		f.metrics.moveRegion(sat, oldRegion)
		key := sat.key
		fx.metrics = append(fx.metrics, func() { f.metrics.forgetRegion(key, oldRegion) })
	}
	if f.reselectSatelliteLocked(ns, sat, &fx) {
		f.observePush(start, &fx)
	}
	return others
}

// releaseTokenLocked forgets that sat holds its token; a holder left alone with it can
// authenticate again, and its reconciler is woken to say so.
func (f *Fleet) releaseTokenLocked(sat *satellite, fx *effects) {
	for _, uid := range f.tokens.remove(sat.hash, sat.uid) {
		if other := f.satellites[uid]; other != nil {
			fx.wakeSat = append(fx.wakeSat, other.key)
		}
	}
}

// reselectSatelliteLocked re-evaluates the namespace's assignments for one satellite whose
// selection facts changed, and reports whether its relayed list changed.
func (f *Fleet) reselectSatelliteLocked(ns *namespace, sat *satellite, fx *effects) bool {
	changed := false
	for _, a := range ns.assignments {
		want := a.Selection.Matches(sat.key.Name, sat.region, sat.labels)
		if _, had := a.selected[sat]; want == had {
			continue
		}
		if want {
			a.selected[sat] = struct{}{}
			a.seedLocked(sat, f.clock.Now())
			if !a.Paused {
				sat.addRelayed(a)
				changed = true
			}
		} else {
			delete(a.selected, sat)
			delete(a.views, sat)
			if sat.removeRelayed(a) {
				changed = true
			}
		}
		fx.wakeHCA = append(fx.wakeHCA, a.Key)
	}
	if changed && sat.conn != nil {
		fx.pushes = append(fx.pushes, sat.conn)
	}
	return changed
}

// RemoveSatellite forgets a deleted Satellite and closes its session.
func (f *Fleet) RemoveSatellite(key types.NamespacedName) {
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if ns := f.namespaces[key.Namespace]; ns != nil {
		if sat := ns.satellites[key.Name]; sat != nil {
			f.removeLocked(sat, &fx)
			f.dropNamespaceIfEmptyLocked(key.Namespace)
		}
	}
}

// removeLocked forgets a Satellite: its session closes with 4003, the assignments that selected
// it let it go, and its metrics series are deleted.
func (f *Fleet) removeLocked(sat *satellite, fx *effects) {
	if sat.conn != nil {
		fx.close(sat.conn, protocol.CloseDeleted, protocol.ShutdownDeleted, &protocol.Shutdown{Reason: protocol.ShutdownDeleted})
		sat.conn = nil
	}
	ns := f.namespaces[sat.key.Namespace]
	delete(f.satellites, sat.uid)
	delete(ns.satellites, sat.key.Name)
	ns.unindex(sat)
	if sat.hasToken {
		f.releaseTokenLocked(sat, fx)
	}
	// Every assignment that relays to the satellite selects it; a paused one selects without
	// relaying.
	for _, a := range ns.assignments {
		if _, ok := a.selected[sat]; ok {
			delete(a.selected, sat)
			delete(a.views, sat)
			fx.wakeHCA = append(fx.wakeHCA, a.Key)
		}
	}
	key := sat.key
	if f.opts.Presence != nil {
		f.opts.Presence.Forget(key)
	}
	fx.metrics = append(fx.metrics, func() { f.metrics.forgetSatellite(key) })
}

// Relayed returns how many assignments are relayed to the satellite, and whether the fleet
// knows it.
func (f *Fleet) Relayed(uid types.UID) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sat, ok := f.satellites[uid]
	if !ok {
		return 0, false
	}
	return len(sat.encoded()), true
}

// Unknown counts the Satellites of uids whose credentials the fleet does not hold.
func (f *Fleet) Unknown(uids []types.UID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, uid := range uids {
		if _, ok := f.satellites[uid]; !ok {
			n++
		}
	}
	return n
}

// addRelayed inserts a into the sorted relayed list.
func (s *satellite) addRelayed(a *assignment) {
	i, found := slices.BinarySearchFunc(s.relayed, a.Wire.ConfigID, compareConfigID)
	if !found {
		s.relayed = slices.Insert(s.relayed, i, a)
	}
}

// removeRelayed removes a from the relayed list, and reports whether it was there.
func (s *satellite) removeRelayed(a *assignment) bool {
	i, found := slices.BinarySearchFunc(s.relayed, a.Wire.ConfigID, compareConfigID)
	if found {
		s.relayed = slices.Delete(s.relayed, i, i+1)
		if len(s.relayed) == 0 {
			s.relayed = nil // let a long list's array go
		}
	}
	return found
}

// relays reports whether a is relayed to the satellite.
func (s *satellite) relays(configID string) (*assignment, bool) {
	i, found := slices.BinarySearchFunc(s.relayed, configID, compareConfigID)
	if !found {
		return nil, false
	}
	return s.relayed[i], true
}

// encoded lists the relayed assignments as encoded for the wire in the dialect of the
// satellite's agent, never nil; an assignment that dialect cannot carry is left out. The bytes
// are shared and never modified: a change of an assignment encodes it anew.
func (s *satellite) encoded() []json.RawMessage {
	if s.agent.dialect() == protocol.DialectOurs {
		out := make([]json.RawMessage, len(s.relayed))
		for i, a := range s.relayed {
			out[i] = a.encoded
		}
		return out
	}
	out := make([]json.RawMessage, 0, len(s.relayed))
	for _, a := range s.relayed {
		if a.checkstack != nil {
			out = append(out, a.checkstack)
		}
	}
	return out
}

func compareConfigID(a *assignment, id string) int { return strings.Compare(a.Wire.ConfigID, id) }
