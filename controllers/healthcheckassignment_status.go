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
