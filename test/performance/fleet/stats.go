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
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile of ds (0 for none); 100 is the maximum.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencies turns receipt times (Unix ns, 0 for never) into durations since from; a receipt
// before from (the manager answered before the create call returned to us) counts as 0. It
// also returns how many never arrived.
func latencies(times []int64, from time.Time) (out []time.Duration, missing int) {
	for _, t := range times {
		if t == 0 {
			missing++
			continue
		}
		out = append(out, max(0, time.Duration(t-from.UnixNano())))
	}
	return out, missing
}

// latest is the largest of times, as a time; zero for none.
func latest(times []int64) time.Time {
	var m int64
	for _, t := range times {
		m = max(m, t)
	}
	if m == 0 {
		return time.Time{}
	}
	return time.Unix(0, m)
}
