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
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// TestReconcilerMetricsKeepOneSeries checks that a Satellite, and an assignment, keep exactly
// their current series through changes of state, region and system, and none after they go.
func TestReconcilerMetricsKeepOneSeries(t *testing.T) {
	m := controllerMetrics()
	sat := types.NamespacedName{Namespace: "metrics-unit", Name: "eu-west-1"}
	other := types.NamespacedName{Namespace: "metrics-unit", Name: "us-east-1"}
	m.setSatellite(other, "us-east", v1alpha1.SatelliteOnline)
	series := func(name types.NamespacedName, region string, state v1alpha1.SatelliteState) float64 {
		return gaugeValue(m.satelliteInfo.WithLabelValues(name.Namespace, name.Name, region, string(state)))
	}
	before := seriesCount(m.satelliteInfo)

	m.setSatellite(sat, "eu-west", v1alpha1.SatelliteOffline)
	m.setSatellite(sat, "eu-west", v1alpha1.SatelliteOnline)
	m.setSatellite(sat, "eu-central", v1alpha1.SatelliteOnline)
	if got := seriesCount(m.satelliteInfo); got != before+1 {
		t.Errorf("after three changes the Satellite has %d satellite_info series, want 1", got-before)
	}
	if got := series(sat, "eu-central", v1alpha1.SatelliteOnline); got != 1 {
		t.Errorf("satellite_info of the current region and state is %v, want 1", got)
	}
	m.forgetSatellite(sat)
	if got := seriesCount(m.satelliteInfo); got != before {
		t.Errorf("a forgotten Satellite leaves %d satellite_info series, want 0", got-before)
	}
	if got := series(other, "us-east", v1alpha1.SatelliteOnline); got != 1 {
		t.Errorf("another Satellite's series is %v after the first was forgotten, want 1", got)
	}
	m.forgetSatellite(other)

	hca := types.NamespacedName{Namespace: "metrics-unit", Name: "api"}
	// Counted against what exists before, as other tests of the package share the registry.
	states, selected := seriesCount(m.assignmentState), seriesCount(m.assignmentSelected)
	m.setAssignmentState(hca, "shop", v1alpha1.CheckHealthy, 3, 0)
	m.setAssignmentState(hca, "billing", v1alpha1.CheckUnhealthy, 3, 1)
	if got, want := seriesCount(m.assignmentState)-states, len(checkStates); got != want {
		t.Errorf("after a change of system the assignment has %d satellite_assignment_state series, want %d", got, want)
	}
	if got := gaugeValue(m.assignmentState.WithLabelValues(hca.Namespace, hca.Name, "billing", string(v1alpha1.CheckUnhealthy))); got != 1 {
		t.Errorf("satellite_assignment_state of the current state is %v, want 1", got)
	}
	if got := gaugeValue(m.assignmentOffline.WithLabelValues(hca.Namespace, hca.Name, "billing")); got != 1 {
		t.Errorf("satellite_assignment_offline_satellites is %v, want 1", got)
	}
	m.forgetAssignment(hca)
	if got := seriesCount(m.assignmentState) - states; got != 0 {
		t.Errorf("a forgotten assignment leaves %d satellite_assignment_state series, want 0", got)
	}
	if got := seriesCount(m.assignmentSelected) - selected; got != 0 {
		t.Errorf("a forgotten assignment leaves %d satellite_assignment_selected_satellites series, want 0", got)
	}
}

// seriesCount counts the series a collector has now.
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	n := 0
	for range ch {
		n++
	}
	return n
}

// gaugeValue reads a gauge; call it only for a series that exists, as WithLabelValues creates it.
func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}
