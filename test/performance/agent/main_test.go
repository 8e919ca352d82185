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

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tool's figures come from these pure functions; the measurement itself is the tool's run,
// never a timed test.

func TestAnalyse(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	from, to := at(20), at(80)
	cases := map[string]struct {
		arrivals [][]time.Time
		want     scheduleStats
	}{
		"gaps only between arrivals both in the window": {
			arrivals: [][]time.Time{{at(5), at(15), at(25.1), at(35), at(44.9), at(85)}},
			want: scheduleStats{Requests: 3, PathsSeen: 1,
				Drifts: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
		},
		"a skipped run is a drift of one interval": {
			arrivals: [][]time.Time{{at(21), at(41)}},
			want:     scheduleStats{Requests: 2, PathsSeen: 1, Drifts: []time.Duration{10 * time.Second}},
		},
		"drifts of all paths are pooled and sorted; unseen paths are not counted": {
			arrivals: [][]time.Time{{at(30), at(40.3)}, {}, {at(50), at(60.2)}},
			want: scheduleStats{Requests: 4, PathsSeen: 2,
				Drifts: []time.Duration{200 * time.Millisecond, 300 * time.Millisecond}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := analyse(tc.arrivals, from, to, 10*time.Second)
			// Float seconds are not exact; milliseconds are what the table shows.
			for i := range got.Drifts {
				got.Drifts[i] = got.Drifts[i].Round(time.Millisecond)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("analyse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := map[string]struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		"empty":          {nil, 50, 0},
		"one":            {[]time.Duration{7}, 99, 7},
		"p50 of 1..100":  {hundred, 50, 50 * time.Millisecond},
		"p99 of 1..100":  {hundred, 99, 99 * time.Millisecond},
		"p100 of 1..100": {hundred, 100, 100 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSumMetric(t *testing.T) {
	text := `# HELP satellite_agent_checks_total Checks run.
# TYPE satellite_agent_checks_total counter
satellite_agent_checks_total{status="healthy",strategy="http"} 990
satellite_agent_checks_total{status="unhealthy",strategy="http"} 10
satellite_agent_checks_total_other 5
satellite_agent_scheduled_checks 1000
`
	cases := map[string]struct {
		name string
		want float64
	}{
		"labelled samples are summed": {"satellite_agent_checks_total", 1000},
		"a prefix of another name":    {"satellite_agent_scheduled_checks", 1000},
		"absent":                      {"satellite_agent_dropped_results_total", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := sumMetric(strings.NewReader(text), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("sumMetric(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
