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

package hub

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/presence"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Options are the hub's settings; zero values take the defaults of DESIGN.md section 6.
type Options struct {
	// Addr is the address the endpoint listens on, e.g. ":8090".
	Addr string
	// TLSCertFile and TLSKeyFile make the endpoint serve wss.
	TLSCertFile, TLSKeyFile string
	// HeartbeatInterval is sent to satellites in authenticated.
	HeartbeatInterval time.Duration
	// StatusRefresh is the least time between two status writes of an assignment caused by
	// results that change no satellite's view.
	StatusRefresh time.Duration
	// PreAuthTimeout bounds the time from upgrade to authentication.
	PreAuthTimeout time.Duration
	// PongWait is how long a connection may stay silent; pings go out at 9/10 of it.
	PongWait time.Duration
	// WriteWait bounds every write.
	WriteWait time.Duration
	// ReadLimit is the largest frame accepted, in bytes.
	ReadLimit int64
	// SendQueue is how many frames may wait for a slow satellite before it is disconnected.
	SendQueue int
	// MessageRate and MessageBurst limit the frames a satellite may send. The default, 200 frames
	// a second, carries a satellite running 1,000 checks at the 5 s minimum interval.
	MessageRate  rate.Limit
	MessageBurst int
	// HandshakeRate and HandshakeBurst limit upgrades, over all clients.
	HandshakeRate  rate.Limit
	HandshakeBurst int
	// SeenResults is how many result IDs per satellite are remembered to drop duplicates.
	SeenResults int
	// Elected is closed when this manager becomes leader; until then upgrades get 1013.
	// Nil means leader from the start.
	Elected <-chan struct{}
	// Satellites lists the Satellites (the manager's cache), so that a new hub answers 1013
	// until it holds every one's credentials. Nil means it holds them from the start.
	Satellites client.Reader
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeartbeatInterval, 15*time.Second)
	def(&o.StatusRefresh, 60*time.Second)
	def(&o.PreAuthTimeout, 10*time.Second)
	def(&o.PongWait, 2*o.HeartbeatInterval+10*time.Second)
	def(&o.WriteWait, 10*time.Second)
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 64
	}
	if o.MessageRate <= 0 {
		o.MessageRate, o.MessageBurst = 200, 400
	}
	if o.HandshakeRate <= 0 {
		o.HandshakeRate, o.HandshakeBurst = 50, 200
	}
	if o.SeenResults <= 0 {
		o.SeenResults = 4096
	}
	if o.Addr == "" {
		o.Addr = ":8090"
	}
}

// Hub is the satellites' endpoint and the in-memory state behind it. The SatelliteReconciler
// feeds it credentials and selection facts, the HealthCheckAssignmentReconciler feeds it
// assignments; sessions read it. It is a manager Runnable.
type Hub struct {
	opts       Options
	log        logr.Logger
	clock      clock.PassiveClock
	tracker    *presence.Tracker
	metrics    *metricsSet
	handshakes *rate.Limiter
	// assignmentEvents wakes the HealthCheckAssignmentReconciler when results change a status.
	assignmentEvents chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]
	// wakeSatellite asks for a reconcile of a Satellite whose number of relayed assignments
	// changed (status.assignments); tracker.Wake, replaced in benchmarks.
	wakeSatellite func(types.NamespacedName)

	// credentialsLoaded turns true, for good, once every Satellite has been registered.
	credentialsLoaded atomic.Bool

	mu           sync.Mutex
	loadingSince time.Time // when the leader first checked for loaded credentials
	satellites   map[types.UID]*satellite
	byKey        map[types.NamespacedName]types.UID
	tokens       tokenIndex
	assignments  map[types.UID]*assignment // by the HealthCheckAssignment's UID (the configId)
	byAssignKey  map[types.NamespacedName]types.UID
	sessions     map[*session]struct{} // every open connection, authenticated or not
	addr         chan string           // the listening address, once known
}

// satellite is what the hub knows of one Satellite.
type satellite struct {
	uid    types.UID
	key    types.NamespacedName
	region string
	labels map[string]string
	hash   TokenHash
	// hasToken is false while the Satellite's token Secret is missing: nobody can authenticate.
	hasToken bool
	session  *session // the live authenticated session, or nil
	// relayed is the list of assignments derived for the satellite, sorted by configId; it is
	// what the satellite was (or will be, on connect) sent.
	relayed []protocol.Assignment
	seen    *idSet
}

// assignment is one HealthCheckAssignment as relayed to satellites.
type assignment struct {
	AssignmentInfo
	views    map[string]CheckView // by satellite name
	lastWake time.Time
}

// SatelliteInfo is what the SatelliteReconciler tells the hub of a Satellite.
type SatelliteInfo struct {
	Key    types.NamespacedName
	UID    types.UID
	Region string
	Labels map[string]string
	// TokenHash is the hash of the satellite's token; HasToken false means there is none yet.
	TokenHash TokenHash
	HasToken  bool
}

// AssignmentInfo is what the HealthCheckAssignmentReconciler tells the hub of an assignment.
type AssignmentInfo struct {
	Key        types.NamespacedName
	UID        types.UID
	Selection  Selection
	Wire       protocol.Assignment
	Thresholds v1alpha1.Thresholds
	// Paused assignments are relayed to nobody.
	Paused bool
}

// New returns a Hub. tracker receives the heartbeats, and wakes the SatelliteReconciler when a
// satellite's number of relayed assignments changes.
func New(opts Options, tracker *presence.Tracker, clk clock.PassiveClock, log logr.Logger) *Hub {
	opts.defaults()
	return &Hub{
		opts:             opts,
		log:              log,
		clock:            clk,
		tracker:          tracker,
		metrics:          hubMetrics(),
		handshakes:       rate.NewLimiter(opts.HandshakeRate, opts.HandshakeBurst),
		assignmentEvents: make(chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment], 1024),
		wakeSatellite:    tracker.Wake,
		satellites:       map[types.UID]*satellite{},
		byKey:            map[types.NamespacedName]types.UID{},
		tokens:           tokenIndex{},
		assignments:      map[types.UID]*assignment{},
		byAssignKey:      map[types.NamespacedName]types.UID{},
		sessions:         map[*session]struct{}{},
		addr:             make(chan string, 1),
	}
}

// AssignmentEvents is the source of reconcile requests for the HealthCheckAssignmentReconciler.
func (h *Hub) AssignmentEvents() <-chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment] {
	return h.assignmentEvents
}

// UpsertSatellite records a Satellite's credentials and selection facts, and returns the other
// Satellites that hold the same token: while there are any, none of them can authenticate. A
// changed token closes the live session (the old token is no longer valid), and changed labels
// or region re-derive its assignments and push them.
func (h *Hub) UpsertSatellite(info SatelliteInfo) []types.NamespacedName {
	start := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	sat, ok := h.satellites[info.UID]
	if !ok {
		if oldUID, taken := h.byKey[info.Key]; taken {
			// The Satellite was deleted and re-created under the same name.
			h.removeLocked(oldUID)
		}
		sat = &satellite{uid: info.UID, key: info.Key, seen: newIDSet(h.opts.SeenResults)}
		h.satellites[info.UID] = sat
		h.byKey[info.Key] = info.UID
	}
	newToken := info.HasToken && (!sat.hasToken || sat.hash != info.TokenHash)
	if sat.hasToken && (!info.HasToken || sat.hash != info.TokenHash) {
		// A holder left alone with the old token can authenticate again; its reconciler says so.
		h.wakeLocked(h.tokens.remove(sat.hash, sat.uid))
		if sat.session != nil {
			h.log.Info("Closing session: the satellite's token changed", "satellite", sat.key)
			sat.session.closeWith(protocol.CloseAuthFailed, "token rotated", &protocol.Shutdown{Reason: protocol.ShutdownTokenRotate})
			sat.session = nil
		}
	}
	sat.hash, sat.hasToken = info.TokenHash, info.HasToken
	var others []types.NamespacedName
	if sat.hasToken {
		holders := h.tokens.add(sat.hash, sat.uid)
		if newToken && len(holders) > 0 {
			h.refuseSharedLocked(sat, holders)
		}
		for _, uid := range holders {
			others = append(others, h.satellites[uid].key)
		}
	}
	if ok && sat.region == info.Region && maps.Equal(sat.labels, info.Labels) {
		return others
	}
	sat.region, sat.labels = info.Region, info.Labels
	if h.rederiveLocked(sat) {
		h.metrics.configPush.Observe(h.clock.Since(start).Seconds())
	}
	return others
}

// refuseSharedLocked handles sat's token becoming one that others hold too: it is nobody's
// now, so their live sessions end as if the token had been rotated, and their reconcilers are
// woken to report the conflict.
func (h *Hub) refuseSharedLocked(sat *satellite, holders []types.UID) {
	keys := make([]string, 0, len(holders))
	for _, uid := range holders {
		other := h.satellites[uid]
		keys = append(keys, other.key.String())
		if other.session != nil {
			other.session.closeWith(protocol.CloseAuthFailed, "token shared with another Satellite", &protocol.Shutdown{Reason: protocol.ShutdownTokenRotate})
			other.session = nil
		}
	}
	h.log.Info("Satellites share a token: none of them can authenticate with it", "satellite", sat.key, "others", keys)
	h.wakeLocked(holders)
}

// wakeLocked asks for reconciles of the Satellites, off the lock (the channel may be full).
func (h *Hub) wakeLocked(uids []types.UID) {
	for _, uid := range uids {
		if other := h.satellites[uid]; other != nil {
			go h.wakeSatellite(other.key)
		}
	}
}

// RemoveSatellite forgets a deleted Satellite and closes its session.
func (h *Hub) RemoveSatellite(key types.NamespacedName) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if uid, ok := h.byKey[key]; ok {
		h.removeLocked(uid)
	}
}

// removeLocked forgets a deleted Satellite and closes its session with 4003.
func (h *Hub) removeLocked(uid types.UID) {
	sat := h.satellites[uid]
	if sat == nil {
		return
	}
	if sat.session != nil {
		h.log.Info("Closing session: the Satellite was deleted", "satellite", sat.key)
		sat.session.closeWith(protocol.CloseDeleted, protocol.ShutdownDeleted, &protocol.Shutdown{Reason: protocol.ShutdownDeleted})
	}
	delete(h.satellites, uid)
	delete(h.byKey, sat.key)
	if sat.hasToken {
		h.wakeLocked(h.tokens.remove(sat.hash, uid))
	}
	for _, a := range h.assignments {
		delete(a.views, sat.key.Name)
	}
	h.tracker.Forget(uid)
	h.metrics.connected.DeletePartialMatch(map[string]string{"namespace": sat.key.Namespace, "satellite": sat.key.Name})
	h.metrics.checkUp.DeletePartialMatch(map[string]string{"namespace": sat.key.Namespace, "satellite": sat.key.Name})
	h.metrics.checkLatency.DeletePartialMatch(map[string]string{"namespace": sat.key.Namespace, "satellite": sat.key.Name})
}

// UpsertAssignment records an assignment and pushes config_updated to exactly the sessions whose
// derived list changed.
func (h *Hub) UpsertAssignment(info AssignmentInfo) {
	start := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.assignments[info.UID]
	if !ok {
		if oldUID, taken := h.byAssignKey[info.Key]; taken && oldUID != info.UID {
			h.removeAssignmentLocked(oldUID)
		}
		a = &assignment{views: map[string]CheckView{}}
		h.assignments[info.UID] = a
		h.byAssignKey[info.Key] = info.UID
	}
	a.AssignmentInfo = info
	if h.rederiveNamespaceLocked(info.Key.Namespace) {
		h.metrics.configPush.Observe(h.clock.Since(start).Seconds())
	}
}

// RemoveAssignment forgets a deleted assignment and pushes the satellites that ran it.
func (h *Hub) RemoveAssignment(key types.NamespacedName) {
	start := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	uid, ok := h.byAssignKey[key]
	if !ok {
		return
	}
	h.removeAssignmentLocked(uid)
	if h.rederiveNamespaceLocked(key.Namespace) {
		h.metrics.configPush.Observe(h.clock.Since(start).Seconds())
	}
}

func (h *Hub) removeAssignmentLocked(uid types.UID) {
	a := h.assignments[uid]
	delete(h.assignments, uid)
	delete(h.byAssignKey, a.Key)
	h.metrics.checkUp.DeletePartialMatch(map[string]string{"namespace": a.Key.Namespace, "assignment": a.Key.Name})
	h.metrics.checkLatency.DeletePartialMatch(map[string]string{"namespace": a.Key.Namespace, "assignment": a.Key.Name})
}

// Results returns each satellite's view of the assignment, by satellite name.
func (h *Hub) Results(uid types.UID) map[string]CheckView {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.assignments[uid]
	if !ok {
		return nil
	}
	out := make(map[string]CheckView, len(a.views))
	for name, v := range a.views {
		out[name] = v
	}
	return out
}

// Relayed returns how many assignments are relayed to the satellite, and whether the hub knows it.
func (h *Hub) Relayed(uid types.UID) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sat, ok := h.satellites[uid]
	if !ok {
		return 0, false
	}
	return len(sat.relayed), true
}

// rederiveNamespaceLocked re-derives every satellite of the namespace; it reports whether any
// list changed.
func (h *Hub) rederiveNamespaceLocked(namespace string) bool {
	changed := false
	for _, sat := range h.satellites {
		if sat.key.Namespace == namespace && h.rederiveLocked(sat) {
			changed = true
		}
	}
	return changed
}

// rederiveLocked recomputes the satellite's assignments and, when they changed, pushes them to
// its session. It reports whether they changed.
func (h *Hub) rederiveLocked(sat *satellite) bool {
	next := h.deriveLocked(sat)
	if slices.EqualFunc(sat.relayed, next, sameAssignment) {
		return false
	}
	countChanged := len(next) != len(sat.relayed)
	sat.relayed = next
	if sat.session != nil {
		sat.session.pushConfig(next)
	}
	if countChanged {
		go h.wakeSatellite(sat.key)
	}
	return true
}

// deriveLocked lists the assignments that select the satellite, sorted by configId.
func (h *Hub) deriveLocked(sat *satellite) []protocol.Assignment {
	out := []protocol.Assignment{}
	for _, a := range h.assignments {
		if !a.Paused && a.Key.Namespace == sat.key.Namespace && a.Selection.Matches(sat.key.Name, sat.region, sat.labels) {
			out = append(out, a.Wire)
		}
	}
	slices.SortFunc(out, func(x, y protocol.Assignment) int { return strings.Compare(x.ConfigID, y.ConfigID) })
	return out
}

func sameAssignment(x, y protocol.Assignment) bool {
	return x.ConfigID == y.ConfigID && x.SystemID == y.SystemID && x.StrategyID == y.StrategyID &&
		x.IntervalSeconds == y.IntervalSeconds && bytes.Equal(x.Config, y.Config)
}

// ingest records a result of a session's satellite and returns its satellite_results_total
// status: the result's own, or rejected (not relayed to the satellite) or duplicate (an ID seen
// before), which are dropped. It wakes the assignment's reconciler when a view changed or the
// coarse status refresh is due.
func (h *Hub) ingest(sat *satellite, r *protocol.Result) string {
	now := h.clock.Now()
	h.mu.Lock()
	if r.ID != "" && sat.seen.has(r.ID) {
		h.mu.Unlock()
		return resultDuplicate
	}
	a, ok := h.assignments[types.UID(r.ConfigID)]
	relayed := ok && slices.ContainsFunc(sat.relayed, func(x protocol.Assignment) bool { return x.ConfigID == r.ConfigID })
	if !relayed {
		h.mu.Unlock()
		return resultRejected
	}
	if r.ID != "" {
		sat.seen.add(r.ID)
	}
	prev := a.views[sat.key.Name]
	view := nextView(prev, r, a.Thresholds)
	a.views[sat.key.Name] = view
	wake := view.Status != prev.Status || now.Sub(a.lastWake) >= h.opts.StatusRefresh
	if wake {
		a.lastWake = now
	}
	key, system, region := a.Key, a.Wire.SystemID, sat.region
	h.mu.Unlock()

	lv := []string{key.Namespace, key.Name, system, sat.key.Name, region}
	up := 1.0
	if r.Status == v1alpha1.ResultUnhealthy {
		up = 0
	}
	h.metrics.checkUp.WithLabelValues(lv...).Set(up)
	h.metrics.checkLatency.WithLabelValues(lv...).Observe(view.Latency.Seconds())
	if wake {
		h.assignmentEvents <- event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]{
			Object: &v1alpha1.HealthCheckAssignment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
		}
	}
	return string(r.Status)
}

// idSet remembers the last n IDs, to drop results an agent resends after a lost ack.
type idSet struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (s *idSet) has(id string) bool {
	_, ok := s.ids[id]
	return ok
}

func (s *idSet) add(id string) {
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.ids[id] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
}
