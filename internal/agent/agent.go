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
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/checks"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// ErrReplaced is returned by Run when the manager closed the connection because another agent
// authenticated with the same client ID: two agents sharing one identity would replace each other
// forever, and only one of them can report.
var ErrReplaced = errors.New("another agent connected with this satellite's client ID and replaced this one; " +
	"give every agent its own Satellite and token")

// maxResultMessage bounds the message of a result the agent makes up itself, as the checks
// bound theirs: the Satellite status field holds 1024 bytes.
const maxResultMessage = 1024

// Agent is a satellite agent. Create it with New, then call Run once.
type Agent struct {
	cfg     Config
	url     string
	tls     *tls.Config
	log     logr.Logger
	clock   clock.WithTicker
	buffer  *resultBuffer
	sched   *scheduler
	metrics *agentMetrics

	running   atomic.Bool
	startedAt time.Time
	addr      chan string // the address of /healthz, /readyz and /metrics, once listening
	// wake tells the session's writer that results or strategy errors wait to be sent.
	wake chan struct{}

	mu sync.Mutex
	// reported maps the configId of each unsupported assignment to the strategyId reported for it,
	// so that each is reported once, not on every config push.
	reported map[string]string
	// strategyErrors wait for a connection to be sent on.
	strategyErrors []protocol.StrategyError

	connected    atomic.Bool
	dropping     atomic.Bool // the buffer is full and drops; logged once per episode
	dialAttempts atomic.Uint64
	connections  atomic.Uint64
	produced     atomic.Uint64
}

// Stats are counters of an agent's life, for diagnostics and tests.
type Stats struct {
	// DialAttempts counts the connection attempts to the manager.
	DialAttempts uint64
	// Connections counts the connections that authenticated.
	Connections uint64
	// ResultsProduced counts the results of checks run, whether or not they reached the manager.
	ResultsProduced uint64
	// ResultsBuffered is how many results wait for the manager's acknowledgement.
	ResultsBuffered int
	// ResultsDropped counts the results dropped unacknowledged from a full buffer.
	ResultsDropped uint64
	// Connected is true while the agent is connected and authenticated.
	Connected bool
}

// New checks cfg and returns an agent; the error lists every missing or invalid setting.
func New(cfg Config) (*Agent, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	endpoint, err := websocketURL(cfg.CoreURL)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := loadTLS(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:      cfg,
		url:      endpoint,
		tls:      tlsCfg,
		log:      cfg.Logger,
		clock:    cfg.Clock,
		buffer:   newResultBuffer(cfg.BufferSize),
		metrics:  newAgentMetrics(cfg.Version),
		addr:     make(chan string, 1),
		wake:     make(chan struct{}, 1),
		reported: map[string]string{},
	}
	a.sched = newScheduler(cfg.Clock, a.runner)
	return a, nil
}

// Run serves /healthz, /readyz and /metrics, connects to the manager and runs the checks it
// assigns until ctx is done; then it closes the connection with 1000, stops the checks and
// returns nil. It returns early with an error when it cannot serve its endpoints, or with
// ErrReplaced when another agent took over its identity.
func (a *Agent) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("the agent runs already")
	}
	a.startedAt = a.clock.Now()
	srv, err := a.serveHTTP()
	if err != nil {
		return err
	}
	a.log.Info("Starting the satellite agent", "version", a.cfg.Version, "endpoint", a.url,
		"clientId", a.cfg.ClientID, "bufferSize", a.cfg.BufferSize, "tokenFile", a.cfg.TokenFile)
	err = a.connectLoop(ctx)
	a.sched.stop()
	a.metrics.scheduled.Set(0)
	if srv != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}
	if err == nil {
		a.log.Info("Satellite agent stopped")
	}
	return err
}

// Addr returns the address of /healthz, /readyz and /metrics once Run listens there, or "" when
// they are disabled.
func (a *Agent) Addr(ctx context.Context) (string, error) {
	select {
	case addr := <-a.addr:
		a.addr <- addr
		return addr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{
		DialAttempts:    a.dialAttempts.Load(),
		Connections:     a.connections.Load(),
		ResultsProduced: a.produced.Load(),
		ResultsBuffered: a.buffer.len(),
		ResultsDropped:  a.buffer.droppedTotal(),
		Connected:       a.connected.Load(),
	}
}

func (a *Agent) serveHTTP() (*http.Server, error) {
	if a.cfg.MetricsAddr == "0" {
		a.addr <- ""
		return nil, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for /healthz, /readyz and /metrics: %w", a.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.connected.Load() {
			http.Error(w, "not authenticated with the manager", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.log.Error(err, "Serving /healthz, /readyz and /metrics failed")
		}
	}()
	a.addr <- ln.Addr().String()
	return srv, nil
}

// setConnected records whether the agent is authenticated, for /readyz and the gauge.
func (a *Agent) setConnected(connected bool) {
	a.connected.Store(connected)
	v := 0.0
	if connected {
		v = 1
	}
	a.metrics.connected.Set(v)
}

// signal wakes the session's writer, if any; a pending wake suffices.
func (a *Agent) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// token returns the token to present: the file's current content, or the configured one.
func (a *Agent) token() (string, error) {
	if a.cfg.TokenFile != "" {
		return readToken(a.cfg.TokenFile)
	}
	return strings.TrimSpace(a.cfg.Token), nil
}

// applyAssignments makes the checks run those of the list the manager sent in a frame of type
// from, and queues a strategy_error for each newly seen assignment of a strategy the agent
// cannot run.
func (a *Agent) applyAssignments(from protocol.Type, as []protocol.Assignment) {
	supported := make([]protocol.Assignment, 0, len(as))
	for _, x := range as {
		if checks.Supported(x.StrategyID) {
			supported = append(supported, x)
		}
	}
	a.mu.Lock()
	errs, reported := unsupportedStrategies(a.reported, as)
	a.reported = reported
	a.strategyErrors = append(a.strategyErrors, errs...)
	a.mu.Unlock()
	for _, e := range errs {
		a.log.Info("Cannot run an assignment's strategy; reporting it to the manager", "strategy", e.StrategyID, "message", e.Message)
	}
	d := a.sched.apply(supported)
	a.metrics.scheduled.Set(float64(a.sched.len()))
	a.log.Info("Applied assignments", "from", string(from), "total", len(as), "started", len(d.Start), "restarted", len(d.Restart),
		"stopped", len(d.Stop), "unchanged", len(d.Keep), "unsupported", len(reported))
	if len(errs) > 0 {
		a.signal()
	}
}

// unsupportedStrategies returns the strategy errors to send for the assignments of as that the
// agent cannot run and has not reported yet, and the new map of reported ones (by configId).
func unsupportedStrategies(reported map[string]string, as []protocol.Assignment) ([]protocol.StrategyError, map[string]string) {
	var errs []protocol.StrategyError
	next := map[string]string{}
	for _, x := range as {
		if checks.Supported(x.StrategyID) {
			continue
		}
		if _, seen := next[x.ConfigID]; seen {
			continue
		}
		next[x.ConfigID] = x.StrategyID
		if prev, ok := reported[x.ConfigID]; ok && prev == x.StrategyID {
			continue
		}
		errs = append(errs, protocol.StrategyError{
			StrategyID: x.StrategyID,
			Message:    fmt.Sprintf("this satellite agent cannot run checks of type %q (assignment %s)", x.StrategyID, x.ConfigID),
		})
	}
	return errs, next
}

// takeStrategyErrors returns the strategy errors waiting to be sent and forgets them.
func (a *Agent) takeStrategyErrors() []protocol.StrategyError {
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := a.strategyErrors
	a.strategyErrors = nil
	return errs
}

// requeueStrategyErrors puts back strategy errors a failed connection could not send.
func (a *Agent) requeueStrategyErrors(errs []protocol.StrategyError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.strategyErrors = append(errs, a.strategyErrors...)
}

// runner prepares an assignment for the scheduler: its config is decoded once, and each run
// records its result.
func (a *Agent) runner(as protocol.Assignment) func(context.Context) {
	cfg, cfgErr := protocol.DecodeCheckConfig(as.Config)
	if cfgErr != nil {
		a.log.Error(cfgErr, "Invalid check config; every run of the assignment reports it as unhealthy",
			"configId", as.ConfigID, "systemId", as.SystemID)
	}
	return func(ctx context.Context) {
		executedAt := a.clock.Now()
		var out checks.Outcome
		if cfgErr != nil {
			out = checks.Outcome{
				Status:   v1alpha1.ResultUnhealthy,
				Message:  truncate("invalid check config: "+cfgErr.Error(), maxResultMessage),
				Metadata: map[string]any{},
			}
		} else {
			out = checks.Run(ctx, as.StrategyID, cfg)
		}
		if ctx.Err() != nil {
			// Stopped mid-run by a config change or shutdown: the outcome says nothing of the target.
			return
		}
		a.record(as, executedAt, out)
	}
}

// record turns an outcome into a result, buffers it until the manager acknowledges it, and wakes
// the writer.
func (a *Agent) record(as protocol.Assignment, executedAt time.Time, out checks.Outcome) {
	a.metrics.checks.WithLabelValues(as.StrategyID, string(out.Status)).Inc()
	if out.Status == v1alpha1.ResultUnhealthy {
		a.metrics.failures.WithLabelValues(as.StrategyID).Inc()
	}
	latencyMs := float64(out.Latency) / float64(time.Millisecond)
	r := &protocol.Result{
		ID:        newResultID(),
		ConfigID:  as.ConfigID,
		SystemID:  as.SystemID,
		Status:    out.Status,
		LatencyMs: &latencyMs,
		Result: &protocol.ResultDetail{
			Status:    out.Status,
			LatencyMs: latencyMs,
			Message:   out.Message,
			Metadata:  out.Metadata,
		},
		ExecutedAt: executedAt.UTC(),
	}
	frame, err := encodeResult(r)
	if err != nil {
		a.produced.Add(1)
		a.log.Error(err, "Dropping a result the manager would refuse", "configId", as.ConfigID)
		return
	}
	dropped := a.buffer.add(r.ID, frame)
	// Counted once buffered, so that stats never show a result produced but not yet buffered.
	a.produced.Add(1)
	if dropped > 0 {
		a.metrics.dropped.Add(float64(dropped))
		if a.dropping.CompareAndSwap(false, true) {
			a.log.Info("The result buffer is full; dropping the oldest unacknowledged results",
				"bufferSize", a.cfg.BufferSize, "droppedTotal", a.buffer.droppedTotal())
		}
	}
	a.metrics.buffered.Set(float64(a.buffer.len()))
	a.signal()
}

// acked forgets the results the manager acknowledged.
func (a *Agent) acked(ids []string) {
	a.buffer.ack(ids)
	n := a.buffer.len()
	a.metrics.buffered.Set(float64(n))
	if n < a.cfg.BufferSize {
		a.dropping.Store(false)
	}
}

// encodeResult encodes a result and decodes it as the manager will: a result the manager refuses
// would end the session, and being kept for a resend it would end every later session too.
func encodeResult(r *protocol.Result) ([]byte, error) {
	frame, err := protocol.Encode(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	if _, err := protocol.DecodeFromSatellite(frame); err != nil {
		return nil, fmt.Errorf("checking the encoded result: %w", err)
	}
	return frame, nil
}

// newResultID returns 16 random bytes in hex: unique enough that the manager can drop resent
// duplicates by ID alone.
func newResultID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// truncate cuts s to at most n bytes without leaving a split UTF-8 sequence at its end.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
