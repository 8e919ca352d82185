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
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Timing and limits of a connection. Network deadlines use the real clock, whatever Config.Clock.
const (
	// handshakeTimeout bounds the TCP, TLS and HTTP upgrade of a dial.
	handshakeTimeout = 10 * time.Second
	// authTimeout bounds the wait for the manager's answer to authenticate.
	authTimeout = 10 * time.Second
	// writeWait bounds every write.
	writeWait = 10 * time.Second
	// closeGrace is how long a closing agent waits for the manager's close frame.
	closeGrace = time.Second
	// readLimit is generous: config_updated carries every assignment of the satellite.
	readLimit = 16 << 20
	// defaultHeartbeat is Checkstack's interval, for a manager that does not send its own.
	defaultHeartbeat = 15 * time.Second
	// goingAwayDelay bounds the random delay before redialing a manager that went away (a leader
	// change, a rolling restart): the fleet reconnects spread out, but soon.
	goingAwayDelay = 5 * time.Second
	// maxRetryAfter caps the manager's Retry-After, so a wrong header cannot park the agent.
	maxRetryAfter = 5 * time.Minute
)

// The pace of results, under the manager's default per-connection message limit (200 frames/s,
// burst 400): after a long outage a full buffer is resent over seconds instead of getting the
// connection closed for flooding, and 1,000 checks at a 5 s interval still fit.
const (
	sendRate  = 180
	sendBurst = 360
	sendBatch = 100
)

// endReason is why a connection ended, which decides when the agent dials again.
type endReason int

const (
	// endFailed is a failed dial, a broken connection or a refusal to retry: back off.
	endFailed endReason = iota
	// endGoingAway is a manager that went away: redial after a short random delay.
	endGoingAway
	// endAuthFailed is refused credentials, or a deleted Satellite: retry slowly, or when the
	// token file changes.
	endAuthFailed
	// endReplaced is another agent that took over the identity: stop.
	endReplaced
)

// connEnd describes how a connection ended.
type connEnd struct {
	reason endReason
	err    error
	// upFor is how long the connection was authenticated; 0 when it never was.
	upFor time.Duration
	// retryAfter is the least delay the manager asked for.
	retryAfter time.Duration
	// token is the token the connection presented.
	token string
}

// classify tells why a connection ended from its close code and the reason of the shutdown frame
// that preceded it, if any. The code decides when it is one of the protocol's; a connection that
// broke without one is judged by the shutdown frame.
func classify(code int, shutdown string) endReason {
	switch code {
	case protocol.CloseAuthFailed, protocol.CloseDeleted:
		return endAuthFailed
	case protocol.CloseReplaced, protocol.CloseDuplicate:
		return endReplaced
	case websocket.CloseGoingAway:
		return endGoingAway
	}
	switch shutdown {
	case "":
		return endFailed
	case protocol.ShutdownReplaced, protocol.ShutdownDuplicate:
		return endReplaced
	case protocol.ShutdownTokenRotate, protocol.ShutdownDeleted:
		return endAuthFailed
	default:
		return endGoingAway
	}
}

// ended classifies a read or write error.
func ended(err error, shutdown string) connEnd {
	code := 0
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	return connEnd{reason: classify(code, shutdown), err: err}
}

// retryPlan says when to dial again after a connection ended.
type retryPlan struct {
	// delay is how long to wait.
	delay time.Duration
	// watchToken, when set, is the refused token: a token file that holds another one ends the
	// wait at once.
	watchToken string
	// stop means not to dial again.
	stop bool
}

// nextDial plans the next dial after end: back off after failures, redial soon a manager that
// went away, wait long after refused credentials, and stop when replaced. jitter returns a
// number in [0, n).
func nextDial(end connEnd, bo *backoff, authRetry time.Duration, jitter func(n int64) int64) retryPlan {
	bo.ended(end.upFor)
	switch end.reason {
	case endReplaced:
		return retryPlan{stop: true}
	case endAuthFailed:
		// Dialing again soon would only be refused again; after a change the backoff starts over.
		bo.reset()
		return retryPlan{delay: authRetry, watchToken: end.token}
	case endGoingAway:
		return retryPlan{delay: time.Duration(jitter(int64(goingAwayDelay) + 1))}
	default:
		return retryPlan{delay: max(bo.next(), end.retryAfter)}
	}
}

// connectLoop connects, and reconnects when the connection ends, until ctx is done or another
// agent takes over the identity.
func (a *Agent) connectLoop(ctx context.Context) error {
	bo := newBackoff(a.cfg.ReconnectMin, a.cfg.ReconnectMax)
	for {
		end := a.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		plan := nextDial(end, bo, a.cfg.AuthRetryInterval, rand.Int64N)
		switch end.reason {
		case endReplaced:
			a.log.Error(end.err, "Another agent uses this satellite's client ID and holds its session; stopping", "clientId", a.cfg.ClientID)
			return fmt.Errorf("client ID %s: %w", a.cfg.ClientID, ErrReplaced)
		case endAuthFailed:
			a.log.Error(end.err, "The manager refused the satellite's credentials, or its Satellite was deleted: check the client ID and the token; retrying slowly",
				"clientId", a.cfg.ClientID, "retryIn", plan.delay.String(), "retryOnTokenFileChange", a.cfg.TokenFile != "")
		case endGoingAway:
			a.log.Info("The manager went away; reconnecting", "reason", errString(end.err), "retryIn", plan.delay.String())
		default:
			a.log.Info("No connection to the manager; retrying", "error", errString(end.err), "retryIn", plan.delay.String())
		}
		if !a.wait(ctx, plan.delay, plan.watchToken) {
			return nil
		}
	}
}

// wait waits for d, or until the token file holds another token than oldToken (when oldToken is
// set). It returns false when ctx is done first.
func (a *Agent) wait(ctx context.Context, d time.Duration, oldToken string) bool {
	timer := a.clock.NewTimer(d)
	defer timer.Stop()
	var poll <-chan time.Time
	if oldToken != "" && a.cfg.TokenFile != "" {
		t := a.clock.NewTicker(a.cfg.TokenPollInterval)
		defer t.Stop()
		poll = t.C()
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C():
			return true
		case <-poll:
			if token, err := readToken(a.cfg.TokenFile); err == nil && token != oldToken {
				a.log.Info("The token file changed; reconnecting", "tokenFile", a.cfg.TokenFile)
				return true
			}
		}
	}
}

// connect dials the manager, authenticates and serves the connection until it ends.
func (a *Agent) connect(ctx context.Context) connEnd {
	token, err := a.token()
	if err != nil {
		return connEnd{reason: endFailed, err: err}
	}
	a.dialAttempts.Add(1)
	a.metrics.dials.Inc()
	dialer := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		TLSClientConfig:  a.tls,
		HandshakeTimeout: handshakeTimeout,
	}
	header := http.Header{"User-Agent": {"checkstack-satellite/" + a.cfg.Version}}
	ws, resp, err := dialer.DialContext(ctx, a.url, header)
	if err != nil {
		end := connEnd{reason: endFailed, token: token, err: fmt.Errorf("dialing %s: %w", a.url, err)}
		if resp != nil {
			_ = resp.Body.Close()
			end.err = fmt.Errorf("dialing %s: %s: %w", a.url, resp.Status, err)
			end.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		}
		return end
	}
	defer func() { _ = ws.Close() }()
	ws.SetReadLimit(readLimit)

	auth, end := a.authenticate(ws, token)
	if auth == nil {
		end.token = token
		return end
	}
	heartbeat := defaultHeartbeat
	if auth.HeartbeatIntervalSeconds > 0 {
		heartbeat = time.Duration(auth.HeartbeatIntervalSeconds) * time.Second
	}
	s := &session{
		agent:      a,
		ws:         ws,
		heartbeat:  heartbeat,
		pongWait:   2*heartbeat + 10*time.Second,
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	end = s.run(ctx, auth)
	end.token = token
	return end
}

// capabilities are what this agent advertises in authenticate and every heartbeat: it runs our
// CheckConfig, so the manager sends it that instead of Checkstack's strategies, and it applies
// config_patch, so a change is sent as what changed. With a buffer that holds what the manager
// takes before it writes (twice protocol.MaxUnwrittenResults), it asks for acks of written
// results only, so that a manager replica that is killed loses none that this agent let go.
func (a *Agent) capabilities() []string {
	if a.cfg.BufferSize >= 2*protocol.MaxUnwrittenResults {
		return []string{protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch, protocol.CapabilityWrittenAcks}
	}
	return []string{protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch}
}

// authenticate sends the credentials in the first frame and reads the manager's answer.
func (a *Agent) authenticate(ws *websocket.Conn, token string) (*protocol.Authenticated, connEnd) {
	frame, err := protocol.Encode(&protocol.Authenticate{ClientID: a.cfg.ClientID, Token: token, Capabilities: a.capabilities()})
	if err != nil {
		return nil, connEnd{reason: endFailed, err: fmt.Errorf("encoding authenticate: %w", err)}
	}
	_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		return nil, ended(fmt.Errorf("sending authenticate: %w", err), "")
	}
	_ = ws.SetReadDeadline(time.Now().Add(authTimeout))
	shutdown := ""
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return nil, ended(fmt.Errorf("waiting for authenticated: %w", err), shutdown)
		}
		msg, err := protocol.DecodeFromManager(data)
		if err != nil {
			return nil, connEnd{reason: endFailed, err: fmt.Errorf("decoding the answer to authenticate: %w", err)}
		}
		switch m := msg.(type) {
		case *protocol.Authenticated:
			return m, connEnd{}
		case *protocol.AuthFailed:
			return nil, connEnd{reason: endAuthFailed, err: fmt.Errorf("authentication failed: %s", m.Reason)}
		case *protocol.Shutdown:
			shutdown = m.Reason
		default:
			return nil, connEnd{reason: endFailed, err: fmt.Errorf("the manager answered authenticate with %s", m.MessageType())}
		}
	}
}

// retryAfter reads a Retry-After header in seconds; 0 when absent or not seconds.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, maxRetryAfter)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// session is one authenticated connection, as in gorilla's chat example: the reader runs in the
// connecting goroutine, and writePump is the only writer.
type session struct {
	agent     *Agent
	ws        *websocket.Conn
	heartbeat time.Duration
	// pongWait is how long the manager may stay silent; pings go out at 9/10 of it.
	pongWait   time.Duration
	readerDone chan struct{}
	writerDone chan struct{}
	// list is the list the manager last sent on this connection (in authenticated,
	// config_updated or config_patch): what its next config_patch applies to.
	list []protocol.Assignment
}

// run serves an authenticated connection until it ends.
func (s *session) run(ctx context.Context, auth *protocol.Authenticated) connEnd {
	a := s.agent
	connectedAt := a.clock.Now()
	a.connections.Add(1)
	a.setConnected(true)
	defer a.setConnected(false)
	a.log.Info("Connected to the manager", "satelliteId", auth.SatelliteID, "assignments", len(auth.Assignments),
		"heartbeatInterval", s.heartbeat.String(), "unacknowledgedResults", a.buffer.len())
	s.list = auth.Assignments
	a.applyAssignments(protocol.TypeAuthenticated, s.list)

	go s.writePump(ctx)
	end := s.readPump()
	close(s.readerDone)
	<-s.writerDone
	end.upFor = a.clock.Since(connectedAt)
	if ctx.Err() == nil {
		a.log.Info("Disconnected from the manager", "error", errString(end.err), "connectedFor", end.upFor.String())
	}
	return end
}

// readPump reads the manager's frames until the connection ends.
func (s *session) readPump() connEnd {
	a, ws := s.agent, s.ws
	extend := func() { _ = ws.SetReadDeadline(time.Now().Add(s.pongWait)) }
	extend()
	ws.SetPongHandler(func(string) error {
		extend()
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		extend()
		// As gorilla's default handler: a pong that cannot be sent now is not worth failing the read.
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	shutdown := ""
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return ended(err, shutdown)
		}
		extend()
		if kind != websocket.TextMessage {
			continue
		}
		msg, err := protocol.DecodeFromManager(data)
		if err != nil {
			// The checks keep their last good schedule; a reconnect would only fetch the same list.
			a.log.Error(err, "Ignoring a frame from the manager that the agent cannot decode")
			continue
		}
		switch m := msg.(type) {
		case *protocol.ConfigUpdated:
			s.list = m.Assignments
			a.applyAssignments(m.MessageType(), s.list)
		case *protocol.ConfigPatch:
			s.list = m.Apply(s.list)
			a.applyAssignments(m.MessageType(), s.list)
		case *protocol.ResultAck:
			a.acked(m.IDs)
		case *protocol.Shutdown:
			shutdown = m.Reason
			a.log.Info("The manager announced that it closes the connection", "reason", m.Reason)
		case *protocol.AuthFailed:
			shutdown = protocol.ShutdownTokenRotate
			a.log.Info("The manager no longer accepts the satellite's credentials", "reason", m.Reason)
		}
	}
}

// writePump is the connection's only writer: heartbeats, pings, strategy errors and results,
// and the close frame when the agent shuts down.
func (s *session) writePump(ctx context.Context) {
	a, ws := s.agent, s.ws
	defer close(s.writerDone)
	heartbeats := a.clock.NewTicker(s.heartbeat)
	defer heartbeats.Stop()
	pings := a.clock.NewTicker(s.pongWait * 9 / 10)
	defer pings.Stop()
	limiter := rate.NewLimiter(sendRate, sendBurst)
	// cursor is the seq of the last result sent on this connection: a new connection resends
	// every unacknowledged result, in order.
	var cursor uint64
	var paced <-chan time.Time

	write := func(kind int, data []byte) bool {
		_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
		if err := ws.WriteMessage(kind, data); err != nil {
			// Closing the socket ends the reader, which reports the end of the connection.
			_ = ws.Close()
			return false
		}
		return true
	}
	heartbeat := func() bool {
		frame, err := protocol.Encode(&protocol.Heartbeat{Version: a.cfg.Version, UptimeSeconds: a.clock.Since(a.startedAt).Seconds(),
			Capabilities: a.capabilities()})
		if err != nil {
			a.log.Error(err, "Encoding a heartbeat")
			return true
		}
		return write(websocket.TextMessage, frame)
	}
	flush := func() bool {
		paced = nil
		errs := a.takeStrategyErrors()
		for i := range errs {
			frame, err := protocol.Encode(&errs[i])
			if err == nil && !write(websocket.TextMessage, frame) {
				a.requeueStrategyErrors(errs[i:])
				return false
			}
		}
		for {
			batch := a.buffer.after(cursor, sendBatch)
			if len(batch) == 0 {
				return true
			}
			for _, p := range batch {
				if !limiter.AllowN(a.clock.Now(), 1) {
					paced = a.clock.After(time.Second / sendRate)
					return true
				}
				if !write(websocket.TextMessage, p.frame) {
					return false
				}
				cursor = p.seq
			}
		}
	}

	if !heartbeat() || !flush() {
		return
	}
	for {
		select {
		case <-s.readerDone:
			return
		case <-ctx.Done():
			_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
			_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "satellite agent shutting down"))
			select {
			case <-s.readerDone:
			case <-time.After(closeGrace):
				_ = ws.Close()
			}
			return
		case <-heartbeats.C():
			if !heartbeat() {
				return
			}
		case <-pings.C():
			if !write(websocket.PingMessage, nil) {
				return
			}
		case <-a.wake:
			if !flush() {
				return
			}
		case <-paced:
			if !flush() {
				return
			}
		}
	}
}
