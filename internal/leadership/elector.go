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
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
)

// Options name the Lease and time the election; zero durations take client-go's usual values,
// which are controller-runtime's too.
type Options struct {
	Namespace, Name string
	// LeaseDuration is how long a Lease lasts unrenewed before another replica may take it.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before its term ends.
	RenewDeadline time.Duration
	// RetryPeriod is the time between two tries to win or renew the Lease.
	RetryPeriod time.Duration
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.LeaseDuration, 15*time.Second)
	def(&o.RenewDeadline, 10*time.Second)
	def(&o.RetryPeriod, 2*time.Second)
}

// Callbacks are what a term changes. The elector calls StartedLeading and StoppedLeading one at
// a time, in that order for each term; they must return quickly.
type Callbacks struct {
	// StartedLeading begins a term. continued is true when nobody else won the Lease since this
	// process's previous term, so that what the process saw meanwhile is the whole story.
	StartedLeading func(continued bool)
	// StoppedLeading ends a term.
	StoppedLeading func()
	// OtherHolder is called whenever the Lease is seen held by another replica, which then
	// leads or did since this process last held the Lease.
	OtherHolder func(holder string)
}

// Elector runs terms of leadership for as long as the process runs. It is a manager Runnable
// that needs no leader election of the manager's own.
type Elector struct {
	opts Options
	cb   Callbacks
	lock *lock
	log  logr.Logger

	leading atomic.Bool

	// termStart is when the current or last term began, in Unix nanoseconds.
	termStart atomic.Int64

	// termMu orders the callbacks of a term's start and end.
	termMu sync.Mutex
	// lastTransitions is the Lease's leaderTransitions during this process's last term, and
	// hadTerm whether there was one.
	lastTransitions int
	hadTerm         bool
}

// New returns an Elector for the Lease opts name, read and written with cfg's credentials.
func New(cfg *rest.Config, opts Options, cb Callbacks, log logr.Logger) (*Elector, error) {
	if opts.Namespace == "" || opts.Name == "" {
		return nil, errors.New("the leader Lease needs a namespace and a name")
	}
	opts.defaults()
	if opts.RenewDeadline >= opts.LeaseDuration || opts.RetryPeriod >= opts.RenewDeadline {
		return nil, fmt.Errorf("leader election needs retry period (%s) < renew deadline (%s) < lease duration (%s)",
			opts.RetryPeriod, opts.RenewDeadline, opts.LeaseDuration)
	}
	identity, err := NewIdentity()
	if err != nil {
		return nil, err
	}
	// Each request is bounded by half the renew deadline, so that a renewal is tried twice
	// before the term ends, and a read of an API server that stopped answering cannot hang.
	inner, err := rl.NewFromKubeconfig(rl.LeasesResourceLock, opts.Namespace, opts.Name,
		rl.ResourceLockConfig{Identity: identity}, rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election"), opts.RenewDeadline)
	if err != nil {
		return nil, fmt.Errorf("creating the leader Lease's lock: %w", err)
	}
	return newElector(inner, clock.RealClock{}, opts, cb, log), nil
}

func newElector(inner rl.Interface, clk clock.PassiveClock, opts Options, cb Callbacks, log logr.Logger) *Elector {
	e := &Elector{opts: opts, cb: cb, log: log}
	e.lock = &lock{
		Interface:     inner,
		clock:         clk,
		leaseDuration: opts.LeaseDuration,
		stopping:      func() bool { return false },
		otherHolder:   cb.OtherHolder,
	}
	return e
}

// NewIdentity names this process in the Leases it holds: the host (the pod's name in a
// cluster) and a UUID, so that a restarted pod of the same name is a new holder, as
// controller-runtime does.
func NewIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("naming the leader election's identity: %w", err)
	}
	return host + "_" + string(uuid.NewUUID()), nil
}

// NeedLeaderElection is false: the elector is what elects.
func (e *Elector) NeedLeaderElection() bool { return false }

// Leading reports whether a term is running.
func (e *Elector) Leading() bool { return e.leading.Load() }

// TermStart is when the current or last term began; zero before the first.
func (e *Elector) TermStart() time.Time {
	if ns := e.termStart.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Identity is this process's name in the Lease.
func (e *Elector) Identity() string { return e.lock.Identity() }

// Start runs terms until ctx is done, then releases the Lease if it holds it.
func (e *Elector) Start(ctx context.Context) error {
	e.lock.stopping = func() bool { return ctx.Err() != nil }
	e.log.Info("Electing a leader", "lease", e.lock.Describe(), "identity", e.Identity())
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:          e.lock,
			LeaseDuration: e.opts.LeaseDuration,
			RenewDeadline: e.opts.RenewDeadline,
			RetryPeriod:   e.opts.RetryPeriod,
			// The lock refuses a release until the process stops.
			ReleaseOnCancel: true,
			Name:            e.opts.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: e.begin,
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			return fmt.Errorf("configuring leader election: %w", err)
		}
		// Run returns when the term ends, or before one began when ctx is done.
		le.Run(ctx)
		e.end(ctx)
	}
	return nil
}

// begin starts a term, unless it ended already (client-go calls it on a goroutine of its own).
func (e *Elector) begin(term context.Context) {
	e.termMu.Lock()
	defer e.termMu.Unlock()
	if term.Err() != nil {
		return
	}
	transitions := e.lock.transitions()
	continued := e.hadTerm && transitions == e.lastTransitions
	e.hadTerm, e.lastTransitions = true, transitions
	e.termStart.Store(e.lock.clock.Now().UnixNano())
	e.leading.Store(true)
	e.log.Info("Started leading", "continued", continued)
	e.cb.StartedLeading(continued)
}

// end ends the term, if one began.
func (e *Elector) end(ctx context.Context) {
	e.termMu.Lock()
	defer e.termMu.Unlock()
	if !e.leading.Swap(false) {
		return
	}
	if ctx.Err() == nil {
		e.log.Info("Stopped leading: the Lease was not renewed within the renew deadline; sessions stay open, and this replica tries to lead again")
	}
	e.cb.StoppedLeading()
}
