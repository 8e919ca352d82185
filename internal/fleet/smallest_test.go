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
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSmallestMatchesSortAndCut checks the bounded selection against sorting everything and
// cutting, over random inputs with duplicates, for limits below, at and above the input's size.
func TestSmallestMatchesSortAndCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		n, limit := rng.IntN(300), rng.IntN(120)
		in := make([]int, n)
		for i := range in {
			in[i] = rng.IntN(200)
		}
		s := newSmallest(limit, cmp.Compare[int])
		for _, v := range in {
			s.offer(v)
		}
		got, truncated := s.sorted()
		want := slices.Sorted(slices.Values(in))
		want = want[:min(limit, len(want))]
		if !slices.Equal(got, want) || truncated != (n > limit) {
			t.Fatalf("round %d (n %d, limit %d): got %v truncated %v, want %v truncated %v", round, n, limit, got, truncated, want, n > limit)
		}
	}
}
