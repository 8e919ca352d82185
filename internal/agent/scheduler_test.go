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
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

func assignment(id string, intervalSeconds int, url string) protocol.Assignment {
	return protocol.Assignment{
		ConfigID: id, SystemID: "payments-api", StrategyID: "http", IntervalSeconds: intervalSeconds,
		Config: json.RawMessage(`{"timeoutMs":1000,"http":{"url":"` + url + `"}}`),
	}
}

func TestDiffAssignments(t *testing.T) {
	a := assignment("a", 30, "https://a.example.com/")
	b := assignment("b", 30, "https://b.example.com/")
	with := func(x protocol.Assignment, change func(*protocol.Assignment)) protocol.Assignment {
		change(&x)
		return x
	}
	running := map[string]protocol.Assignment{"a": a, "b": b}
	cases := map[string]struct {
		next []protocol.Assignment
		want diff
	}{
		"the same list keeps everything": {
			next: []protocol.Assignment{b, a},
			want: diff{Keep: []string{"a", "b"}},
		},
		"a changed interval restarts": {
			next: []protocol.Assignment{with(a, func(x *protocol.Assignment) { x.IntervalSeconds = 15 }), b},
			want: diff{Restart: []string{"a"}, Keep: []string{"b"}},
		},
		"changed config bytes restart": {
			next: []protocol.Assignment{assignment("a", 30, "https://a.example.com/v2"), b},
			want: diff{Restart: []string{"a"}, Keep: []string{"b"}},
		},
		"a changed system restarts": {
			next: []protocol.Assignment{with(a, func(x *protocol.Assignment) { x.SystemID = "orders" }), b},
			want: diff{Restart: []string{"a"}, Keep: []string{"b"}},
		},
		"a changed strategy restarts": {
			next: []protocol.Assignment{with(a, func(x *protocol.Assignment) { x.StrategyID = "tcp" }), b},
			want: diff{Restart: []string{"a"}, Keep: []string{"b"}},
		},
		"a missing assignment stops, a new one starts": {
			next: []protocol.Assignment{a, assignment("c", 30, "https://c.example.com/")},
			want: diff{Start: []string{"c"}, Stop: []string{"b"}, Keep: []string{"a"}},
		},
		"an empty list stops everything": {
			next: nil,
			want: diff{Stop: []string{"a", "b"}},
		},
		"of duplicate configIds the last wins": {
			next: []protocol.Assignment{with(a, func(x *protocol.Assignment) { x.IntervalSeconds = 15 }), a, b},
			want: diff{Keep: []string{"a", "b"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, diffAssignments(running, tc.next)); d != "" {
				t.Errorf("diff (-want +got):\n%s", d)
			}
		})
	}
}

// run is one run of a check as the test's runner saw it.
type run struct {
	ID     string
	URL    string
	Offset time.Duration // since the test's start
}

// fakeSchedule drives a scheduler with a fake clock and records its runs.
type fakeSchedule struct {
	t      *testing.T
	clock  *clocktesting.FakeClock
	start  time.Time
	s      *scheduler
	runs   chan run
	phases map[string]time.Duration // the next start's phase, by configId
}

func newFakeSchedule(t *testing.T) *fakeSchedule {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f := &fakeSchedule{t: t, clock: clocktesting.NewFakeClock(start), start: start, runs: make(chan run, 1000), phases: map[string]time.Duration{}}
	f.s = newScheduler(f.clock, func(a protocol.Assignment) func(context.Context) {
		cfg, err := protocol.DecodeCheckConfig(a.Config)
		if err != nil {
			t.Errorf("config of %s: %v", a.ConfigID, err)
		}
		return func(context.Context) {
			f.runs <- run{ID: a.ConfigID, URL: cfg.HTTP.URL, Offset: f.clock.Since(f.start)}
		}
	})
	f.s.phase = func(a protocol.Assignment) time.Duration {
		p, ok := f.phases[a.ConfigID]
		if !ok || p >= interval(a) {
			t.Fatalf("no phase below the interval for %s", a.ConfigID)
		}
		return p
	}
	t.Cleanup(f.s.stop)
	return f
}

// settle waits until every check waits on its timer, so that a step of the clock fires exactly
// the runs that are due.
func (f *fakeSchedule) settle() {
	f.t.Helper()
	want := f.s.len()
	deadline := time.Now().Add(5 * time.Second)
	for f.clock.Waiters() != want {
		if time.Now().After(deadline) {
			f.t.Fatalf("%d checks, but %d wait on the clock", want, f.clock.Waiters())
		}
		time.Sleep(time.Millisecond)
	}
}

// advance steps the clock second by second for d and returns the runs that happened.
func (f *fakeSchedule) advance(d time.Duration) []run {
	f.t.Helper()
	f.settle()
	for range int(d / time.Second) {
		f.clock.Step(time.Second)
		f.settle()
	}
	got := []run{}
	for {
		select {
		case r := <-f.runs:
			got = append(got, r)
		default:
			return got
		}
	}
}

func TestSchedulerRunsEachCheckAtItsIntervalFromItsPhase(t *testing.T) {
	f := newFakeSchedule(t)
	f.phases = map[string]time.Duration{"a": 3 * time.Second, "b": time.Second}
	f.s.apply([]protocol.Assignment{assignment("a", 10, "https://a/"), assignment("b", 5, "https://b/")})

	want := []run{
		{"b", "https://b/", 1 * time.Second},
		{"a", "https://a/", 3 * time.Second},
		{"b", "https://b/", 6 * time.Second},
		{"b", "https://b/", 11 * time.Second},
		{"a", "https://a/", 13 * time.Second},
		{"b", "https://b/", 16 * time.Second},
	}
	if d := cmp.Diff(want, f.advance(16*time.Second)); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
}

func TestSchedulerAppliesAConfigChangeAsADiff(t *testing.T) {
	f := newFakeSchedule(t)
	f.phases = map[string]time.Duration{"kept": 3 * time.Second, "changed": 5 * time.Second, "removed": 7 * time.Second}
	f.s.apply([]protocol.Assignment{
		assignment("kept", 10, "https://kept/"),
		assignment("changed", 10, "https://old/"),
		assignment("removed", 10, "https://removed/"),
	})
	if d := cmp.Diff([]run{{"kept", "https://kept/", 3 * time.Second}}, f.advance(4*time.Second)); d != "" {
		t.Fatalf("runs before the change (-want +got):\n%s", d)
	}

	// At 4s: "changed" gets a new URL, "removed" goes, "added" comes. The restarted and the new
	// check start from a new phase; "kept" stays on its own.
	f.phases = map[string]time.Duration{"changed": time.Second, "added": 2 * time.Second}
	got := f.s.apply([]protocol.Assignment{
		assignment("kept", 10, "https://kept/"),
		assignment("changed", 10, "https://new/"),
		assignment("added", 10, "https://added/"),
	})
	if d := cmp.Diff(diff{Start: []string{"added"}, Restart: []string{"changed"}, Stop: []string{"removed"}, Keep: []string{"kept"}}, got); d != "" {
		t.Errorf("diff (-want +got):\n%s", d)
	}
	want := []run{
		{"changed", "https://new/", 5 * time.Second},
		{"added", "https://added/", 6 * time.Second},
		{"kept", "https://kept/", 13 * time.Second},
		{"changed", "https://new/", 15 * time.Second},
		{"added", "https://added/", 16 * time.Second},
	}
	// Without the change, "changed" would have run at 5s with the old URL and "removed" at 7s and 17s.
	if d := cmp.Diff(want, f.advance(14*time.Second)); d != "" {
		t.Errorf("runs after the change (-want +got):\n%s", d)
	}
}

func TestSchedulerSkipsTheSlotsASlowRunMissed(t *testing.T) {
	f := newFakeSchedule(t)
	f.phases = map[string]time.Duration{"slow": 0}
	runs := 0
	f.s.newRunner = func(a protocol.Assignment) func(context.Context) {
		return func(context.Context) {
			runs++
			if runs == 1 {
				f.clock.Step(12 * time.Second) // the first run outlasts two intervals of 5s
			}
			f.runs <- run{ID: a.ConfigID, Offset: f.clock.Since(f.start)}
		}
	}
	f.s.apply([]protocol.Assignment{assignment("slow", 5, "https://slow/")})
	// Due at 0s, 5s, 10s, 15s...: the run at 0s ends at 12s, so 5s and 10s are skipped, not
	// caught up in a burst, and the next run keeps the phase.
	want := []run{{"slow", "", 12 * time.Second}, {"slow", "", 15 * time.Second}, {"slow", "", 20 * time.Second}}
	if d := cmp.Diff(want, f.advance(8*time.Second)); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
}

func TestSchedulerStopEndsEveryCheck(t *testing.T) {
	f := newFakeSchedule(t)
	f.phases = map[string]time.Duration{"a": time.Second, "b": 2 * time.Second}
	f.s.apply([]protocol.Assignment{assignment("a", 5, "https://a/"), assignment("b", 5, "https://b/")})
	f.settle()
	f.s.stop()
	if got := f.clock.Waiters(); got != 0 {
		t.Errorf("%d checks still wait on the clock after stop", got)
	}
	f.clock.Step(10 * time.Second)
	if d := cmp.Diff(diff{}, f.s.apply([]protocol.Assignment{assignment("c", 5, "https://c/")})); d != "" {
		t.Errorf("apply after stop (-want +got):\n%s", d)
	}
	if got := f.s.len(); got != 0 {
		t.Errorf("%d checks scheduled after stop", got)
	}
	select {
	case r := <-f.runs:
		t.Errorf("a stopped check ran: %+v", r)
	default:
	}
}
