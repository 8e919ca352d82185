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
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
	clocktesting "k8s.io/utils/clock/testing"
)

// memoryLock is a Lease in memory, for unit tests: it fails every call while down.
type memoryLock struct {
	identity string

	mu  sync.Mutex
	rec *rl.LeaderElectionRecord
	// version is the Lease's resourceVersion, and read the one this client last read or wrote:
	// an update of a Lease that changed since fails, as the API server's optimistic lock does.
	version, read int
	down          bool
}

var errDown = errors.New("connection refused")

func (m *memoryLock) Get(context.Context) (*rl.LeaderElectionRecord, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, nil, errDown
	}
	if m.rec == nil {
		return nil, nil, apierrors.NewNotFound(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "lease")
	}
	m.read = m.version
	rec := *m.rec
	raw, _ := json.Marshal(rec)
	return &rec, raw, nil
}

func (m *memoryLock) Create(_ context.Context, rec rl.LeaderElectionRecord) error {
	return m.write(rec, true)
}

func (m *memoryLock) Update(_ context.Context, rec rl.LeaderElectionRecord) error {
	return m.write(rec, false)
}

func (m *memoryLock) write(rec rl.LeaderElectionRecord, create bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	gr := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	switch {
	case m.down:
		return errDown
	case create && m.rec != nil:
		return apierrors.NewAlreadyExists(gr, "lease")
	case !create && m.read != m.version:
		return apierrors.NewConflict(gr, "lease", errors.New("the object has been modified"))
	}
	m.rec = &rec
	m.version++
	m.read = m.version
	return nil
}

// set replaces the Lease, as another replica's write does.
func (m *memoryLock) set(rec rl.LeaderElectionRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec = &rec
	m.version++
}

func (m *memoryLock) setDown(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

func (m *memoryLock) holder() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec == nil {
		return ""
	}
	return m.rec.HolderIdentity
}

func (m *memoryLock) RecordEvent(string) {}
func (m *memoryLock) Identity() string   { return m.identity }
func (m *memoryLock) Describe() string   { return "test/lease" }

func newTestLock(stopping *bool) (*lock, *memoryLock, *clocktesting.FakeClock, *[]string) {
	inner := &memoryLock{identity: "me"}
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	var others []string
	return &lock{
		Interface:     inner,
		clock:         clk,
		leaseDuration: 15 * time.Second,
		stopping:      func() bool { return *stopping },
		otherHolder:   func(h string) { others = append(others, h) },
	}, inner, clk, &others
}

func TestLockKeepsItsClaimUntilTheProcessStops(t *testing.T) {
	stopping := false
	l, inner, _, _ := newTestLock(&stopping)
	ctx := context.Background()
	if err := l.Create(ctx, rl.LeaderElectionRecord{HolderIdentity: "me"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, rl.LeaderElectionRecord{}); !errors.Is(err, errKeepClaim) {
		t.Errorf("a release while the process runs returned %v, want %v", err, errKeepClaim)
	}
	if inner.holder() != "me" {
		t.Errorf("the Lease is held by %q after a refused release, want me", inner.holder())
	}
	stopping = true
	if err := l.Update(ctx, rl.LeaderElectionRecord{}); err != nil {
		t.Errorf("a release of a stopping process failed: %v", err)
	}
	if inner.holder() != "" {
		t.Errorf("the Lease is held by %q after the release", inner.holder())
	}
}

func TestLockLeavesTheLeaseToItsHolderAfterAnOutage(t *testing.T) {
	stopping := false
	l, inner, clk, others := newTestLock(&stopping)
	ctx := context.Background()
	inner.set(rl.LeaderElectionRecord{HolderIdentity: "old-leader", LeaderTransitions: 3})

	inner.setDown(true)
	if _, _, err := l.Get(ctx); err == nil {
		t.Fatal("a read of a stopped API server succeeded")
	}
	clk.Step(45 * time.Second)
	inner.setDown(false)
	if rec, _, err := l.Get(ctx); err != nil || rec.HolderIdentity != "old-leader" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	if len(*others) != 1 || (*others)[0] != "old-leader" {
		t.Errorf("other holders reported: %v, want [old-leader]", *others)
	}
	take := rl.LeaderElectionRecord{HolderIdentity: "me", LeaderTransitions: 4}
	clk.Step(14 * time.Second)
	if err := l.Update(ctx, take); err == nil {
		t.Error("the Lease was taken from its holder within a lease duration of the API server's return")
	}
	clk.Step(time.Second)
	if err := l.Update(ctx, take); err != nil {
		t.Errorf("the Lease could not be taken a lease duration after the API server's return: %v", err)
	}
	// Renewing what it holds is never held back.
	if err := l.Update(ctx, take); err != nil {
		t.Errorf("renewing the Lease failed: %v", err)
	}
	if n := l.transitions(); n != 4 {
		t.Errorf("transitions = %d; want 4", n)
	}
}

func TestLockReportsOnlyOtherHolders(t *testing.T) {
	stopping := false
	l, inner, _, others := newTestLock(&stopping)
	ctx := context.Background()
	if _, _, err := l.Get(ctx); !apierrors.IsNotFound(err) {
		t.Fatalf("Get of no Lease = %v, want NotFound", err)
	}
	for _, holder := range []string{"me", ""} {
		inner.set(rl.LeaderElectionRecord{HolderIdentity: holder})
		if _, _, err := l.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(*others) != 0 {
		t.Errorf("reported other holders %v for a Lease held by this process or by nobody", *others)
	}
	// A released Lease is free at once: nobody holds it who might renew it.
	if err := l.Update(ctx, rl.LeaderElectionRecord{HolderIdentity: "me"}); err != nil {
		t.Errorf("taking a released Lease failed: %v", err)
	}
}
