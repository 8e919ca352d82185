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

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

type metricsSet struct {
	writes  *prometheus.CounterVec
	pending prometheus.Gauge
}

// writerMetrics registers the collectors once per process, on the registry the manager serves.
var writerMetrics = sync.OnceValue(func() *metricsSet {
	m := &metricsSet{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_presence_writes_total",
			Help: "Writes of presence Leases by this replica, by result: written, unchanged (nothing to write), superseded (another replica holds the Lease for a newer session), failed (retried).",
		}, []string{"result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "satellite_presence_writes_pending",
			Help: "Satellites whose presence Lease this replica has yet to write: it grows while the API server is unreachable, and falls back to about 0 once it answers.",
		}),
	}
	metrics.Registry.MustRegister(m.writes, m.pending)
	return m
})
