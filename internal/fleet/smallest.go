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

import "slices"

// smallest keeps the limit smallest of the items offered to it, by cmp, in O(n log limit) time
// and O(limit) space: a status lists the first 100 of 10,000 satellites by name, and sorting all
// of them on every report cost more than the rest of the report together.
type smallest[T any] struct {
	limit   int
	cmp     func(x, y T) int
	heap    []T // a max-heap by cmp: heap[0] is the largest kept
	offered int
}

func newSmallest[T any](limit int, cmp func(x, y T) int) *smallest[T] {
	return &smallest[T]{limit: limit, cmp: cmp}
}

// offer counts v and keeps it if it is among the limit smallest so far.
func (s *smallest[T]) offer(v T) {
	s.offered++
	switch {
	case len(s.heap) < s.limit:
		s.heap = append(s.heap, v)
		s.up(len(s.heap) - 1)
	case s.limit > 0 && s.cmp(v, s.heap[0]) < 0:
		s.heap[0] = v
		s.down(0)
	}
}

// sorted returns the kept items in order, and whether more were offered than kept.
func (s *smallest[T]) sorted() (items []T, truncated bool) {
	slices.SortFunc(s.heap, s.cmp)
	return slices.Clip(s.heap), s.offered > len(s.heap)
}

func (s *smallest[T]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if s.cmp(s.heap[i], s.heap[parent]) <= 0 {
			return
		}
		s.heap[i], s.heap[parent] = s.heap[parent], s.heap[i]
		i = parent
	}
}

func (s *smallest[T]) down(i int) {
	for {
		largest := i
		for _, child := range []int{2*i + 1, 2*i + 2} {
			if child < len(s.heap) && s.cmp(s.heap[child], s.heap[largest]) > 0 {
				largest = child
			}
		}
		if largest == i {
			return
		}
		s.heap[i], s.heap[largest] = s.heap[largest], s.heap[i]
		i = largest
	}
}
