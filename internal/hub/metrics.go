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

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// metricsSet holds the endpoint's Prometheus collectors, served on the manager's /metrics; the
// fleet's (check results, connections) are in package fleet.
type metricsSet struct {
	results *prometheus.CounterVec
	refused *prometheus.CounterVec
	ignored *prometheus.CounterVec
	// certExpiry is when the served certificate expires, in Unix seconds; absent without TLS.
	certExpiry prometheus.Gauge
}

// knownIgnored are the frame types of Checkstack's satellite protocol that this manager does not
// serve; they label satellite_frames_ignored_total by name, any other type as "other", so that a
// client cannot grow the metric's series.
var knownIgnored = map[protocol.Type]bool{
	"request_config_secrets": true, "request_run_secrets": true, "telemetry_batch": true,
	"capability_status": true, "capability_secret_request": true, "script_package_sync_state": true,
	"request_script_package_manifest": true, "request_script_package_blob": true,
}

func ignoredLabel(t protocol.Type) string {
	if knownIgnored[t] {
		return string(t)
	}
	return "other"
}

// hubMetrics registers the collectors once per process, on controller-runtime's registry that the
// manager serves on /metrics; every Hub of the process (tests run several) shares them.
var hubMetrics = sync.OnceValue(func() *metricsSet {
	m := &metricsSet{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_results_total",
			Help: "Results received from satellites, by status; rejected and duplicate ones are not ingested.",
		}, []string{"status"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_handshakes_refused_total",
			Help: "Upgrades refused before they cost a session, by reason: source (one address's share is used up), global (the manager's ceiling), credentials (a bearer token that authenticates nobody).",
		}, []string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_frames_ignored_total",
			Help: "Frames of types this manager does not know, from authenticated satellites, ignored, by type (Checkstack's newer types by name, any other as \"other\").",
		}, []string{"type"}),
	}
	m.certExpiry = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "satellite_tls_certificate_expiry_timestamp_seconds",
		Help: "When the certificate the satellites' endpoint serves expires, in Unix seconds; set only with --tls-cert-file.",
	})
	metrics.Registry.MustRegister(m.results, m.refused, m.ignored, m.certExpiry)
	return m
})
