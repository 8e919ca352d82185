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
	"slices"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/liveness"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Label values of satellite_results_total{status} besides the result statuses.
const (
	ResultRejected  = "rejected"  // for an assignment not relayed to the satellite
	ResultDuplicate = "duplicate" // not newer than the last result taken: resent by the agent
	// ResultSuperseded is a Checkstack satellite's result for an earlier revision of an
	// assignment (its configId names the revision): it ran the spec before an edit.
	ResultSuperseded = "superseded"
)

// Handle names one authenticated session of a satellite to the fleet. The zero Handle names
// none.
type Handle struct {
	sat *satellite
	id  uint64
}

// Key is the Satellite the session authenticated as.
func (h Handle) Key() types.NamespacedName { return h.sat.key }

// UID is the Satellite's UID, its client ID.
func (h Handle) UID() types.UID { return h.sat.uid }

// lookupLocked returns the Satellite that the credentials authenticate, or nil. With a client
// ID (the Satellite's UID) the token must be that Satellite's; without one (a bearer token
// alone) the token must be exactly one Satellite's. An unknown ID costs the same comparison as a
// wrong token, and a token two Satellites share authenticates neither.
func (f *Fleet) lookupLocked(clientID, token string) *satellite {
	if clientID == "" {
		// The lookup's timing depends on the SHA-256 of the presented token only, which tells
		// nothing of the tokens the fleet holds.
		uid, _ := f.tokens.owner(HashToken([]byte(token)))
		return f.satellites[uid]
	}
	candidate := f.satellites[types.UID(clientID)]
	want := decoyHash
	if candidate != nil && candidate.hasToken {
		want = candidate.hash
	}
	if !tokenMatches(want, token) || candidate == nil || !candidate.hasToken || !f.tokens.unique(candidate.hash, candidate.uid) {
		return nil
	}
	return candidate
}

// Verify reports whether the credentials would authenticate a satellite now, without changing
// anything: the endpoint checks a bearer token before it upgrades the connection.
func (f *Fleet) Verify(clientID, token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookupLocked(clientID, token) != nil
}

// Authenticate checks the credentials and makes conn the satellite's session, replacing (and
// closing) an older one. caps are the capabilities the agent advertised, which pick the
// dialect of its assignments. It returns the session's handle and the assignments to send in
// authenticated; the error is ErrInvalidCredentials, or a *DuplicateError while the satellite's
// agents replaced each other too often (see DuplicateReplacements) and its session is held.
func (f *Fleet) Authenticate(clientID, token string, caps []string, conn Conn) (h Handle, assignments []json.RawMessage, err error) {
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	sat := f.lookupLocked(clientID, token)
	if sat == nil {
		return Handle{}, nil, ErrInvalidCredentials
	}
	now := f.clock.Now()
	if incumbent, ok := f.incumbentLocked(sat, now); ok {
		if sat.duplicates == nil {
			sat.duplicates = &duplicates{}
		}
		dup, began := sat.duplicates.admit(now, incumbent)
		if dup != nil {
			return Handle{}, nil, dup
		}
		if began {
			key := sat.key
			fx.metrics = append(fx.metrics, func() { f.metrics.duplicateHoldDowns.WithLabelValues(key.Namespace, key.Name).Inc() })
		}
	}
	if sat.conn != nil {
		fx.close(sat.conn, protocol.CloseReplaced, "replaced by a newer connection", &protocol.Shutdown{Reason: protocol.ShutdownReplaced})
	}
	sat.elsewhere = nil
	f.lastSession++
	sat.conn, sat.session, sat.remoteAddr = conn, f.lastSession, conn.RemoteAddr()
	sat.facts = liveness.Facts{Connected: true, ConnectedSince: now, LastHeartbeat: now}
	sat.hasFacts, sat.silent = true, false
	f.setAgentLocked(sat, caps, &fx)
	f.publishLocked(sat, v1alpha1.PresenceConnected)
	if sat.agent.takesPatches() {
		// The list in authenticated is what the first patch starts from.
		sat.sent = f.frames.lookupLocked(sat).sentLocked(sat)
	}
	// The gauge is set under the lock, so that a session's end cannot overtake its start.
	f.metrics.setConnected(sat, true)
	fx.wakeSat = append(fx.wakeSat, sat.key)
	return Handle{sat: sat, id: sat.session}, sat.encoded(), nil
}

// incumbentLocked returns the remote address of the session that a newcomer of the satellite
// would replace at now, if one would be: this replica's, unless the satellite fell silent (a
// half-open session that its agent dialled again to leave), or another replica's while its
// presence Lease says it is open.
func (f *Fleet) incumbentLocked(sat *satellite, now time.Time) (string, bool) {
	switch {
	case sat.conn != nil:
		return sat.conn.RemoteAddr(), !sat.silent
	case sat.elsewhere != nil && now.Before(sat.elsewhere.until):
		return sat.elsewhere.remoteAddr, true
	}
	return "", false
}

// Sessions counts the sessions this replica holds.
func (f *Fleet) Sessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, sat := range f.satellites {
		if sat.conn != nil {
			n++
		}
	}
	return n
}

// currentLocked reports whether h is its satellite's live session.
func (f *Fleet) currentLocked(h Handle) bool {
	return h.sat != nil && h.sat.conn != nil && h.sat.session == h.id && f.satellites[h.sat.uid] == h.sat
}

// Heartbeat records a heartbeat of the session, by the manager's clock. caps, when not nil,
// are the capabilities the agent advertises again; a change of dialect pushes the list anew.
func (f *Fleet) Heartbeat(h Handle, version string, caps []string) {
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.currentLocked(h) {
		return // a replaced session's late frame
	}
	sat := h.sat
	sat.facts.LastHeartbeat = f.clock.Now()
	// A new version, new capabilities and the end of a silence are published at once; the
	// heartbeat alone at most once per renew interval.
	publish := sat.silent || f.renewDueLocked(sat)
	sat.silent = false
	if version != "" && version != sat.facts.Version {
		sat.facts.Version = version
		publish = true
	}
	if caps != nil && !slices.Equal(caps, sat.agent.Capabilities) {
		if f.setAgentLocked(sat, caps, &fx) && sat.conn != nil {
			fx.pushes = append(fx.pushes, sat.conn)
		}
		publish = true
	}
	if publish {
		f.publishLocked(sat, v1alpha1.PresenceConnected)
	}
}

// setAgentLocked records what the satellite's agent advertised, and reports whether its
// dialect changed; then the assignments it cannot carry (or now can) change their Ready
// condition, so their reconcilers are woken.
func (f *Fleet) setAgentLocked(sat *satellite, caps []string, fx *effects) bool {
	before := sat.agent.dialect()
	sat.agent = AgentInfo{Dialect: protocol.DialectOf(caps), Capabilities: slices.Clone(caps)}
	sat.sent = nil // the next list goes whole; a patch needs the capability throughout
	if sat.agent.Dialect == before {
		return false
	}
	for _, a := range sat.relayed {
		if a.checkstack == nil {
			fx.wakeHCA = append(fx.wakeHCA, a.Key)
		}
	}
	return true
}

// Disconnected records the end of a session; clean is true when a close frame ended it, code
// and reason are the manager's close (code 0 when the peer or the network ended it). The same
// close RepeatedCloseThreshold times in a row is reported: counted in
// satellite_repeated_closes_total, and carried in the satellite's presence for the leader's
// Warning Event.
func (f *Fleet) Disconnected(h Handle, clean bool, code int, reason string) {
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.sat == nil || f.satellites[h.sat.uid] != h.sat {
		return // deleted meanwhile
	}
	// The run first: the end of the session publishes it.
	st := &h.sat.closes
	switch code {
	case 0:
		st.code, st.reason, st.count = 0, "", 0
	case st.code:
		st.count++
		st.reason = reason
	default:
		st.code, st.reason, st.count = code, reason, 1
	}
	if st.count == RepeatedCloseThreshold {
		st.reported = &RepeatedClose{Code: code, Reason: reason, Count: st.count, At: f.clock.Now()}
		key, label := h.sat.key, strconv.Itoa(code)
		fx.metrics = append(fx.metrics, func() {
			f.metrics.repeatedCloses.WithLabelValues(key.Namespace, key.Name, label).Inc()
		})
	}
	if !f.currentLocked(h) {
		return
	}
	if code == protocol.CloseGoingAway {
		// This replica shuts down: the satellite did not leave, and redials another one.
		f.endSessionLocked(h.sat, &fx)
		f.publishLocked(h.sat, v1alpha1.PresenceReleased)
		return
	}
	f.detachLocked(h.sat, clean, &fx)
}

// detachLocked ends the satellite's current session in its facts and metrics.
func (f *Fleet) detachLocked(sat *satellite, clean bool, fx *effects) {
	f.endSessionLocked(sat, fx)
	state := v1alpha1.PresenceLost
	if clean {
		sat.facts.DisconnectedAt = f.clock.Now()
		state = v1alpha1.PresenceDisconnected
	}
	f.publishLocked(sat, state)
}

// endSessionLocked forgets the satellite's current session, without publishing its end.
func (f *Fleet) endSessionLocked(sat *satellite, fx *effects) {
	sat.conn, sat.sent, sat.unwritten = nil, nil, nil
	sat.facts.Connected = false
	f.metrics.setConnected(sat, false)
	fx.wakeSat = append(fx.wakeSat, sat.key)
}

// ConfigFrame returns the frame that brings the session to its satellite's current list, and
// takes it that the session sends it; ok is false when h is no longer its satellite's session.
// The frame is a config_updated, or, for an agent that takes patches, a config_patch from the
// list it was last sent when that is smaller. Sessions with equal lists, or equal changes of
// one, are given the same frame, built once: it must not be modified.
func (f *Fleet) ConfigFrame(h Handle) (frame []byte, ok bool) {
	f.mu.Lock()
	if !f.currentLocked(h) {
		f.mu.Unlock()
		return nil, false
	}
	sat := h.sat
	sf := f.frames.lookupLocked(sat)
	if sat.agent.takesPatches() {
		to := sf.sentLocked(sat)
		if sat.sent != nil {
			if p := f.frames.patchLocked(sat.sent, to, sat); p != nil {
				sf = p
			}
		}
		sat.sent = to
	}
	f.mu.Unlock()
	return sf.get(), true
}

// Ingest folds a result of the session's satellite into its view of the assignment, and
// returns the result's satellite_results_total status: its own, or ResultRejected (not relayed
// to the satellite) or ResultDuplicate (not newer than the last result taken for the view,
// which is how an agent's resend after a lost ack looks), both dropped. Duplicates are told
// apart by the view that exists anyway, so that the window costs nothing per satellite. It
// wakes the assignment's reconciler when a view's status changed or the coarse refresh is due.
// ackLater is true when the fleet acknowledges the result itself, once the view that holds it
// is written (an agent that advertises protocol.CapabilityWrittenAcks); the session
// acknowledges every other result with an ID at once.
func (f *Fleet) Ingest(h Handle, r *protocol.Result) (status string, ackLater bool) {
	var fx effects
	defer f.run(&fx)
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.sat == nil || f.satellites[h.sat.uid] != h.sat {
		return ResultRejected, false
	}
	sat := h.sat
	checkstack := sat.agent.dialect() == protocol.DialectCheckstack
	configID, rev := r.ConfigID, ""
	if checkstack {
		configID, rev = protocol.SplitRevision(r.ConfigID)
	}
	a, relayed := sat.relays(configID)
	if !relayed || (checkstack && (a.checkstack == nil || rev == "")) {
		return ResultRejected, false
	}
	if checkstack && rev != a.checkstackRev {
		return ResultSuperseded, false
	}
	if checkstack && a.check != nil {
		r = judged(r, protocol.JudgeCheckstack(a.check, r))
	}
	prev, seen := a.views[sat]
	if seen && !prev.Persisted && !prev.LastRunAt.IsZero() && !r.ExecutedAt.After(prev.LastRunAt) {
		return ResultDuplicate, false
	}
	view := nextView(prev, r, a.Thresholds, now)
	a.setView(sat, view)
	if r.ID != "" && f.opts.Presence != nil && sat.agent.wantsWrittenAcks() && f.currentLocked(h) {
		sat.unwritten = append(sat.unwritten, r.ID)
		ackLater = true
	}
	switch {
	case view.Status != prev.Status && sat.conn != nil && !sat.silent:
		// Published at once, as a connect is: the leader may not be the replica that holds the
		// session.
		f.publishLocked(sat, v1alpha1.PresenceConnected)
	case len(sat.unwritten) >= protocol.MaxUnwrittenResults:
		// The agent keeps what waits for its ack; written now, it need not keep more.
		f.publishLocked(sat, sat.liveState())
	}
	wasStale := seen && !prev.ReceivedAt.IsZero() && now.Sub(prev.ReceivedAt) >= staleAge(a.Wire.IntervalSeconds)
	if view.Status != prev.Status || wasStale || now.Sub(a.lastWake) >= f.opts.StatusRefresh {
		a.lastWake = now
		fx.wakeHCA = append(fx.wakeHCA, a.Key)
	}
	lv := []string{a.Key.Namespace, a.Key.Name, a.Wire.SystemID, sat.key.Name, sat.region}
	up := 1.0
	if r.Status == v1alpha1.ResultUnhealthy {
		up = 0
	}
	latency := view.Latency.Seconds()
	label := string(r.Status)
	fx.metrics = append(fx.metrics, func() {
		f.metrics.checkUp.WithLabelValues(lv...).Set(up)
		f.metrics.checkLatency.WithLabelValues(lv...).Observe(latency)
		f.metrics.checkStale.WithLabelValues(lv...).Set(0)
		f.metrics.assignmentResults.WithLabelValues(lv[0], lv[1], lv[2], label).Inc()
	})
	return label, ackLater
}

// judged returns a copy of r with the manager's judgement of it; the metadata, which can hold a
// response body, is not kept.
func judged(r *protocol.Result, j protocol.Judgement) *protocol.Result {
	out := *r
	out.Status = j.Status
	d := protocol.ResultDetail{Status: j.Status, Message: j.Message}
	if r.Result != nil {
		d.LatencyMs = r.Result.LatencyMs
	}
	out.Result = &d
	return &out
}
