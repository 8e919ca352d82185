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
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricsSet holds the hub's Prometheus collectors, served on the manager's /metrics.
type metricsSet struct {
	checkUp      *prometheus.GaugeVec
	checkLatency *prometheus.HistogramVec
	results      *prometheus.CounterVec
	connected    *prometheus.GaugeVec
	configPush   prometheus.Histogram
}

// Label values of satellite_results_total{status} besides the result statuses.
const (
	resultRejected  = "rejected"  // for an assignment not relayed to the satellite
	resultDuplicate = "duplicate" // an ID already processed, resent by the agent
)

// hubMetrics registers the collectors once per process, on controller-runtime's registry that the
// manager serves on /metrics; every Hub of the process (tests run several) shares them.
var hubMetrics = sync.OnceValue(func() *metricsSet {
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
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_results_total",
			Help: "Results received from satellites, by status; rejected and duplicate ones are not ingested.",
		}, []string{"status"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "satellite_connected",
			Help: "1 while the satellite has an authenticated session with this manager.",
		}, []string{"namespace", "satellite", "region"}),
		configPush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "satellite_config_push_seconds",
			Help:    "Time to derive and queue config_updated frames after an assignment or satellite changed.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	metrics.Registry.MustRegister(m.checkUp, m.checkLatency, m.results, m.connected, m.configPush)
	return m
})
