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

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricsSet holds the fleet's Prometheus collectors, served on the manager's /metrics.
type metricsSet struct {
	checkUp      *prometheus.GaugeVec
	checkLatency *prometheus.HistogramVec
	connected    *prometheus.GaugeVec
	configPush   prometheus.Histogram
	// repeatedCloses counts the runs of RepeatedCloseThreshold closes with one code.
	repeatedCloses *prometheus.CounterVec
	// duplicateHoldDowns counts the hold-downs of agents that share an identity.
	duplicateHoldDowns *prometheus.CounterVec
	// checkStale and assignmentResults serve alerting: a view that stopped standing for the
	// satellite's, and an uptime ratio per assignment.
	checkStale        *prometheus.GaugeVec
	assignmentResults *prometheus.CounterVec
}

// fleetMetrics registers the collectors once per process, on controller-runtime's registry that
// the manager serves on /metrics; every Fleet of the process (tests run several) shares them.
var fleetMetrics = sync.OnceValue(func() *metricsSet {
	m := &metricsSet{
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "satellite_check_up",
			Help: "1 when the satellite's last result of the check was healthy or degraded, 0 when unhealthy.",
		}, []string{"namespace", "assignment", "system", "satellite", "region"}),
		checkLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "satellite_check_latency_seconds",
			Help:    "Latency of the checks run by satellites, as they reported it.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"namespace", "assignment", "system", "satellite", "region"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "satellite_connected",
			Help: "1 while the satellite has an authenticated session with this manager.",
		}, []string{"namespace", "satellite", "region"}),
		configPush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "satellite_config_push_seconds",
			Help:    "Time to derive the changed relayed lists and hand them to the sessions after an assignment or satellite changed.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		repeatedCloses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_repeated_closes_total",
			Help: "Times the manager closed a satellite's sessions with the same close code 3 times in a row (a frame over the limit that the agent sends again after every reconnect, say), by code.",
		}, []string{"namespace", "satellite", "code"}),
		duplicateHoldDowns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_duplicate_hold_downs_total",
			Help: "Times the manager kept a satellite's session and refused newcomers for 10 minutes, because agents that share its identity replaced each other 3 times within a minute.",
		}, []string{"namespace", "satellite"}),
	}
	m.checkStale = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "satellite_check_stale",
		Help: "1 when the satellite's last result of the check is older than three intervals (at least 2 minutes): it no longer counts towards the assignment's state.",
	}, []string{"namespace", "assignment", "system", "satellite", "region"})
	m.assignmentResults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "satellite_assignment_results_total",
		Help: "Results of an assignment's check ingested from its satellites, by result status (healthy, degraded, unhealthy).",
	}, []string{"namespace", "assignment", "system", "status"})
	metrics.Registry.MustRegister(m.checkUp, m.checkLatency, m.connected, m.configPush, m.repeatedCloses, m.duplicateHoldDowns, m.checkStale, m.assignmentResults)
	return m
})

func (m *metricsSet) setConnected(sat *satellite, connected bool) {
	v := 0.0
	if connected {
		v = 1
	}
	m.connected.WithLabelValues(sat.key.Namespace, sat.key.Name, sat.region).Set(v)
}

// moveRegion relabels a satellite's connection series after its region changed; its check
// series take the new region with their next result, and forgetRegion drops the old ones.
func (m *metricsSet) moveRegion(sat *satellite, oldRegion string) {
	if m.connected.DeleteLabelValues(sat.key.Namespace, sat.key.Name, oldRegion) {
		m.setConnected(sat, sat.conn != nil)
	}
}

// forgetRegion deletes a satellite's check series labelled with a region it left.
func (m *metricsSet) forgetRegion(key types.NamespacedName, region string) {
	labels := map[string]string{"namespace": key.Namespace, "satellite": key.Name, "region": region}
	m.checkUp.DeletePartialMatch(labels)
	m.checkLatency.DeletePartialMatch(labels)
}

// forgetSatellite deletes the series of a deleted Satellite.
func (m *metricsSet) forgetSatellite(key types.NamespacedName) {
	labels := map[string]string{"namespace": key.Namespace, "satellite": key.Name}
	m.connected.DeletePartialMatch(labels)
	m.repeatedCloses.DeletePartialMatch(labels)
	m.duplicateHoldDowns.DeletePartialMatch(labels)
	m.checkUp.DeletePartialMatch(labels)
	m.checkLatency.DeletePartialMatch(labels)
	m.checkStale.DeletePartialMatch(labels)
}

// forgetAssignment deletes the series of a deleted assignment.
func (m *metricsSet) forgetAssignment(key types.NamespacedName) {
	labels := map[string]string{"namespace": key.Namespace, "assignment": key.Name}
	m.checkUp.DeletePartialMatch(labels)
	m.checkLatency.DeletePartialMatch(labels)
	m.checkStale.DeletePartialMatch(labels)
	m.assignmentResults.DeletePartialMatch(labels)
}
