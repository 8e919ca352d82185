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
	"testing"

	"github.com/google/go-cmp/cmp"
)

// play applies ops to b: "+id" buffers a result, "-id" acknowledges one.
func play(b *resultBuffer, ops []string) {
	for _, op := range ops {
		switch id := op[1:]; op[0] {
		case '+':
			b.add(id, []byte(`{"id":"`+id+`"}`))
		case '-':
			b.ack([]string{id})
		}
	}
}

func ids(ps []pending) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.id)
	}
	return out
}

func TestResultBufferBoundAndAck(t *testing.T) {
	cases := map[string]struct {
		limit       int
		ops         []string
		wantPending []string
		wantDropped uint64
	}{
		"within the bound, everything is kept in order": {
			limit: 3, ops: []string{"+a", "+b", "+c"}, wantPending: []string{"a", "b", "c"},
		},
		"a full buffer drops the oldest and counts them": {
			limit: 3, ops: []string{"+a", "+b", "+c", "+d", "+e"}, wantPending: []string{"c", "d", "e"}, wantDropped: 2,
		},
		"an ack removes exactly the acknowledged results": {
			limit: 5, ops: []string{"+a", "+b", "+c", "+d", "-b", "-d"}, wantPending: []string{"a", "c"},
		},
		"unknown and repeated acks are ignored": {
			limit: 5, ops: []string{"+a", "+b", "-x", "-b", "-b"}, wantPending: []string{"a"},
		},
		"the late ack of a dropped result is ignored": {
			limit: 2, ops: []string{"+a", "+b", "+c", "-a"}, wantPending: []string{"b", "c"}, wantDropped: 1,
		},
		"acks make room, so nothing is dropped": {
			limit: 2, ops: []string{"+a", "+b", "-a", "+c", "-b", "+d"}, wantPending: []string{"c", "d"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newResultBuffer(tc.limit)
			play(b, tc.ops)
			if diff := cmp.Diff(tc.wantPending, ids(b.after(0, 100))); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
			if got := b.len(); got != len(tc.wantPending) {
				t.Errorf("len = %d, want %d", got, len(tc.wantPending))
			}
			if got := b.droppedTotal(); got != tc.wantDropped {
				t.Errorf("dropped = %d, want %d", got, tc.wantDropped)
			}
		})
	}
}

func TestResultBufferResendOrder(t *testing.T) {
	// Results get seq 1, 2, 3... in the order they are added: a=1, b=2, c=3, d=4.
	cases := map[string]struct {
		ops    []string
		cursor uint64
		limit  int
		want   []string
	}{
		"a new session resends every unacknowledged result, oldest first": {
			ops: []string{"+a", "+b", "+c", "+d", "-b"}, cursor: 0, limit: 100, want: []string{"a", "c", "d"},
		},
		"a session sends only what came after its cursor": {
			ops: []string{"+a", "+b", "+c", "+d"}, cursor: 2, limit: 100, want: []string{"c", "d"},
		},
		"a cursor on an acknowledged result still finds the next one": {
			ops: []string{"+a", "+b", "+c", "-b"}, cursor: 2, limit: 100, want: []string{"c"},
		},
		"a cursor before dropped results starts at the oldest kept": {
			ops: []string{"+a", "+b", "+c", "+d"}, cursor: 0, limit: 100, want: []string{"a", "b", "c", "d"},
		},
		"nothing after the newest": {
			ops: []string{"+a", "+b"}, cursor: 2, limit: 100, want: []string{},
		},
		"a batch is bounded": {
			ops: []string{"+a", "+b", "+c", "+d"}, cursor: 1, limit: 2, want: []string{"b", "c"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newResultBuffer(10)
			play(b, tc.ops)
			if diff := cmp.Diff(tc.want, ids(b.after(tc.cursor, tc.limit))); diff != "" {
				t.Errorf("after(%d) (-want +got):\n%s", tc.cursor, diff)
			}
		})
	}
}

func TestResultBufferDropsBeforeTheCursor(t *testing.T) {
	// A session sent a and b; the buffer then overflows while the ack is lost in transit.
	b := newResultBuffer(2)
	play(b, []string{"+a", "+b"})
	cursor := b.after(0, 100)[1].seq
	play(b, []string{"+c", "+d"})
	if diff := cmp.Diff([]string{"c", "d"}, ids(b.after(cursor, 100))); diff != "" {
		t.Errorf("after the cursor (-want +got):\n%s", diff)
	}
	if got := b.droppedTotal(); got != 2 {
		t.Errorf("dropped = %d, want 2", got)
	}
}
