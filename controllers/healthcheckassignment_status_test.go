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

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

func TestCheckEvent(t *testing.T) {
	cases := []struct {
		before, after v1alpha1.CheckState
		want          string
	}{
		{before: "", after: v1alpha1.CheckUnhealthy, want: ""},
		{before: v1alpha1.CheckUnknown, after: v1alpha1.CheckHealthy, want: ""},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckHealthy, want: ""},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckDegraded, want: v1alpha1.EventCheckDegraded},
		{before: v1alpha1.CheckDegraded, after: v1alpha1.CheckUnhealthy, want: v1alpha1.EventCheckUnhealthy},
		{before: v1alpha1.CheckUnknown, after: v1alpha1.CheckUnhealthy, want: v1alpha1.EventCheckUnhealthy},
		{before: v1alpha1.CheckUnhealthy, after: v1alpha1.CheckHealthy, want: v1alpha1.EventCheckRecovered},
		{before: v1alpha1.CheckDegraded, after: v1alpha1.CheckHealthy, want: v1alpha1.EventCheckRecovered},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckUnknown, want: ""},
	}
	for _, tc := range cases {
		if got, _ := checkEvent(tc.before, tc.after); got != tc.want {
			t.Errorf("%q -> %q: event %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}
