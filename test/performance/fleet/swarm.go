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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// The agent's reconnect policy (docs/protocol.md, internal/agent): full jitter over a ceiling
// that starts at 1 s and doubles to 30 s, reset by a session that stayed up for 30 s; a manager
// going away (1001) is redialled within 5 s.
const (
	backoffMin     = time.Second
	backoffMax     = 30 * time.Second
	stableAfter    = 30 * time.Second
	goingAwayDelay = 5 * time.Second
	// authRetry is how long a client waits after refused credentials. The agent waits 5 minutes;
	// in a benchmark a refusal is a finding, counted, and the client tries again sooner.
	authRetry = 30 * time.Second
	writeWait = 10 * time.Second
	// authWait bounds the upgrade and the wait for the answer to authenticate.
	authWait = 10 * time.Second
	// resultQueue bounds the results waiting for one client's writer.
	resultQueue = 64
	// ackWait is how long a result step waits for the last acknowledgements.
	ackWait = 5 * time.Second
	version = "fleet-bench/0.1"
)

// swarm is N satellites in one process, each with its own connection.
type swarm struct {
	// urls are the endpoints of the manager's replicas; a client dials them in turn, starting
	// at its own index, as a Service spreads connections and a redial finds a live replica.
	urls []string
	// caps are the capabilities every client advertises.
	caps    []string
	clients []*satClient
	started time.Time
	// changed is signalled (without blocking) whenever a client authenticates or its list
	// changes, so that waiters recheck instead of polling blindly.
	changed chan struct{}
	step    atomic.Pointer[resultStep]
	lists   *listCache

	dials, refused, dialErrors, auths, authFailed, replaced atomic.Int64
	heartbeats, configFrames, results, acks, live           atomic.Int64
	endsMu                                                  sync.Mutex
	ends                                                    map[string]int64
}

// satClient is one satellite.
type satClient struct {
	sw    *swarm
	idx   int
	cred  credential
	local *net.TCPAddr

	mu sync.Mutex
	// authAt is when the current or last session authenticated, Unix ns.
	authAt  int64
	configs map[string]*configState
	// pending maps the id of a result in flight to when it was written and its step.
	pending map[string]pendingResult
	// executed is the last executedAt sent per configId: the manager drops a result that is not
	// newer than the last one it took for the same (satellite, assignment).
	executed map[string]time.Time
	beatsOff bool
	lastBeat int64
	seq      int64
	results  chan string // configIds of results to send
	// writeErr is the error of a failed write, which closed the connection under the reader.
	writeErr  atomic.Pointer[error]
	beatNow   chan struct{}
	connected bool
	// dials counts the client's dials, for the turn of urls.
	dials int
}

// configState is one configId in a client's list: when it last appeared and disappeared.
type configState struct {
	present          bool
	systemID         string
	added, removedAt int64
}

type pendingResult struct {
	sent int64
	step *resultStep
}

// resultStep collects the acknowledgement latencies of one step of the ramp.
type resultStep struct {
	mu        sync.Mutex
	latencies []time.Duration
	written   atomic.Int64
	acked     atomic.Int64
}

func swarmMain(args []string) int {
	fs := flag.NewFlagSet("swarm", flag.ExitOnError)
	target := fs.String("target", "", "ws:// URL of the satellites' endpoint; several, comma-separated, are dialled in turn.")
	credsPath := fs.String("creds", "", "JSON file of the credentials, one per client.")
	sources := fs.Int("sources", 199, "Loopback source addresses to spread the clients over: 127.0.0.2 and up.")
	patches := fs.Bool("patches", true, "Advertise config_patch, as our agent does; false gets every list whole.")
	_ = fs.Parse(args)
	fmt.Fprintln(os.Stderr, "swarm:", raiseNoFile())
	creds, err := readCredentials(*credsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		return 1
	}
	if *sources < 1 || *sources > 250 {
		fmt.Fprintln(os.Stderr, "swarm: --sources must be 1 to 250")
		return 2
	}
	sw := newSwarm(strings.Split(*target, ","), creds, *sources)
	sw.caps = capabilities(*patches)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sw.serve(ctx, bufio.NewReader(os.Stdin), os.Stdout)
	return 0
}

// capabilities are what a client advertises: our CheckConfig, as our agent does, and
// config_patch unless patches is false.
func capabilities(patches bool) []string {
	if patches {
		return []string{protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch}
	}
	return []string{protocol.CapabilityCheckConfig}
}

func newSwarm(urls []string, creds []credential, sources int) *swarm {
	sw := &swarm{urls: urls, started: time.Now(), changed: make(chan struct{}, 1), ends: map[string]int64{}, lists: newListCache()}
	for i, c := range creds {
		sw.clients = append(sw.clients, &satClient{
			sw: sw, idx: i, cred: c,
			local:    &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%sources))},
			configs:  map[string]*configState{},
			pending:  map[string]pendingResult{},
			executed: map[string]time.Time{},
			results:  make(chan string, resultQueue),
			beatNow:  make(chan struct{}, 1),
		})
	}
	return sw
}

// serve answers requests until stdin closes or quit.
func (sw *swarm) serve(ctx context.Context, in *bufio.Reader, out *os.File) {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(out)
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			return
		}
		resp := sw.handle(ctx, req)
		if err := enc.Encode(resp); err != nil {
			return
		}
		if req.Op == opQuit {
			return
		}
	}
}

func (sw *swarm) handle(ctx context.Context, req request) *response {
	timeout := time.Duration(req.Timeout)
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	switch req.Op {
	case opConnect:
		for _, c := range sw.clients {
			go c.run(ctx)
		}
		return &response{}
	case opAwaitAuth:
		times, err := sw.await(ctx, timeout, func(c *satClient) int64 {
			if c.authAt >= req.Since {
				return c.authAt
			}
			return 0
		})
		return withErr(&response{Times: times, Counters: sw.counters()}, err)
	case opAwaitLive:
		times, err := sw.await(ctx, timeout, func(c *satClient) int64 {
			if c.connected {
				return c.authAt
			}
			return 0
		})
		return withErr(&response{Times: times, Counters: sw.counters()}, err)
	case opAwaitConfig:
		times, err := sw.await(ctx, timeout, func(c *satClient) int64 { return c.listReached(req.Has, req.Lacks) })
		return withErr(&response{Times: times}, err)
	case opCounters:
		return &response{Counters: sw.counters()}
	case opStopBeats, opResumeBeats:
		beats := map[string]int64{}
		for _, c := range sw.clients {
			if !slices.Contains(req.Names, c.cred.Name) {
				continue
			}
			c.mu.Lock()
			c.beatsOff = req.Op == opStopBeats
			beats[c.cred.Name] = c.lastBeat
			c.mu.Unlock()
			if req.Op == opResumeBeats {
				select {
				case c.beatNow <- struct{}{}:
				default:
				}
			}
		}
		return &response{Beats: beats}
	case opResults:
		return &response{Step: sw.runStep(ctx, req.Rate, time.Duration(req.Duration), req.ConfigID)}
	case opQuit:
		return &response{}
	}
	return &response{Err: "unknown op " + strconv.Quote(req.Op)}
}

func withErr(r *response, err error) *response {
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// await waits until reached returns a time for every client (under its lock) and returns those
// times. On a timeout it returns what it has, 0 for the clients that did not get there.
func (sw *swarm) await(ctx context.Context, timeout time.Duration, reached func(*satClient) int64) ([]int64, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	times := make([]int64, len(sw.clients))
	for {
		missing := 0
		for i, c := range sw.clients {
			c.mu.Lock()
			times[i] = reached(c)
			c.mu.Unlock()
			if times[i] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return times, nil
		}
		select {
		case <-sw.changed:
		case <-deadline.C:
			return times, fmt.Errorf("%d of %d clients not there within %s", missing, len(sw.clients), timeout)
		case <-ctx.Done():
			return times, ctx.Err()
		}
		// Times are taken on receipt, so a coarser recheck costs no precision; it bounds the
		// work of rechecking every client while thousands of frames arrive.
		time.Sleep(20 * time.Millisecond)
	}
}

func (sw *swarm) notify() {
	select {
	case sw.changed <- struct{}{}:
	default:
	}
}

func (sw *swarm) counters() *counters {
	sw.endsMu.Lock()
	ends := make(map[string]int64, len(sw.ends))
	for k, v := range sw.ends {
		ends[k] = v
	}
	sw.endsMu.Unlock()
	return &counters{
		Clients: len(sw.clients), Live: sw.live.Load(), Dials: sw.dials.Load(), Refused: sw.refused.Load(),
		DialErrors: sw.dialErrors.Load(), Auths: sw.auths.Load(), AuthFailed: sw.authFailed.Load(),
		Replaced: sw.replaced.Load(), Heartbeats: sw.heartbeats.Load(), ConfigFrame: sw.configFrames.Load(),
		Results: sw.results.Load(), Acks: sw.acks.Load(), Ends: ends,
	}
}

// listReached returns when c's list came to hold every id of has and none of lacks, or 0. The
// caller holds c.mu.
func (c *satClient) listReached(has, lacks []string) int64 {
	var at int64
	for _, id := range has {
		s := c.configs[id]
		if s == nil || !s.present {
			return 0
		}
		at = max(at, s.added)
	}
	for _, id := range lacks {
		s := c.configs[id]
		if s != nil && s.present {
			return 0
		}
		if s != nil {
			at = max(at, s.removedAt)
		}
	}
	if at == 0 {
		// Nothing awaited ever changed for this client: it was there from its authentication.
		at = max(c.authAt, 1)
	}
	return at
}

// present records that configId is in the client's list at t, added then unless it was there.
func (c *satClient) present(configID, systemID string, t int64) {
	s := c.configs[configID]
	if s == nil {
		s = &configState{}
		c.configs[configID] = s
	}
	if !s.present {
		s.present, s.added = true, t
	}
	s.systemID = systemID
}

// applyList records a full list received at t; the caller holds c.mu.
func (c *satClient) applyList(list []protocol.Assignment, t int64) {
	seen := make(map[string]bool, len(list))
	for _, a := range list {
		seen[a.ConfigID] = true
		c.present(a.ConfigID, a.SystemID, t)
	}
	for id, s := range c.configs {
		if s.present && !seen[id] {
			s.present, s.removedAt = false, t
		}
	}
}

// sessionEnd is how one session ended.
type sessionEnd struct {
	upFor      time.Duration
	retryAfter time.Duration
	code       int
	goingAway  bool
	authFailed bool
	replaced   bool
}

// run keeps c connected until ctx ends or another connection replaced it.
func (c *satClient) run(ctx context.Context) {
	ceiling := time.Duration(0)
	for ctx.Err() == nil {
		end := c.session(ctx)
		if end.replaced {
			c.sw.replaced.Add(1)
			return
		}
		if end.upFor >= stableAfter {
			ceiling = 0
		}
		var delay time.Duration
		switch {
		case end.authFailed:
			c.sw.authFailed.Add(1)
			ceiling, delay = 0, authRetry
		case end.goingAway:
			delay = rand.N(goingAwayDelay + 1)
		default:
			var d time.Duration
			d, ceiling = fullJitter(ceiling)
			delay = max(d, end.retryAfter)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fullJitter returns a delay drawn uniformly from [0, ceiling] and the ceiling of the next one:
// 1 s at first, doubling up to 30 s.
func fullJitter(ceiling time.Duration) (delay, next time.Duration) {
	if ceiling <= 0 {
		ceiling = backoffMin
	}
	return rand.N(ceiling + 1), min(2*ceiling, backoffMax)
}

// retryAfterHeader reads Retry-After in seconds; 0 when absent or not a number.
func retryAfterHeader(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 5*time.Minute)
}

// session dials, authenticates and serves one connection until it ends.
func (c *satClient) session(ctx context.Context) sessionEnd {
	sw := c.sw
	sw.dials.Add(1)
	d := websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: c.local, Timeout: authWait}).DialContext,
		HandshakeTimeout: authWait,
	}
	hdr := http.Header{"User-Agent": {version}}
	url := sw.urls[(c.idx+c.dials)%len(sw.urls)]
	c.dials++
	conn, resp, err := d.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
			sw.refused.Add(1)
			return sessionEnd{retryAfter: retryAfterHeader(resp.Header.Get("Retry-After"))}
		}
		sw.dialErrors.Add(1)
		return sessionEnd{}
	}
	defer func() { _ = conn.Close() }()
	conn.SetReadLimit(16 << 20)
	// The swarm's clients speak our dialect, as our agent does: without the capability the
	// manager serves them Checkstack's shapes and per-revision configIds. They take patches too,
	// unless told not to (-patches=false).
	frame, _ := protocol.Encode(&protocol.Authenticate{ClientID: c.cred.ClientID, Token: c.cred.Token, Capabilities: c.sw.caps})
	_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		return c.ended(err, 0)
	}
	_ = conn.SetReadDeadline(time.Now().Add(authWait))
	_, data, err := conn.ReadMessage()
	if err != nil {
		return c.ended(err, 0)
	}
	now := time.Now()
	var first struct {
		Type protocol.Type `json:"type"`
	}
	_ = json.Unmarshal(data, &first)
	if first.Type != protocol.TypeAuthenticated {
		// auth_failed is followed by the close, which tells why.
		_, _, err := conn.ReadMessage()
		return c.ended(err, 0)
	}
	var auth protocol.Authenticated
	if err := json.Unmarshal(data, &auth); err != nil {
		return sessionEnd{}
	}
	interval := time.Duration(auth.HeartbeatIntervalSeconds) * time.Second
	if interval <= 0 {
		interval = 15 * time.Second
	}
	// The manager drops a connection silent for 2 intervals + 10 s and pings well within it; a
	// client that hears nothing for longer than that plus a margin has lost the manager.
	readWait := 2*interval + 30*time.Second
	c.mu.Lock()
	c.authAt = now.UnixNano()
	c.applyList(auth.Assignments, now.UnixNano())
	c.connected = true
	c.mu.Unlock()
	sw.auths.Add(1)
	sw.live.Add(1)
	sw.notify()
	defer func() {
		c.mu.Lock()
		c.connected = false
		c.mu.Unlock()
		sw.live.Add(-1)
	}()

	_ = conn.SetReadDeadline(time.Now().Add(readWait))
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(readWait))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	done := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writer(conn, interval, done)
	}()
	shutdown := ""
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			close(done)
			<-writerDone
			end := c.ended(err, time.Since(now))
			if end.code == 0 && shutdown != "" {
				end.goingAway = shutdown == protocol.ShutdownGoingAway
				end.replaced = shutdown == protocol.ShutdownReplaced
			}
			return end
		}
		_ = conn.SetReadDeadline(time.Now().Add(readWait))
		shutdown = c.handleFrame(data, shutdown)
	}
}

// applyConfig applies a config_updated frame received at t; one that does not decode is ignored.
func (c *satClient) applyConfig(data []byte, t int64) {
	list, ok := c.sw.lists.parse(data)
	if !ok {
		return
	}
	c.sw.configFrames.Add(1)
	c.mu.Lock()
	c.applyList(list, t)
	c.mu.Unlock()
	c.sw.notify()
}

// applyPatch applies a config_patch frame received at t; one that does not decode is ignored.
// Patches are small (what one change changed), so each is parsed.
func (c *satClient) applyPatch(data []byte, t int64) {
	var m struct {
		Assignments []struct {
			ConfigID string `json:"configId"`
			SystemID string `json:"systemId"`
		} `json:"assignments"`
		Removed []string `json:"removed"`
	}
	if json.Unmarshal(data, &m) != nil {
		return
	}
	c.sw.configFrames.Add(1)
	c.mu.Lock()
	for _, id := range m.Removed {
		if s := c.configs[id]; s != nil && s.present {
			s.present, s.removedAt = false, t
		}
	}
	for _, a := range m.Assignments {
		c.present(a.ConfigID, a.SystemID, t)
	}
	c.mu.Unlock()
	c.sw.notify()
}

// configUpdatedPrefix begins every config_updated frame the manager writes
// (protocol.ConfigUpdatedFrame): such a frame, tens of kilobytes, is not scanned for its type.
var configUpdatedPrefix = []byte(`{"type":"` + string(protocol.TypeConfigUpdated) + `",`)

// handleFrame applies one frame from the manager; it returns the shutdown reason seen so far.
func (c *satClient) handleFrame(data []byte, shutdown string) string {
	now := time.Now().UnixNano()
	if bytes.HasPrefix(data, configUpdatedPrefix) {
		c.applyConfig(data, now)
		return shutdown
	}
	var head struct {
		Type protocol.Type `json:"type"`
	}
	_ = json.Unmarshal(data, &head)
	switch head.Type {
	case protocol.TypeConfigUpdated: // written some other way than the manager does today
		c.applyConfig(data, now)
	case protocol.TypeConfigPatch:
		c.applyPatch(data, now)
	case protocol.TypeResultAck:
		var m protocol.ResultAck
		if json.Unmarshal(data, &m) != nil {
			return shutdown
		}
		c.mu.Lock()
		for _, id := range m.IDs {
			p, ok := c.pending[id]
			if !ok {
				continue
			}
			delete(c.pending, id)
			c.sw.acks.Add(1)
			if p.step != nil {
				p.step.acked.Add(1)
				p.step.mu.Lock()
				p.step.latencies = append(p.step.latencies, time.Duration(now-p.sent))
				p.step.mu.Unlock()
			}
		}
		c.mu.Unlock()
	case protocol.TypeShutdown:
		var m protocol.Shutdown
		if json.Unmarshal(data, &m) == nil {
			return m.Reason
		}
	}
	return shutdown
}

// writer sends heartbeats, the first at once and then every interval at a random phase, and the
// results queued for c, until done.
func (c *satClient) writer(conn *websocket.Conn, interval time.Duration, done <-chan struct{}) {
	write := func(frame []byte) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			// The reader notices the closed connection and ends the session; the cause is the
			// writer's.
			c.writeErr.Store(&err)
			_ = conn.Close()
			return false
		}
		return true
	}
	beat := func() bool {
		c.mu.Lock()
		off := c.beatsOff
		now := time.Now()
		if !off {
			c.lastBeat = now.UnixNano()
		}
		c.mu.Unlock()
		if off {
			return true
		}
		frame, _ := protocol.Encode(&protocol.Heartbeat{Version: version, UptimeSeconds: now.Sub(c.sw.started).Seconds()})
		if !write(frame) {
			return false
		}
		c.sw.heartbeats.Add(1)
		return true
	}
	if !beat() {
		return
	}
	timer := time.NewTimer(rand.N(interval))
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
			timer.Reset(interval)
			if !beat() {
				return
			}
		case <-c.beatNow:
			if !beat() {
				return
			}
		case configID := <-c.results:
			frame, step := c.resultFrame(configID)
			if frame == nil {
				continue
			}
			if !write(frame) {
				return
			}
			c.sw.results.Add(1)
			if step != nil {
				step.written.Add(1)
			}
		}
	}
}

// resultFrame builds a result for configID (or, when it is not relayed to c, for the first
// assignment that is) and registers it as pending.
func (c *satClient) resultFrame(configID string) ([]byte, *resultStep) {
	c.mu.Lock()
	defer c.mu.Unlock()
	systemID := "bench"
	if s := c.configs[configID]; s != nil && s.present {
		systemID = s.systemID
	} else if configID != baselineConfigID {
		return nil, nil
	}
	c.seq++
	id := "r" + strconv.Itoa(c.idx) + "-" + strconv.FormatInt(c.seq, 10)
	now := time.Now()
	at := now
	if last := c.executed[configID]; !at.After(last) {
		at = last.Add(time.Microsecond)
	}
	c.executed[configID] = at
	latency := 1.5
	frame, err := protocol.Encode(&protocol.Result{
		ID: id, ConfigID: configID, SystemID: systemID, Status: v1alpha1.ResultHealthy, LatencyMs: &latency,
		Result:     &protocol.ResultDetail{Status: v1alpha1.ResultHealthy, LatencyMs: latency, Message: "200 OK", Metadata: map[string]any{}},
		ExecutedAt: at,
	})
	if err != nil {
		return nil, nil
	}
	step := c.sw.step.Load()
	c.pending[id] = pendingResult{sent: time.Now().UnixNano(), step: step}
	return frame, step
}

// ended classifies the error that ended a session.
func (c *satClient) ended(err error, upFor time.Duration) sessionEnd {
	end := sessionEnd{upFor: upFor, code: websocket.CloseAbnormalClosure}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		end.code = ce.Code
	}
	switch end.code {
	case protocol.CloseAuthFailed, protocol.CloseDeleted:
		end.authFailed = true
	case protocol.CloseReplaced:
		end.replaced = true
	case websocket.CloseGoingAway:
		end.goingAway = true
	}
	why := endCause(err, c.writeErr.Swap(nil))
	c.sw.endsMu.Lock()
	c.sw.ends[why]++
	c.sw.endsMu.Unlock()
	// Results in flight on a broken session are never acknowledged; they count as lost.
	c.mu.Lock()
	clear(c.pending)
	c.mu.Unlock()
	return end
}

// endCause names why a session ended, from the side that ended it: a close code the server
// sent, a connection the server dropped without one, or the client's own deadline or failed
// write.
func endCause(readErr error, writeErr *error) string {
	if writeErr != nil {
		var ne net.Error
		switch {
		case errors.As(*writeErr, &ne) && ne.Timeout():
			return "client write deadline"
		case errors.Is(*writeErr, syscall.EPIPE) || errors.Is(*writeErr, syscall.ECONNRESET):
			return "dropped by the server, seen on a write"
		}
		return "client write failed"
	}
	// gorilla reports a connection that ended without a close frame as close 1006.
	var ce *websocket.CloseError
	if errors.As(readErr, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return "close " + strconv.Itoa(ce.Code)
	}
	var ne net.Error
	if errors.As(readErr, &ne) && ne.Timeout() {
		return "client read deadline"
	}
	if ce != nil || errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) || errors.Is(readErr, syscall.ECONNRESET) {
		return "dropped by the server without a close frame"
	}
	return "other"
}

// baselineConfigID is what results carry against the baseline, which relays no assignments and
// acknowledges any result.
const baselineConfigID = "baseline-check"

// runStep sends results at rate a second over all clients, round robin, for d, then waits for
// the last acknowledgements and returns the step's figures.
func (sw *swarm) runStep(ctx context.Context, rate float64, d time.Duration, configID string) *stepResult {
	st := &resultStep{}
	sw.step.Store(st)
	defer sw.step.Store(nil)
	res := &stepResult{Rate: rate}
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	next := 0
	for elapsed := time.Duration(0); elapsed < d && ctx.Err() == nil; elapsed = time.Since(start) {
		due := int64(rate * min(elapsed, d).Seconds())
		for res.Queued+res.Skipped < due {
			c := sw.clients[next%len(sw.clients)]
			next++
			c.mu.Lock()
			live := c.connected
			c.mu.Unlock()
			if !live {
				res.Skipped++
				continue
			}
			select {
			case c.results <- configID:
				res.Queued++
			default:
				res.Skipped++
			}
		}
		<-tick.C
	}
	tick.Stop()
	res.Seconds = time.Since(start).Seconds()
	// Queued results are written within moments; then their acks are awaited for ackWait.
	wait := time.Now().Add(ackWait)
	for time.Now().Before(wait) && (st.written.Load() < res.Queued || st.acked.Load() < st.written.Load()) {
		time.Sleep(10 * time.Millisecond)
	}
	res.Written, res.Acked = st.written.Load(), st.acked.Load()
	res.Achieved = float64(res.Written) / res.Seconds
	st.mu.Lock()
	lat := slices.Clone(st.latencies)
	st.mu.Unlock()
	// An unacknowledged result is slower than any acknowledged one.
	for range res.Written - int64(len(lat)) {
		lat = append(lat, time.Hour)
	}
	res.P50Ms, res.P99Ms, res.MaxMs = ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(percentile(lat, 100))
	return res
}
