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
	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// aggregate is the assignment's state over its selected satellites' views: Unhealthy when at
// least quorum satellites see it unhealthy (a quorum larger than the selection counts as all of
// it, so a misconfigured quorum cannot hide an outage), Degraded when some see it unhealthy or
// degraded, Healthy when all that reported see it healthy, Unknown before any report.
func aggregate(sats []v1alpha1.SatelliteCheckStatus, quorum int32) v1alpha1.CheckState {
	var unhealthy, degraded, healthy int32
	for _, s := range sats {
		switch s.Status {
		case v1alpha1.ResultUnhealthy:
			unhealthy++
		case v1alpha1.ResultDegraded:
			degraded++
		case v1alpha1.ResultHealthy:
			healthy++
		}
	}
	q := max(min(quorum, int32(len(sats))), 1)
	switch {
	case unhealthy >= q:
		return v1alpha1.CheckUnhealthy
	case unhealthy > 0 || degraded > 0:
		return v1alpha1.CheckDegraded
	case healthy > 0:
		return v1alpha1.CheckHealthy
	default:
		return v1alpha1.CheckUnknown
	}
}

// checkEvent returns the reason and type of the Event for a change of aggregate state, or "" for
// none: a first observation, and a change to or from Unknown without a problem, are silent.
func checkEvent(before, after v1alpha1.CheckState) (reason, eventType string) {
	if before == "" || before == after {
		return "", ""
	}
	switch after {
	case v1alpha1.CheckUnhealthy:
		return v1alpha1.EventCheckUnhealthy, "Warning"
	case v1alpha1.CheckDegraded:
		return v1alpha1.EventCheckDegraded, "Warning"
	case v1alpha1.CheckHealthy:
		if before == v1alpha1.CheckUnhealthy || before == v1alpha1.CheckDegraded {
			return v1alpha1.EventCheckRecovered, "Normal"
		}
	}
	return "", ""
}
