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

func TestAggregate(t *testing.T) {
	views := func(statuses ...v1alpha1.ResultStatus) []v1alpha1.SatelliteCheckStatus {
		out := make([]v1alpha1.SatelliteCheckStatus, len(statuses))
		for i, s := range statuses {
			out[i].Status = s
		}
		return out
	}
	const (
		h = v1alpha1.ResultHealthy
		d = v1alpha1.ResultDegraded
		u = v1alpha1.ResultUnhealthy
	)
	cases := map[string]struct {
		sats   []v1alpha1.SatelliteCheckStatus
		quorum int32
		want   v1alpha1.CheckState
	}{
		"no satellites":                       {sats: nil, quorum: 1, want: v1alpha1.CheckUnknown},
		"none reported yet":                   {sats: views("", ""), quorum: 1, want: v1alpha1.CheckUnknown},
		"all healthy":                         {sats: views(h, h, ""), quorum: 2, want: v1alpha1.CheckHealthy},
		"one degraded":                        {sats: views(h, d), quorum: 1, want: v1alpha1.CheckDegraded},
		"one failing below a quorum of two":   {sats: views(h, u, h), quorum: 2, want: v1alpha1.CheckDegraded},
		"two failing reach a quorum of two":   {sats: views(u, u, h), quorum: 2, want: v1alpha1.CheckUnhealthy},
		"a quorum above the selection is all": {sats: views(u, u), quorum: 5, want: v1alpha1.CheckUnhealthy},
		"one failing with the default quorum": {sats: views(u, h, h), quorum: 1, want: v1alpha1.CheckUnhealthy},
		"an unset quorum counts as one":       {sats: views(u, h), quorum: 0, want: v1alpha1.CheckUnhealthy},
	}
	for name, tc := range cases {
		if got := aggregate(tc.sats, tc.quorum); got != tc.want {
			t.Errorf("%s: aggregate = %s, want %s", name, got, tc.want)
		}
	}
}

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
