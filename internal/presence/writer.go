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

package presence

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/internal/fleet"
)

// Writer writes the fleet's publications of presence into Leases. It keeps the latest
// publication of each satellite until it is written, so that a replica that cannot reach the
// API server keeps one pending write per satellite, never more, and catches up once the API
// answers again: the workqueue retries each with a backoff of at most maxRetryDelay.
type Writer struct {
	client        client.Client
	identity      string
	renewInterval time.Duration
	workers       int
	sessions      func() int
	written       func(fleet.Presence)
	log           logr.Logger
	queue         workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu      sync.Mutex
	entries map[types.NamespacedName]*entry
}

// entry is the latest publication of a satellite, and the number of the last one written.
type entry struct {
	latest  fleet.Presence
	written uint64
}

// maxRetryDelay bounds the backoff of a failed write: after an API server outage every
// pending Lease is written within it of the API's return.
const maxRetryDelay = 5 * time.Second

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Identity names this replica in the Leases it holds.
	Identity string
	// RenewInterval is the least time between two renewals of a presence by the fleet
	// (fleet.Options.RenewInterval); with the offline threshold it makes the Lease's duration.
	RenewInterval time.Duration
	// Workers is how many Leases are written at once; 0 means 16.
	Workers int
	// Sessions reports how many sessions this replica holds; nil means none. A replica that
	// shuts down writes on until they have all ended, within drainTimeout.
	Sessions func() int
	// Written is handed every publication with Acks once it is in the API server (Fleet.Written);
	// nil drops them.
	Written func(fleet.Presence)
}

// NewWriter returns a Writer that writes with c, which reads Leases from the manager's cache.
func NewWriter(c client.Client, opts WriterOptions, log logr.Logger) *Writer {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](50*time.Millisecond, maxRetryDelay)
	return &Writer{
		client:        c,
		identity:      opts.Identity,
		renewInterval: opts.RenewInterval,
		workers:       opts.Workers,
		sessions:      opts.Sessions,
		written:       opts.Written,
		log:           log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{
			Name: "presence",
		}),
		entries: map[types.NamespacedName]*entry{},
	}
}

// Publish takes a publication of the fleet; it returns at once, as the fleet calls it under its
// lock. A publication older than one already taken is dropped. The results it acknowledges
// carry over to the next publication written: that one's views hold them too.
func (w *Writer) Publish(p fleet.Presence) {
	w.mu.Lock()
	e := w.entries[p.Key]
	if e == nil {
		e = &entry{}
		w.entries[p.Key] = e
	}
	if p.Seq < e.latest.Seq {
		e.latest.Acks = append(e.latest.Acks, p.Acks...)
		w.mu.Unlock()
		return
	}
	p.Acks = append(e.latest.Acks, p.Acks...)
	e.latest = p
	w.mu.Unlock()
	writerMetrics().pending.Set(float64(w.queue.Len() + 1))
	w.queue.Add(p.Key)
}

// Forget drops what the writer holds of a deleted Satellite; its Lease goes with it.
func (w *Writer) Forget(key types.NamespacedName) {
	w.mu.Lock()
	delete(w.entries, key)
	w.mu.Unlock()
}

// drainTimeout bounds how long a replica that shuts down goes on writing: the hub closes every
// session with 1001 then, and the Leases of those sessions are to say Released. The leader then
// gives the satellites the Lease's duration to come back, and the replicas they dial next do not
// take them for agents that replace a live session.
const drainTimeout = 5 * time.Second

// Start writes until ctx ends and the sessions' ends are written; it is a manager Runnable, run
// on every replica.
func (w *Writer) Start(ctx context.Context) error {
	writeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for range w.workers {
		wg.Go(func() {
			for w.next(writeCtx) {
			}
		})
	}
	<-ctx.Done()
	w.drain()
	cancel()
	w.queue.ShutDown()
	wg.Wait()
	return nil
}

// drain waits, within drainTimeout, until this replica holds no session and every publication
// is written.
func (w *Writer) drain() {
	deadline := time.Now().Add(drainTimeout)
	for time.Now().Before(deadline) {
		if (w.sessions == nil || w.sessions() == 0) && !w.pending() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.log.Info("Shutting down with presence Leases not written", "timeout", drainTimeout)
}

// pending reports whether a publication is not written yet.
func (w *Writer) pending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.entries {
		if e.written < e.latest.Seq {
			return true
		}
	}
	return false
}

// NeedLeaderElection is false: every replica writes the presence of its own sessions.
func (w *Writer) NeedLeaderElection() bool { return false }

// next writes one satellite's latest publication, and reports whether the queue still runs.
func (w *Writer) next(ctx context.Context) bool {
	key, shutdown := w.queue.Get()
	if shutdown {
		return false
	}
	defer w.queue.Done(key)
	defer func() { writerMetrics().pending.Set(float64(w.queue.Len())) }()
	w.mu.Lock()
	e := w.entries[key]
	var p fleet.Presence
	if e != nil && e.written < e.latest.Seq {
		// The acks go with this write; a publication taken meanwhile brings only its own.
		p, e.latest.Acks = e.latest, nil
	}
	w.mu.Unlock()
	if p.Seq == 0 {
		w.queue.Forget(key)
		return true
	}
	result, err := w.write(ctx, p)
	writerMetrics().writes.WithLabelValues(result).Inc()
	if err != nil {
		// Logged at a verbosity of its own: during an API server outage every satellite's write
		// fails, every few seconds, until the API answers again.
		w.log.V(1).Info("Writing a presence Lease failed; retrying", "satellite", key, "error", err.Error())
		w.mu.Lock()
		if e := w.entries[key]; e != nil {
			e.latest.Acks = append(p.Acks, e.latest.Acks...)
		}
		w.mu.Unlock()
		w.queue.AddRateLimited(key)
		return true
	}
	w.queue.Forget(key)
	if result != resultSuperseded && w.written != nil && len(p.Acks) > 0 {
		// A superseded write's session is another replica's now; its agent sends them again.
		w.written(p)
	}
	w.mu.Lock()
	if e := w.entries[key]; e != nil && e.written < p.Seq {
		e.written = p.Seq
		if e.latest.Seq == p.Seq {
			// Written: only its number is needed now, to order the next publications; the
			// views need not be held twice, here and in the fleet.
			e.latest = fleet.Presence{Seq: p.Seq}
		}
	}
	w.mu.Unlock()
	return true
}

// Results of a write, for satellite_presence_writes_total.
const (
	resultWritten    = "written"
	resultUnchanged  = "unchanged"
	resultSuperseded = "superseded"
	resultFailed     = "failed"
)

// write brings the satellite's Lease to p. A Lease that another replica holds for a newer
// session is left alone: that replica's session supersedes this one's, which Watch closes.
func (w *Writer) write(ctx context.Context, p fleet.Presence) (string, error) {
	key := LeaseKey(p.Key)
	current := &coordinationv1.Lease{}
	err := w.client.Get(ctx, key, current)
	if apierrors.IsNotFound(err) {
		lease := &coordinationv1.Lease{}
		fill(lease, p, w.identity, w.renewInterval)
		if err := w.client.Create(ctx, lease); err != nil {
			// AlreadyExists means the cache is behind: the retry reads it again.
			return resultFailed, fmt.Errorf("creating Lease %s: %w", key, err)
		}
		return resultWritten, nil
	}
	if err != nil {
		return resultFailed, fmt.Errorf("reading Lease %s: %w", key, err)
	}
	if newerElsewhere(current, w.identity, p.Since) {
		return resultSuperseded, nil
	}
	desired := current.DeepCopy()
	fill(desired, p, w.identity, w.renewInterval)
	if equality.Semantic.DeepEqual(current, desired) {
		return resultUnchanged, nil
	}
	// Update carries the resourceVersion read: a concurrent write by another replica fails it,
	// and the retry decides again from what that replica wrote.
	if err := w.client.Update(ctx, desired); err != nil {
		return resultFailed, fmt.Errorf("updating Lease %s: %w", key, err)
	}
	return resultWritten, nil
}
