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

package leadership

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
)

// TestElectorRunsTerms runs client-go's elector on a Lease in memory through what a replica
// meets: a first term, an outage that ends it and the return that continues it, another
// replica that takes the Lease over, and the stop that releases it. Each step waits for the
// callback it expects, however slowly the machine runs.
func TestElectorRunsTerms(t *testing.T) {
	inner := &memoryLock{identity: "me"}
	calls := make(chan string, 100)
	e := newElector(inner, clock.RealClock{}, Options{
		Namespace: "test", Name: "lease",
		// A renewal fails only when the test makes it: the deadline is far longer than a call
		// to the Lease in memory takes, even on a busy machine.
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond,
	}, Callbacks{
		StartedLeading: func(continued bool) { calls <- fmt.Sprintf("started continued=%v", continued) },
		StoppedLeading: func() { calls <- "stopped" },
		OtherHolder:    func(holder string) { calls <- "other " + holder },
	}, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Start(ctx) }()
	expect := func(want string) {
		t.Helper()
		timeout := time.After(time.Minute)
		for {
			select {
			case got := <-calls:
				if got == want {
					return
				}
				if got == "other other" && want != got {
					continue // reported on every read while the other replica holds the Lease
				}
				t.Fatalf("callback %q, want %q", got, want)
			case <-timeout:
				t.Fatalf("no callback %q within a minute", want)
			}
		}
	}

	expect("started continued=false")
	if !e.Leading() || inner.holder() != "me" {
		t.Fatalf("leading %v, Lease held by %q", e.Leading(), inner.holder())
	}
	first := e.TermStart()
	if first.IsZero() {
		t.Error("the first term has no start")
	}

	inner.setDown(true)
	expect("stopped")
	if e.Leading() {
		t.Error("still leading after the term ended")
	}
	inner.setDown(false)
	expect("started continued=true")
	if !e.TermStart().After(first) {
		t.Errorf("the second term started at %v, not after the first (%v)", e.TermStart(), first)
	}
	if inner.holder() != "me" {
		t.Errorf("the Lease is held by %q after the outage, want me", inner.holder())
	}

	// Another replica takes the Lease (as after a partition): this one sees it and steps down,
	// and takes the Lease once the other stops renewing it.
	inner.set(rl.LeaderElectionRecord{HolderIdentity: "other", LeaseDurationSeconds: 3, LeaderTransitions: 7,
		AcquireTime: metav1.Now(), RenewTime: metav1.Now()})
	expect("other other")
	expect("stopped")
	expect("started continued=false")

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start returned %v", err)
	}
	if inner.holder() != "" {
		t.Errorf("the Lease is held by %q after the process stopped, want it released", inner.holder())
	}
}
