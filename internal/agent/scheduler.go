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
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// scheduler runs each assignment in its own goroutine at its interval, independently of the
// connection: checks go on while the agent is disconnected, and their results wait in the buffer.
type scheduler struct {
	clock clock.Clock
	// newRunner prepares an assignment once (decoding its config) and returns one run of it.
	newRunner func(protocol.Assignment) func(context.Context)
	// phase returns the delay of an assignment's first run, in [0, interval): checks that start
	// together (on connect) must not all run in the same instant.
	phase func(protocol.Assignment) time.Duration

	mu      sync.Mutex
	base    context.Context
	cancel  context.CancelFunc
	stopped bool
	checks  map[string]*scheduledCheck // by configId
}

// scheduledCheck is a running assignment.
type scheduledCheck struct {
	assignment protocol.Assignment
	cancel     context.CancelFunc
	done       chan struct{}
}

func newScheduler(clk clock.Clock, newRunner func(protocol.Assignment) func(context.Context)) *scheduler {
	base, cancel := context.WithCancel(context.Background())
	return &scheduler{
		clock:     clk,
		newRunner: newRunner,
		phase:     func(a protocol.Assignment) time.Duration { return rand.N(interval(a)) },
		base:      base,
		cancel:    cancel,
		checks:    map[string]*scheduledCheck{},
	}
}

// diff is how a new list of assignments differs from the running one, by configId, each sorted.
type diff struct {
	// Start are new assignments.
	Start []string
	// Restart are assignments of which any field, or the config's bytes, changed.
	Restart []string
	// Stop are assignments no longer in the list.
	Stop []string
	// Keep are unchanged assignments; they keep their schedule.
	Keep []string
}

// diffAssignments compares the running assignments with the next list (a full replacement, as
// config_updated is); of duplicate configIds in next, the last wins.
func diffAssignments(running map[string]protocol.Assignment, next []protocol.Assignment) diff {
	want := make(map[string]protocol.Assignment, len(next))
	for _, a := range next {
		want[a.ConfigID] = a
	}
	var d diff
	for id, a := range want {
		cur, ok := running[id]
		switch {
		case !ok:
			d.Start = append(d.Start, id)
		case sameAssignment(cur, a):
			d.Keep = append(d.Keep, id)
		default:
			d.Restart = append(d.Restart, id)
		}
	}
	for id := range running {
		if _, ok := want[id]; !ok {
			d.Stop = append(d.Stop, id)
		}
	}
	for _, ids := range []*[]string{&d.Start, &d.Restart, &d.Stop, &d.Keep} {
		slices.Sort(*ids)
	}
	return d
}

// sameAssignment compares every field; configs compare by bytes, which the manager writes
// deterministically, so an unchanged check is never restarted.
func sameAssignment(x, y protocol.Assignment) bool {
	return x.ConfigID == y.ConfigID && x.SystemID == y.SystemID && x.StrategyID == y.StrategyID &&
		x.IntervalSeconds == y.IntervalSeconds && bytes.Equal(x.Config, y.Config)
}

// apply makes the running assignments those of next: changed ones restart with a new phase,
// removed ones stop, new ones start, unchanged ones keep running untouched. Stopped checks have
// ended when apply returns, so none of them reports a result afterwards.
func (s *scheduler) apply(next []protocol.Assignment) diff {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return diff{}
	}
	running := make(map[string]protocol.Assignment, len(s.checks))
	for id, c := range s.checks {
		running[id] = c.assignment
	}
	d := diffAssignments(running, next)
	ending := slices.Concat(d.Stop, d.Restart)
	for _, id := range ending {
		s.checks[id].cancel()
	}
	for _, id := range ending {
		<-s.checks[id].done
		delete(s.checks, id)
	}
	want := make(map[string]protocol.Assignment, len(next))
	for _, a := range next {
		want[a.ConfigID] = a
	}
	for _, id := range slices.Concat(d.Start, d.Restart) {
		s.startLocked(want[id])
	}
	return d
}

// len returns how many assignments are scheduled.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.checks)
}

// stop ends every check and waits for them; apply does nothing afterwards.
func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.cancel()
	for id, c := range s.checks {
		<-c.done
		delete(s.checks, id)
	}
}

func (s *scheduler) startLocked(a protocol.Assignment) {
	ctx, cancel := context.WithCancel(s.base)
	c := &scheduledCheck{assignment: a, cancel: cancel, done: make(chan struct{})}
	s.checks[a.ConfigID] = c
	first := s.clock.Now().Add(s.phase(a))
	go s.loop(ctx, c, s.newRunner(a), first, interval(a))
}

// interval returns how often an assignment runs; the decoder bounds intervalSeconds already, the
// floor only keeps a foreign manager's 0 from spinning.
func interval(a protocol.Assignment) time.Duration {
	return max(time.Duration(a.IntervalSeconds)*time.Second, time.Second)
}

// loop runs a check at first and every interval after it. Runs are due at fixed times, so a slow
// run does not shift the schedule; a run that outlasts its interval skips the slots it missed
// instead of catching up in a burst.
func (s *scheduler) loop(ctx context.Context, c *scheduledCheck, run func(context.Context), next time.Time, every time.Duration) {
	defer close(c.done)
	for {
		if wait := next.Sub(s.clock.Now()); wait > 0 {
			t := s.clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		} else if ctx.Err() != nil {
			return
		}
		run(ctx)
		next = next.Add(every)
		if now := s.clock.Now(); !next.After(now) {
			next = next.Add((now.Sub(next)/every + 1) * every)
		}
	}
}
