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

package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// checkStates are the values of satellite_assignment_state{state}: every one has a series, so
// that an alert on one never misses an assignment for want of a series.
var checkStates = []v1alpha1.CheckState{v1alpha1.CheckHealthy, v1alpha1.CheckDegraded, v1alpha1.CheckUnhealthy,
	v1alpha1.CheckUnknown, v1alpha1.CheckPaused}

// reconcilerMetrics are the series the reconcilers set from what they compute and the API holds:
// the assignments' aggregate state, and every Satellite with its state, also one that never
// connected (satellite_connected has no series for it).
type reconcilerMetrics struct {
	assignmentState *prometheus.GaugeVec
	// assignmentSelected and assignmentOffline count an assignment's selected satellites and the
	// Offline ones among them: all of them Offline is an alert of its own, not Unhealthy.
	assignmentSelected *prometheus.GaugeVec
	assignmentOffline  *prometheus.GaugeVec
	satelliteInfo      *prometheus.GaugeVec
	// refreshesDeferred counts reconciles that left a due refresh of lastHeartbeatAt for the next
	// interval, having come after its window: the reconciler is behind on its writes
	// (liveness.refreshWindow).
	refreshesDeferred prometheus.Counter

	// mu guards the labels each object's series carry now, so that a change deletes exactly the
	// old series: DeletePartialMatch scans every series of its vector, and one per reconcile
	// made reconciling a fleet of 10,000 Satellites quadratic.
	mu          sync.Mutex
	satellites  map[types.NamespacedName]satelliteLabels
	assignments map[types.NamespacedName]string // the system
}

// satelliteLabels are the labels of a Satellite's satellite_info series beside its name.
type satelliteLabels struct{ region, state string }

// controllerMetrics registers the collectors once per process on controller-runtime's registry,
// which the manager serves on /metrics.
var controllerMetrics = sync.OnceValue(func() *reconcilerMetrics {
	m := &reconcilerMetrics{
		assignmentState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "satellite_assignment_state",
			Help: "1 for the assignment's current aggregate state (the quorum result kubectl get hca shows), 0 for the others.",
		}, []string{"namespace", "assignment", "system", "state"}),
		satelliteInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "satellite_info",
			Help: "1 for every Satellite, with its state (Online, Offline) and region as its status shows them.",
		}, []string{"namespace", "satellite", "region", "state"}),
		satellites:  map[types.NamespacedName]satelliteLabels{},
		assignments: map[types.NamespacedName]string{},
	}
	m.assignmentSelected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "satellite_assignment_selected_satellites",
		Help: "How many satellites the assignment selects.",
	}, []string{"namespace", "assignment", "system"})
	m.assignmentOffline = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "satellite_assignment_offline_satellites",
		Help: "How many of the satellites the assignment selects are Offline.",
	}, []string{"namespace", "assignment", "system"})
	m.refreshesDeferred = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "satellite_status_refreshes_deferred_total",
		Help: "Satellite reconciles that found a refresh of status.lastHeartbeatAt due but its window closed, and left it for the next report interval: the reconciler is behind on its writes to the API server.",
	})
	metrics.Registry.MustRegister(m.assignmentState, m.assignmentSelected, m.assignmentOffline, m.satelliteInfo, m.refreshesDeferred)
	return m
})

// setAssignmentState sets the assignment's series: 1 for its state, 0 for the others, and its
// satellites' counts.
func (m *reconcilerMetrics) setAssignmentState(key types.NamespacedName, system string, state v1alpha1.CheckState, selected, offline int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.assignments[key]; ok && old != system {
		// A changed system would leave the old series behind.
		m.deleteAssignmentLocked(key, old)
	}
	m.assignments[key] = system
	m.assignmentSelected.WithLabelValues(key.Namespace, key.Name, system).Set(float64(selected))
	m.assignmentOffline.WithLabelValues(key.Namespace, key.Name, system).Set(float64(offline))
	for _, s := range checkStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.assignmentState.WithLabelValues(key.Namespace, key.Name, system, string(s)).Set(v)
	}
}

func (m *reconcilerMetrics) forgetAssignment(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if system, ok := m.assignments[key]; ok {
		m.deleteAssignmentLocked(key, system)
		delete(m.assignments, key)
	}
}

func (m *reconcilerMetrics) deleteAssignmentLocked(key types.NamespacedName, system string) {
	m.assignmentSelected.DeleteLabelValues(key.Namespace, key.Name, system)
	m.assignmentOffline.DeleteLabelValues(key.Namespace, key.Name, system)
	for _, s := range checkStates {
		m.assignmentState.DeleteLabelValues(key.Namespace, key.Name, system, string(s))
	}
}

// setSatellite sets the Satellite's one satellite_info series.
func (m *reconcilerMetrics) setSatellite(key types.NamespacedName, region string, state v1alpha1.SatelliteState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	labels := satelliteLabels{region: region, state: string(state)}
	if old, ok := m.satellites[key]; ok && old != labels {
		m.satelliteInfo.DeleteLabelValues(key.Namespace, key.Name, old.region, old.state)
	}
	m.satellites[key] = labels
	m.satelliteInfo.WithLabelValues(key.Namespace, key.Name, region, string(state)).Set(1)
}

func (m *reconcilerMetrics) forgetSatellite(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.satellites[key]; ok {
		m.satelliteInfo.DeleteLabelValues(key.Namespace, key.Name, old.region, old.state)
		delete(m.satellites, key)
	}
}
