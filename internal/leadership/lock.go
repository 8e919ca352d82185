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
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
)

// errKeepClaim refuses the release of the Lease at the end of a term that the process outlives.
var errKeepClaim = fmt.Errorf("the Lease is released only when the process stops")

// lock is the Lease as client-go's elector uses it, with three rules of this package's own:
//   - a term that ends while the process goes on does not release the Lease: whoever held it
//     last is the one whose sessions survived, and must be able to win it back at once;
//   - for one lease duration after the API server answers again, the Lease is not taken from
//     another holder: every replica's clock saw that holder's Lease expire during the outage,
//     and without this rule the quickest standby would win and move every satellite;
//   - seeing another holder is reported, so that a replica that kept its sessions through an
//     outage hands them over to the replica that leads now.
type lock struct {
	rl.Interface
	clock         clock.PassiveClock
	leaseDuration time.Duration
	// stopping reports whether the process is stopping, when a release is welcome.
	stopping func() bool
	// otherHolder is called, outside the lock, when the Lease is seen held by another replica.
	otherHolder func(holder string)

	mu sync.Mutex
	// answered is false after a read of the Lease failed, until one succeeds; answeredSince is
	// when the API server last began to answer again (or first did).
	answered      bool
	answeredSince time.Time
	// seen is the Lease as this process last read or wrote it.
	seen *rl.LeaderElectionRecord
}

// Get reads the Lease, and notes whether the API server answered and who holds the Lease.
func (l *lock) Get(ctx context.Context) (*rl.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	now := l.clock.Now()
	l.mu.Lock()
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		l.answered = false
	case !l.answered:
		l.answered, l.answeredSince = true, now
	}
	if err == nil {
		seen := *rec
		l.seen = &seen
	}
	l.mu.Unlock()
	if err == nil && rec.HolderIdentity != "" && rec.HolderIdentity != l.Identity() {
		l.otherHolder(rec.HolderIdentity)
	}
	return rec, raw, err
}

// Create writes a new Lease.
func (l *lock) Create(ctx context.Context, rec rl.LeaderElectionRecord) error {
	if err := l.Interface.Create(ctx, rec); err != nil {
		return err
	}
	l.wrote(rec)
	return nil
}

// Update renews or takes the Lease, or releases it, within the rules above.
func (l *lock) Update(ctx context.Context, rec rl.LeaderElectionRecord) error {
	if rec.HolderIdentity == "" && !l.stopping() {
		return errKeepClaim
	}
	if err := l.mayTake(rec.HolderIdentity); err != nil {
		return err
	}
	if err := l.Interface.Update(ctx, rec); err != nil {
		return err
	}
	l.wrote(rec)
	return nil
}

// mayTake refuses to take the Lease from another holder until the API server has answered for
// one lease duration: by then a holder that survived the outage has renewed it.
func (l *lock) mayTake(holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if holder == "" || l.seen == nil || l.seen.HolderIdentity == "" || l.seen.HolderIdentity == holder {
		return nil
	}
	if wait := l.answeredSince.Add(l.leaseDuration).Sub(l.clock.Now()); wait > 0 {
		return fmt.Errorf("leaving the Lease to %s for %s more: the API server answers again since %s, and its holder may renew it",
			l.seen.HolderIdentity, wait.Round(time.Millisecond), l.answeredSince.Format(time.RFC3339))
	}
	return nil
}

func (l *lock) wrote(rec rl.LeaderElectionRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = &rec
}

// transitions returns the Lease's leaderTransitions as this process last read or wrote it, 0
// before it did.
func (l *lock) transitions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		return 0
	}
	return l.seen.LeaderTransitions
}
