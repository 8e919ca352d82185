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

package agent

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// agentMetrics are the agent's Prometheus collectors, on a registry of its own: the agent is its
// own process, and tests run several agents in one.
type agentMetrics struct {
	registry  *prometheus.Registry
	checks    *prometheus.CounterVec
	failures  *prometheus.CounterVec
	scheduled prometheus.Gauge
	buffered  prometheus.Gauge
	dropped   prometheus.Counter
	connected prometheus.Gauge
	dials     prometheus.Counter
}

func newAgentMetrics(version string) *agentMetrics {
	m := &agentMetrics{
		registry: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_agent_checks_total",
			Help: "Checks run, by strategy and result status.",
		}, []string{"strategy", "status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satellite_agent_check_failures_total",
			Help: "Checks run whose result was unhealthy, by strategy.",
		}, []string{"strategy"}),
		scheduled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "satellite_agent_scheduled_checks",
			Help: "Assignments the agent runs on their intervals.",
		}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "satellite_agent_buffered_results",
			Help: "Results waiting for the manager's acknowledgement.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "satellite_agent_dropped_results_total",
			Help: "Results dropped unacknowledged because the buffer was full.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "satellite_agent_connected",
			Help: "1 while the agent is connected to the manager and authenticated, else 0.",
		}),
		dials: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "satellite_agent_dial_attempts_total",
			Help: "Connection attempts to the manager.",
		}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "satellite_build_info",
		Help: "1, with the binary's component (manager or agent), version and Go version.",
	}, []string{"component", "version", "goversion"})
	buildInfo.WithLabelValues("agent", version, runtime.Version()).Set(1)
	m.registry.MustRegister(buildInfo, m.checks, m.failures, m.scheduled, m.buffered, m.dropped, m.connected, m.dials,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
