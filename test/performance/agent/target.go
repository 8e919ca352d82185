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

package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxArrivalsPerPath bounds what one path records in one phase, so that a prober gone wild
// cannot grow the tool's memory without limit; a 10 s schedule needs a few dozen.
const maxArrivalsPerPath = 4096

// target is the local HTTP server both probers check: paths /t/0 to /t/<n-1> answer 200 at once,
// and every request's arrival time is recorded, so that drift is measured from the outside, the
// same way for both probers.
type target struct {
	n   int
	srv *http.Server
	ln  net.Listener
	// rec is the current phase's recorder; nil between phases, when requests are only counted
	// as stray.
	rec   atomic.Pointer[recorder]
	stray atomic.Int64
}

// recorder holds the arrival times of one phase, by path index, in arrival order.
type recorder struct {
	mu       sync.Mutex
	arrivals [][]time.Time
}

func newTarget(n int) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the target server: %w", err)
	}
	t := &target{n: n, ln: ln}
	t.srv = &http.Server{
		Handler:           http.HandlerFunc(t.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		// Longer than the agent's idle timeout, so that the server is never the side that
		// closes a pooled connection.
		IdleTimeout: 2 * time.Minute,
	}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// url returns the URL of path i.
func (t *target) url(i int) string {
	return fmt.Sprintf("http://%s/t/%d", t.ln.Addr(), i)
}

func (t *target) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The arrival time is taken first, before any work of ours, so that it is the prober's.
	now := time.Now()
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/t/"))
	if err != nil || !strings.HasPrefix(r.URL.Path, "/t/") || i < 0 || i >= t.n {
		t.stray.Add(1)
		http.NotFound(w, r)
		return
	}
	if rec := t.rec.Load(); rec != nil {
		rec.add(i, now)
	} else {
		t.stray.Add(1)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

// record starts a phase: arrivals from now on go to a new recorder, which it returns.
func (t *target) record() *recorder {
	rec := &recorder{arrivals: make([][]time.Time, t.n)}
	t.rec.Store(rec)
	return rec
}

// pause ends a phase: later arrivals, such as a prober's last in-flight requests, are strays.
func (t *target) pause() { t.rec.Store(nil) }

func (t *target) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = t.srv.Close()
	}
}

func (r *recorder) add(i int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.arrivals[i]) < maxArrivalsPerPath {
		r.arrivals[i] = append(r.arrivals[i], at)
	}
}

// snapshot returns a copy of the arrivals, safe to analyse while requests go on.
func (r *recorder) snapshot() [][]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]time.Time, len(r.arrivals))
	for i, a := range r.arrivals {
		out[i] = slices.Clone(a)
	}
	return out
}

// scheduleStats is what the target saw of one prober in the measurement window.
type scheduleStats struct {
	// Requests is how many requests arrived in the window, over all paths.
	Requests int
	// PathsSeen is how many paths got at least one request in the window.
	PathsSeen int
	// Drifts is |gap - interval| of every pair of consecutive requests to the same path that both
	// arrived in the window, sorted.
	Drifts []time.Duration
}

// analyse measures arrivals (per path, in arrival order) in [from, to]. Only gaps whose both ends
// lie in the window count, so that the warm-up's first runs, at their random phase, are not gaps.
func analyse(arrivals [][]time.Time, from, to time.Time, interval time.Duration) scheduleStats {
	var s scheduleStats
	for _, path := range arrivals {
		var prev time.Time
		seen := false
		for _, at := range path {
			if at.Before(from) || at.After(to) {
				continue
			}
			s.Requests++
			if seen {
				gap := at.Sub(prev)
				s.Drifts = append(s.Drifts, (gap - interval).Abs())
			}
			prev, seen = at, true
		}
		if seen {
			s.PathsSeen++
		}
	}
	slices.Sort(s.Drifts)
	return s
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted, or 0 when empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
