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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

func TestNextView(t *testing.T) {
	th := v1alpha1.Thresholds{FailureThreshold: 2, SuccessThreshold: 2}
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	result := func(status v1alpha1.ResultStatus) *protocol.Result {
		latency := 42.0
		return &protocol.Result{Status: status, LatencyMs: &latency, ExecutedAt: at,
			Result: &protocol.ResultDetail{Status: status, Message: string(status)}}
	}
	cases := map[string]struct {
		prev CheckView
		got  v1alpha1.ResultStatus
		want CheckView
	}{
		"a first success decides at once": {
			got:  v1alpha1.ResultHealthy,
			want: CheckView{Status: v1alpha1.ResultHealthy, ConsecutiveSuccesses: 1},
		},
		"one failure is below the failure threshold": {
			prev: CheckView{Status: v1alpha1.ResultHealthy, ConsecutiveSuccesses: 5},
			got:  v1alpha1.ResultUnhealthy,
			want: CheckView{Status: v1alpha1.ResultHealthy, ConsecutiveFailures: 1},
		},
		"the second failure in a row turns it unhealthy": {
			prev: CheckView{Status: v1alpha1.ResultHealthy, ConsecutiveFailures: 1},
			got:  v1alpha1.ResultUnhealthy,
			want: CheckView{Status: v1alpha1.ResultUnhealthy, ConsecutiveFailures: 2},
		},
		"one success does not recover it": {
			prev: CheckView{Status: v1alpha1.ResultUnhealthy, ConsecutiveFailures: 4},
			got:  v1alpha1.ResultHealthy,
			want: CheckView{Status: v1alpha1.ResultUnhealthy, ConsecutiveSuccesses: 1},
		},
		"the second success in a row recovers it": {
			prev: CheckView{Status: v1alpha1.ResultUnhealthy, ConsecutiveSuccesses: 1},
			got:  v1alpha1.ResultDegraded,
			want: CheckView{Status: v1alpha1.ResultDegraded, ConsecutiveSuccesses: 2},
		},
		"degraded counts as a success and shows as degraded": {
			prev: CheckView{Status: v1alpha1.ResultHealthy, ConsecutiveSuccesses: 3},
			got:  v1alpha1.ResultDegraded,
			want: CheckView{Status: v1alpha1.ResultDegraded, ConsecutiveSuccesses: 4},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := nextView(tc.prev, result(tc.got), th, at)
			tc.want.Latency, tc.want.LastRunAt, tc.want.ReceivedAt, tc.want.Message = 42*time.Millisecond, at, at, string(tc.got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelection(t *testing.T) {
	spec := &v1alpha1.HealthCheckAssignmentSpec{Satellites: []string{"eu-west"}, Regions: []string{"us-east-1"}}
	sel, err := NewSelection(spec)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		name, region string
		labels       map[string]string
		want         bool
	}{
		"by name":                {name: "eu-west", region: "eu-west-1", want: true},
		"by region":              {name: "other", region: "us-east-1", want: true},
		"neither":                {name: "other", region: "ap-south-1", labels: map[string]string{"tier": "edge"}, want: false},
		"labels need a selector": {name: "other", region: "ap-south-1", labels: map[string]string{"tier": "edge"}, want: false},
	}
	for name, tc := range cases {
		if got := sel.Matches(tc.name, tc.region, tc.labels); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", name, got, tc.want)
		}
	}

	spec.SatelliteSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "edge"}}
	if sel, err = NewSelection(spec); err != nil {
		t.Fatal(err)
	}
	if !sel.Matches("other", "ap-south-1", map[string]string{"tier": "edge"}) {
		t.Error("the label selector does not select a satellite with its labels")
	}
	spec.SatelliteSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Bogus"}}}
	if _, err := NewSelection(spec); err == nil {
		t.Error("an invalid selector compiles")
	}
}

func TestCountsState(t *testing.T) {
	counts := func(statuses ...v1alpha1.ResultStatus) Counts {
		var c Counts
		for _, s := range statuses {
			c.add(s)
		}
		return c
	}
	const (
		h = v1alpha1.ResultHealthy
		d = v1alpha1.ResultDegraded
		u = v1alpha1.ResultUnhealthy
	)
	cases := map[string]struct {
		counts Counts
		quorum int32
		want   v1alpha1.CheckState
	}{
		"no satellites":                       {counts: counts(), quorum: 1, want: v1alpha1.CheckUnknown},
		"none reported yet":                   {counts: counts("", ""), quorum: 1, want: v1alpha1.CheckUnknown},
		"all healthy":                         {counts: counts(h, h, ""), quorum: 2, want: v1alpha1.CheckHealthy},
		"one degraded":                        {counts: counts(h, d), quorum: 1, want: v1alpha1.CheckDegraded},
		"one failing below a quorum of two":   {counts: counts(h, u, h), quorum: 2, want: v1alpha1.CheckDegraded},
		"two failing reach a quorum of two":   {counts: counts(u, u, h), quorum: 2, want: v1alpha1.CheckUnhealthy},
		"a quorum above the selection is all": {counts: counts(u, u), quorum: 5, want: v1alpha1.CheckUnhealthy},
		"one failing with the default quorum": {counts: counts(u, h, h), quorum: 1, want: v1alpha1.CheckUnhealthy},
		"an unset quorum counts as one":       {counts: counts(u, h), quorum: 0, want: v1alpha1.CheckUnhealthy},
	}
	for name, tc := range cases {
		if got := tc.counts.State(tc.quorum); got != tc.want {
			t.Errorf("%s: State = %s, want %s", name, got, tc.want)
		}
	}
}

func TestCountsStateCountsOnlyReportingSatellites(t *testing.T) {
	cases := map[string]struct {
		counts Counts
		quorum int32
		want   v1alpha1.CheckState
	}{
		"all offline is Unknown, not Unhealthy":      {counts: Counts{Offline: 3}, quorum: 1, want: v1alpha1.CheckUnknown},
		"all stale is Unknown":                       {counts: Counts{Stale: 2}, quorum: 1, want: v1alpha1.CheckUnknown},
		"the quorum shrinks to the reporting ones":   {counts: Counts{Unhealthy: 1, Offline: 2}, quorum: 2, want: v1alpha1.CheckUnhealthy},
		"offline satellites do not make up a quorum": {counts: Counts{Unhealthy: 1, Healthy: 1, Offline: 2}, quorum: 2, want: v1alpha1.CheckDegraded},
		"healthy with some offline":                  {counts: Counts{Healthy: 1, Offline: 1, Stale: 1}, quorum: 1, want: v1alpha1.CheckHealthy},
	}
	for name, tc := range cases {
		if got := tc.counts.State(tc.quorum); got != tc.want {
			t.Errorf("%s: State = %s, want %s", name, got, tc.want)
		}
	}
}

// TestReportOfflineAndStale drives three satellites of one assignment with a fake clock: views
// turn stale after three intervals (at least 2 minutes) by the manager's clock, an Offline
// satellite does not report, and neither counts towards the state.
func TestReportOfflineAndStale(t *testing.T) {
	const interval = 30 // seconds: stale after 90 s would be below the 2 minute floor
	type sat struct {
		offline bool
		result  v1alpha1.ResultStatus // "" sends none
	}
	cases := map[string]struct {
		sats      map[string]sat
		after     time.Duration // between the results and the report
		want      Counts
		wantStale []string
		wantState v1alpha1.CheckState
		wantNext  time.Duration
	}{
		"fresh views all count": {
			sats:  map[string]sat{"a": {result: v1alpha1.ResultUnhealthy}, "b": {result: v1alpha1.ResultHealthy}, "c": {result: v1alpha1.ResultHealthy}},
			after: time.Minute, want: Counts{Unhealthy: 1, Healthy: 2}, wantState: v1alpha1.CheckUnhealthy, wantNext: time.Minute,
		},
		"an offline satellite is counted as offline": {
			sats:  map[string]sat{"a": {offline: true, result: v1alpha1.ResultUnhealthy}, "b": {result: v1alpha1.ResultHealthy}, "c": {result: v1alpha1.ResultHealthy}},
			after: time.Second, want: Counts{Offline: 1, Healthy: 2}, wantState: v1alpha1.CheckHealthy, wantNext: 2*time.Minute - time.Second,
		},
		"all offline is Unknown": {
			sats:  map[string]sat{"a": {offline: true, result: v1alpha1.ResultUnhealthy}, "b": {offline: true}, "c": {offline: true}},
			after: time.Second, want: Counts{Offline: 3}, wantState: v1alpha1.CheckUnknown,
		},
		"views older than the stale age are stale": {
			sats:  map[string]sat{"a": {result: v1alpha1.ResultUnhealthy}, "b": {result: v1alpha1.ResultHealthy}, "c": {}},
			after: 2 * time.Minute, want: Counts{Stale: 2, Unknown: 1}, wantStale: []string{"a", "b"}, wantState: v1alpha1.CheckUnknown,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, clk := newTestFleet()
			sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "p"}, UID: "hca-1", Generation: 1,
				Selection: sel, Wire: protocol.Assignment{ConfigID: "hca-1", SystemID: "payments-api", IntervalSeconds: interval}}); err != nil {
				t.Fatal(err)
			}
			for name, s := range tc.sats {
				info := satInfo("monitoring", name, "uid-"+name, "csat_"+name)
				f.UpsertSatellite(info)
				if s.result != "" {
					h, _, err := f.Authenticate(string(info.UID), "csat_"+name, oursCaps, &recordingConn{})
					if err != nil {
						t.Fatalf("%s does not authenticate", name)
					}
					f.Ingest(h, &protocol.Result{ConfigID: "hca-1", Status: s.result, ExecutedAt: clk.Now()})
				}
				info.Offline = s.offline
				f.UpsertSatellite(info)
			}
			clk.Step(tc.after)
			rep, ok := f.Report("hca-1", 100)
			if !ok {
				t.Fatal("no report")
			}
			if diff := cmp.Diff(tc.want, rep.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			var stale []string
			for _, v := range rep.NotHealthy {
				if v.Stale {
					stale = append(stale, v.Name)
				}
			}
			if diff := cmp.Diff(tc.wantStale, stale); diff != "" {
				t.Errorf("stale views (-want +got):\n%s", diff)
			}
			if got := rep.Counts.State(1); got != tc.wantState {
				t.Errorf("state = %s, want %s", got, tc.wantState)
			}
			if rep.NextStale != tc.wantNext {
				t.Errorf("next stale in %v, want %v", rep.NextStale, tc.wantNext)
			}
		})
	}
}

func TestStaleAge(t *testing.T) {
	for interval, want := range map[int]time.Duration{5: 2 * time.Minute, 40: 2 * time.Minute, 60: 3 * time.Minute, 3600: 3 * time.Hour} {
		if got := staleAge(interval); got != want {
			t.Errorf("staleAge(%d s) = %v, want %v", interval, got, want)
		}
	}
}
