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
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	cases := map[string]struct {
		min, max time.Duration
		want     []time.Duration
	}{
		"from 1s doubling to 30s": {
			min: time.Second, max: 30 * time.Second,
			want: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second},
		},
		"a cap between two doublings": {
			min: time.Second, max: 3 * time.Second,
			want: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second},
		},
		"min equal to max": {
			min: 5 * time.Second, max: 5 * time.Second,
			want: []time.Duration{5 * time.Second, 5 * time.Second},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackoff(tc.min, tc.max)
			// The largest draw is the ceiling itself: full jitter's interval is closed.
			b.rand = func(n int64) int64 { return n - 1 }
			var got []time.Duration
			for range tc.want {
				got = append(got, b.next())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("delays (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoffFullJitterSpansZeroToTheCeiling(t *testing.T) {
	b := newBackoff(time.Second, 30*time.Second)
	b.rand = rand.New(rand.NewPCG(1, 2)).Int64N
	for _, ceiling := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second} {
		lo, hi := ceiling, time.Duration(0)
		for range 2000 {
			saved := b.ceiling
			d := b.next()
			b.ceiling = saved // stay at this ceiling
			if d < 0 || d > ceiling {
				t.Fatalf("delay %v outside [0, %v]", d, ceiling)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		b.next() // on to the next ceiling
		// Full jitter, not +-25 %: the delays reach both ends of [0, ceiling].
		if lo > ceiling/10 || hi < ceiling*9/10 {
			t.Errorf("ceiling %v: delays spanned only [%v, %v]", ceiling, lo, hi)
		}
	}
}

func TestBackoffResetsOnlyAfterAStableConnection(t *testing.T) {
	cases := map[string]struct {
		upFor time.Duration
		reset bool
		want  time.Duration
	}{
		"a dial that failed":                       {upFor: 0, want: 8 * time.Second},
		"a connection dropped after 29s":           {upFor: 29 * time.Second, want: 8 * time.Second},
		"a connection that stayed up for 30s":      {upFor: 30 * time.Second, want: time.Second},
		"refused credentials reset it in any case": {upFor: 0, reset: true, want: time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackoff(time.Second, 30*time.Second)
			b.rand = func(n int64) int64 { return n - 1 }
			for range 3 { // 1s, 2s, 4s
				b.next()
			}
			b.ended(tc.upFor)
			if tc.reset {
				b.reset()
			}
			if got := b.next(); got != tc.want {
				t.Errorf("next delay = %v, want %v", got, tc.want)
			}
		})
	}
}
