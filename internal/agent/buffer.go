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
	"container/list"
	"sync"
)

// pending is a result waiting for the manager's acknowledgement, kept encoded so that a resend
// costs no encoding.
type pending struct {
	// seq orders the results as they were produced; a session sends those after its cursor.
	seq   uint64
	id    string
	frame []byte
}

// resultBuffer keeps the results not yet acknowledged, oldest first, up to a bound beyond which
// the oldest are dropped: an agent cut off from its manager for long keeps its newest results
// and its memory bounded. It is safe for concurrent use.
type resultBuffer struct {
	mu      sync.Mutex
	limit   int
	order   *list.List // of *pending, by seq
	byID    map[string]*list.Element
	lastSeq uint64
	dropped uint64
}

func newResultBuffer(limit int) *resultBuffer {
	return &resultBuffer{limit: limit, order: list.New(), byID: map[string]*list.Element{}}
}

// add appends a result and returns how many of the oldest it dropped to stay within the bound.
func (b *resultBuffer) add(id string, frame []byte) (dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.order.Len() >= b.limit {
		oldest := b.order.Front()
		delete(b.byID, b.order.Remove(oldest).(*pending).id)
		dropped++
	}
	b.dropped += uint64(dropped)
	b.lastSeq++
	b.byID[id] = b.order.PushBack(&pending{seq: b.lastSeq, id: id, frame: frame})
	return dropped
}

// ack removes the acknowledged results; unknown IDs (acknowledged before, or dropped) are ignored.
// It returns how many it removed.
func (b *resultBuffer) ack(ids []string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, id := range ids {
		if e, ok := b.byID[id]; ok {
			b.order.Remove(e)
			delete(b.byID, id)
			n++
		}
	}
	return n
}

// after returns, oldest first, at most limit results produced after seq: a session that starts
// with seq 0 resends everything unacknowledged, in order.
func (b *resultBuffer) after(seq uint64, limit int) []pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []pending
	// Newly produced results are at the back; walk back to the first one past seq.
	e := b.order.Back()
	for e != nil && e.Value.(*pending).seq > seq {
		e = e.Prev()
	}
	if e == nil {
		e = b.order.Front()
	} else {
		e = e.Next()
	}
	for ; e != nil && len(out) < limit; e = e.Next() {
		out = append(out, *e.Value.(*pending))
	}
	return out
}

// len returns how many results wait for an acknowledgement.
func (b *resultBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.order.Len()
}

// droppedTotal returns how many results were dropped for want of room.
func (b *resultBuffer) droppedTotal() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
