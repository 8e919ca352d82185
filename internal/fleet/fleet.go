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
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// eventBuffer is the room of each wake-up channel; a reconciler drains it as it enqueues, and
// the workqueue folds repeated keys, so a full buffer only delays the sender (never under the
// lock).
const eventBuffer = 4096

// Options are the fleet's settings; zero values take the defaults.
type Options struct {
	// StatusRefresh is the least time between two wake-ups of an assignment's reconciler caused
	// by results that change no satellite's view. Default 60 s.
	StatusRefresh time.Duration
	// Presence takes what the fleet publishes of its sessions; nil publishes nothing.
	Presence PresenceSink
	// RenewInterval is the least time between two publications of a session's presence that
	// only its heartbeats changed. Default 60 s.
	RenewInterval time.Duration
}

// Conn is the fleet's handle on a satellite's live session. ConfigChanged and Close return at
// once: the fleet calls them only after it released its lock.
type Conn interface {
	// ConfigChanged tells the session that the satellite's relayed list changed; the session
	// fetches the current list with Fleet.Config when it writes, so bursts coalesce.
	ConfigChanged()
	// Close ends the session with a close code and reason, after writing final if not nil.
	Close(code int, reason string, final protocol.Message)
	// RemoteAddr is the peer's address, fixed for the session's life: the fleet reads it under
	// its lock, to name two agents that share an identity.
	RemoteAddr() string
	// Acknowledge sends the satellite a result_ack of these IDs, at most protocol.MaxAckIDs;
	// the fleet calls it for results it acknowledges once they are written.
	Acknowledge(ids []string)
}

// Fleet holds every fact the manager keeps in memory about Satellites, their sessions and the
// assignments relayed to them. Reconcilers feed it from the API, the hub feeds it from sessions;
// each reaches it through a narrow interface of its own. Its lock is never held across a
// channel send, a network call or a call into a session.
type Fleet struct {
	clock   clock.PassiveClock
	opts    Options
	metrics *metricsSet

	satelliteEvents  chan event.TypedGenericEvent[*v1alpha1.Satellite]
	assignmentEvents chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]

	mu          sync.Mutex
	lastSession uint64
	// lastPresence numbers the publications of presence.
	lastPresence uint64
	satellites   map[types.UID]*satellite
	tokens       tokenIndex
	namespaces   map[string]*namespace
	assignments  map[types.UID]*assignment
	// lastRevision numbers the assignments' encoded forms; frames shares the frames built of them.
	lastRevision uint64
	frames       frameCache
}

// New returns an empty Fleet.
func New(opts Options, clk clock.PassiveClock) *Fleet {
	if opts.StatusRefresh <= 0 {
		opts.StatusRefresh = 60 * time.Second
	}
	if opts.RenewInterval <= 0 {
		opts.RenewInterval = 60 * time.Second
	}
	return &Fleet{
		clock:            clk,
		opts:             opts,
		metrics:          fleetMetrics(),
		satelliteEvents:  make(chan event.TypedGenericEvent[*v1alpha1.Satellite], eventBuffer),
		assignmentEvents: make(chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment], eventBuffer),
		satellites:       map[types.UID]*satellite{},
		tokens:           tokenIndex{},
		namespaces:       map[string]*namespace{},
		assignments:      map[types.UID]*assignment{},
	}
}

// SatelliteEvents wakes the SatelliteReconciler when a satellite connects, disconnects or
// changes version.
func (f *Fleet) SatelliteEvents() <-chan event.TypedGenericEvent[*v1alpha1.Satellite] {
	return f.satelliteEvents
}

// AssignmentEvents wakes the HealthCheckAssignmentReconciler when results or a change of the
// selected satellites change an assignment's status.
func (f *Fleet) AssignmentEvents() <-chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment] {
	return f.assignmentEvents
}

// namespaceLocked returns the indexes of a namespace, creating them on first use.
func (f *Fleet) namespaceLocked(name string) *namespace {
	ns := f.namespaces[name]
	if ns == nil {
		ns = newNamespace()
		f.namespaces[name] = ns
	}
	return ns
}

// dropNamespaceIfEmptyLocked forgets the indexes of a namespace that holds nothing any more.
func (f *Fleet) dropNamespaceIfEmptyLocked(name string) {
	if ns := f.namespaces[name]; ns != nil && len(ns.satellites) == 0 && len(ns.assignments) == 0 {
		delete(f.namespaces, name)
	}
}

// effects collects what a change must do outside the lock: calls into sessions, metrics and
// wake-ups, in that order.
type effects struct {
	closes  []closeRequest
	pushes  []Conn
	metrics []func()
	wakeSat []types.NamespacedName
	wakeHCA []types.NamespacedName
}

type closeRequest struct {
	conn   Conn
	code   int
	reason string
	final  protocol.Message
}

func (fx *effects) close(c Conn, code int, reason string, final protocol.Message) {
	fx.closes = append(fx.closes, closeRequest{conn: c, code: code, reason: reason, final: final})
}

// run does the effects; the caller must not hold the lock.
func (f *Fleet) run(fx *effects) {
	for _, c := range fx.closes {
		c.conn.Close(c.code, c.reason, c.final)
	}
	for _, c := range fx.pushes {
		c.ConfigChanged()
	}
	for _, m := range fx.metrics {
		m()
	}
	for _, key := range fx.wakeSat {
		f.satelliteEvents <- event.TypedGenericEvent[*v1alpha1.Satellite]{
			Object: &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
		}
	}
	for _, key := range fx.wakeHCA {
		f.assignmentEvents <- event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]{
			Object: &v1alpha1.HealthCheckAssignment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
		}
	}
}
