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

package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// closeGrace is how long the writer waits, after its close frame, for the peer's close before
// it drops the connection; closing at once could reset the socket before the frame is read.
const closeGrace = time.Second

// maxCloseReason is the room for a reason in a close frame (125 bytes less the code).
const maxCloseReason = 123

// session is one WebSocket connection, as in gorilla's chat example: run is the only reader and
// writePump the only writer, each in a goroutine of its own, and a bounded queue between them
// means a slow satellite is disconnected instead of blocking anyone. It is the fleet's Conn for
// the satellite it authenticated as.
type session struct {
	hub      *Hub
	conn     *websocket.Conn
	send     chan []byte
	limiter  *rate.Limiter
	bytes    *rate.Limiter // the byte budget
	remote   string        // the peer's address, for the log
	done     chan struct{} // closed when the session is to end
	finished chan struct{} // closed when the reader has ended
	// release gives back the admission slot the session holds until it authenticates.
	release func()

	closeOnce sync.Once
	closeCode int    // the code of a close the hub started; 0 when the peer or network ended it
	closeText string // its reason
	final     []byte // a frame (shutdown, auth_failed) written before the close frame

	// handle is set when the session authenticates, before authed turns true.
	handle fleet.Handle
	authed atomic.Bool

	// config_updated replaces the whole list, so only the latest one matters: the fleet marks
	// the session dirty, and the writer fetches the list when it gets to it. A burst of
	// assignment changes (a kubectl apply of hundreds) so becomes one frame, instead of filling
	// the queue with lists the satellite would at once discard.
	configDirty atomic.Bool
	configReady chan struct{} // capacity 1: a pending config waits for the writer
}

// RemoteAddr is the peer's address, as fleet.Conn asks.
func (s *session) RemoteAddr() string { return s.remote }

// logger names the session by its peer's address and, once authenticated, its Satellite. It is
// built for each message, not kept: sessions log rarely, and a logger with values holds an
// encoder buffer of about 1 KiB, 20 MiB for two per session at 10,000 satellites.
func (s *session) logger() logr.Logger {
	l := s.hub.log.WithValues("remote", s.remote)
	if s.authed.Load() { // handle is set before authed turns true
		l = l.WithValues("satellite", s.handle.Key())
	}
	return l
}

// Close ends the session: the writer sends final, then a close frame with code and reason.
// It never blocks.
func (s *session) Close(code int, reason string, final protocol.Message) {
	s.closeOnce.Do(func() {
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		s.closeCode, s.closeText = code, reason
		if final != nil {
			s.final, _ = protocol.Encode(final)
		}
		close(s.done)
	})
}

// Acknowledge queues a result_ack, for results the fleet acknowledges once they are written.
// It never blocks.
func (s *session) Acknowledge(ids []string) { s.sendMessage(&protocol.ResultAck{IDs: ids}) }

// ConfigChanged tells the writer that the satellite's list changed. It never blocks.
func (s *session) ConfigChanged() {
	s.configDirty.Store(true)
	s.wakeWriter()
}

func (s *session) wakeWriter() {
	select {
	case s.configReady <- struct{}{}:
	default: // the writer is already due to look
	}
}

// sendMessage queues a frame for the writer. A full queue means the satellite does not read:
// it is disconnected rather than allowed to hold memory or block the caller.
func (s *session) sendMessage(m protocol.Message) {
	data, err := protocol.Encode(m)
	if err != nil {
		s.logger().Error(err, "Encoding a frame", "type", m.MessageType())
		return
	}
	s.sendFrame(data)
}

// sendFrame queues an encoded frame for the writer, as sendMessage does.
func (s *session) sendFrame(data []byte) {
	select {
	case s.send <- data:
	default:
		s.Close(websocket.ClosePolicyViolation, "send queue full: the satellite reads too slowly", nil)
	}
}

// run authenticates the session, then reads its frames until it ends.
func (s *session) run(ctx context.Context, clientID, bearer string) {
	var readErr error
	defer func() { s.finish(readErr) }()
	if !s.authenticate(ctx, clientID, bearer) {
		return
	}
	opts := &s.hub.opts
	extend := func() error { return s.conn.SetReadDeadline(time.Now().Add(opts.PongWait)) }
	_ = extend()
	s.conn.SetPongHandler(func(string) error { return extend() })
	// Gorilla's own limit only bounds what a frame over ours costs to measure; ours is checked
	// by readFrame, which can say how large the frame was and of which type.
	s.conn.SetReadLimit(opts.ReadLimit * drainFactor)
	for {
		kind, data, err := s.readFrame(opts.ReadLimit)
		var big *tooLargeError
		if errors.As(err, &big) {
			s.logger().Info("Closing session: frame over the limit", "size", big.size, "limit", opts.ReadLimit, "type", big.frameType)
			s.Close(websocket.CloseMessageTooBig, big.Error(), nil)
			return
		}
		if err != nil {
			readErr = err
			return
		}
		_ = extend()
		if !s.limiter.Allow() {
			s.logger().Info("Closing session: message rate limit exceeded")
			s.Close(websocket.ClosePolicyViolation, "message rate limit exceeded", nil)
			return
		}
		if !s.bytes.AllowN(time.Now(), len(data)) {
			s.logger().Info("Closing session: byte rate limit exceeded", "size", len(data))
			s.Close(websocket.ClosePolicyViolation, "byte rate limit exceeded", nil)
			return
		}
		if kind != websocket.TextMessage {
			s.logger().Info("Closing session: binary frame")
			s.Close(websocket.CloseUnsupportedData, "only JSON text frames are accepted", nil)
			return
		}
		msg, err := protocol.DecodeFromSatellite(data)
		if t, unknown := protocol.UnknownType(data, err); unknown {
			// Checkstack's protocol grows frame types (telemetry, secrets on demand) that its
			// core logs and ignores; closing would make its agent reconnect in a loop.
			s.hub.metrics.ignored.WithLabelValues(ignoredLabel(t)).Inc()
			if s.hub.log.V(1).Enabled() {
				s.logger().V(1).Info("Ignoring a frame of an unknown type", "type", ignoredLabel(t))
			}
			continue
		}
		if err != nil {
			s.logger().Info("Closing session: bad frame", "error", err.Error())
			s.Close(websocket.ClosePolicyViolation, err.Error(), nil)
			return
		}
		switch m := msg.(type) {
		case *protocol.Heartbeat:
			s.hub.fleet.Heartbeat(s.handle, m.Version, m.Capabilities)
		case *protocol.Result:
			status, ackLater := s.hub.fleet.Ingest(s.handle, m)
			s.hub.metrics.results.WithLabelValues(status).Inc()
			if m.ID != "" && !ackLater {
				// Rejected and duplicate results are acknowledged too: resending cannot help.
				s.sendMessage(&protocol.ResultAck{IDs: []string{m.ID}})
			}
		case *protocol.StrategyError:
			s.logger().Info("Satellite cannot run a check type", "strategy", m.StrategyID, "message", m.Message)
		case *protocol.Authenticate:
			s.logger().Info("Closing session: a second authenticate")
			s.Close(websocket.ClosePolicyViolation, "already authenticated", nil)
			return
		}
	}
}

// drainFactor times the read limit is how much of a frame over the limit is read (and thrown
// away) to measure it before gorilla gives up on it.
const drainFactor = 4

// tooLargeError is a frame over the read limit.
type tooLargeError struct {
	size      int64 // bytes read of it; at least this large when capped
	capped    bool
	frameType string
}

func (e *tooLargeError) Error() string {
	at := ""
	if e.capped {
		at = "at least "
	}
	return fmt.Sprintf("frame of %s%d bytes is over the limit", at, e.size)
}

// readFrame reads one frame of at most limit bytes. A larger one is read on, into nothing, up to
// gorilla's limit, so that its size and type can be logged: a poison message must say what it is.
func (s *session) readFrame(limit int64) (int, []byte, error) {
	kind, r, err := s.conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return 0, nil, err
	}
	if n <= limit {
		return kind, buf.Bytes(), nil
	}
	rest, err := io.Copy(io.Discard, r)
	return kind, nil, &tooLargeError{size: n + rest, capped: err != nil, frameType: sniffType(buf.Bytes())}
}

// typePattern finds a frame's "type" near its start, for the log of a frame too large to decode.
var typePattern = regexp.MustCompile(`"type"\s*:\s*"([A-Za-z0-9_.-]{1,64})"`)

func sniffType(frame []byte) string {
	if m := typePattern.FindSubmatch(frame[:min(len(frame), 4096)]); m != nil {
		return string(m[1])
	}
	return "unknown"
}

// authenticate takes the credentials from the upgrade or from the first frame, within the
// pre-auth timeout, and answers authenticated, or auth_failed, or 1013 while the manager still
// loads the credentials they may match.
func (s *session) authenticate(ctx context.Context, clientID, bearer string) bool {
	token := bearer
	// A bearer client advertises its capabilities in its heartbeats; until the first, it is
	// taken for a Checkstack satellite, as any client that advertises nothing.
	var caps []string
	if bearer == "" {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.hub.opts.PreAuthTimeout))
		kind, data, err := s.conn.ReadMessage()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			s.Close(protocol.CloseAuthTimeout, "no authentication within the timeout", nil)
			return false
		case errors.Is(err, websocket.ErrReadLimit):
			// Gorilla answered with 1009 already.
			s.logger().Info("Closing connection: first frame over the limit", "limit", s.hub.opts.PreAuthReadLimit)
			return false
		case err != nil:
			return false
		case kind != websocket.TextMessage:
			// As after authentication, and before decoding: a binary frame is no authenticate.
			const reason = "only JSON text frames are accepted"
			s.Close(websocket.CloseUnsupportedData, reason, &protocol.AuthFailed{Reason: reason})
			return false
		}
		msg, err := protocol.DecodeFromSatellite(data)
		if err != nil {
			// An unknown type fails authentication too: only authenticate may come first.
			s.Close(websocket.ClosePolicyViolation, err.Error(), &protocol.AuthFailed{Reason: err.Error()})
			return false
		}
		auth, ok := msg.(*protocol.Authenticate)
		if !ok {
			const reason = "the first frame must be authenticate"
			s.Close(websocket.ClosePolicyViolation, reason, &protocol.AuthFailed{Reason: reason})
			return false
		}
		clientID, token, caps = auth.ClientID, auth.Token, auth.Capabilities
	}
	var handle fleet.Handle
	var assignments []json.RawMessage
	var authErr error
	ok, wait := s.hub.judge(ctx, clientID, func() bool {
		handle, assignments, authErr = s.hub.fleet.Authenticate(clientID, token, caps, s)
		return authErr == nil
	})
	var dup *fleet.DuplicateError
	switch {
	case errors.As(authErr, &dup):
		s.logger().Info("Refused another agent of a connected satellite: agents that share its identity kept replacing each other",
			"clientId", clientID, "until", dup.Until)
		s.Close(protocol.CloseDuplicate, "another agent of this satellite holds its session", &protocol.Shutdown{Reason: protocol.ShutdownDuplicate})
		return false
	case wait != "":
		s.Close(closeTryAgainLater, wait+"; try again later", nil)
		return false
	}
	if !ok {
		// The client ID is the Satellite's UID, not a secret; the token is never logged.
		s.logger().Info("Authentication failed", "clientId", clientID)
		s.Close(protocol.CloseAuthFailed, "authentication failed", &protocol.AuthFailed{Reason: "invalid credentials"})
		return false
	}
	s.release()
	s.handle = handle
	s.sendFrame(protocol.AuthenticatedFrame(string(handle.UID()), assignments, int(s.hub.opts.HeartbeatInterval/time.Second)))
	// A change the fleet announced before authenticated was queued waits for it: the writer
	// takes no list until authed, and is woken here if one is due.
	s.authed.Store(true)
	if s.configDirty.Load() {
		s.wakeWriter()
	}
	s.logger().Info("Satellite authenticated")
	return true
}

// finish records the end of the session, and logs it with its reason and code: the manager's
// close, or the peer's, or what broke the connection.
func (s *session) finish(readErr error) {
	s.Close(0, "", nil)
	s.release()
	clean := s.closeCode != 0 || websocket.IsCloseError(readErr, websocket.CloseNormalClosure, websocket.CloseGoingAway)
	by, code, reason := "manager", s.closeCode, s.closeText
	if code == 0 {
		by, code, reason = "network", 0, "connection lost"
		var ce *websocket.CloseError
		switch {
		case errors.As(readErr, &ce):
			by, code, reason = "satellite", ce.Code, ce.Text
		case readErr != nil:
			reason = readErr.Error()
		}
	}
	if s.authed.Load() {
		s.hub.fleet.Disconnected(s.handle, clean, s.closeCode, s.closeText)
		s.logger().Info("Satellite disconnected", "clean", clean, "closedBy", by, "code", code, "reason", reason)
	} else {
		s.logger().Info("Connection closed before authentication", "closedBy", by, "code", code, "reason", reason)
	}
	s.hub.ended(s)
	close(s.finished)
}

// drainQueue writes the frames queued so far; it reports false when the connection failed.
func (s *session) drainQueue(write func(int, []byte) error) bool {
	for {
		select {
		case data := <-s.send:
			if err := write(websocket.TextMessage, data); err != nil {
				s.Close(0, "", nil)
				return false
			}
		default:
			return true
		}
	}
}

// writePump is the connection's only writer. It pings at 9/10 of the pong wait so a silent peer
// is noticed, and on close writes the final frame and the close frame.
// maxConfigGap bounds, in ConfigIntervals, how long a push of a burst is held back.
const maxConfigGap = 4

func (s *session) writePump() {
	opts := &s.hub.opts
	ping := time.NewTicker(opts.PongWait * 9 / 10)
	defer func() {
		ping.Stop()
		_ = s.conn.Close()
	}()
	write := func(kind int, data []byte) error {
		_ = s.conn.SetWriteDeadline(time.Now().Add(opts.WriteWait))
		return s.conn.WriteMessage(kind, data)
	}
	// A change goes out at once, but a burst of them (a kubectl apply of hundreds of
	// assignments, each a full list) is coalesced: hold is the timer of a push waiting for gap
	// to pass since the last one, and the list it sends is the latest. gap starts at
	// ConfigInterval and doubles, up to maxConfigGap intervals, with each push a burst held
	// back; a change after a quiet gap goes out at once and starts again at ConfigInterval.
	// At 10,000 satellites each list of 100 assignments is tens of kilobytes per session, and
	// a 50 s burst sent at one push a second was 50 of them to every satellite.
	var lastConfig time.Time
	var hold <-chan time.Time
	gap := opts.ConfigInterval
	writeConfig := func() bool {
		if !s.configDirty.Swap(false) {
			return true
		}
		// Frames queued before the push (authenticated first of all) go out before it.
		if !s.drainQueue(write) {
			return false
		}
		frame, ok := s.hub.fleet.ConfigFrame(s.handle)
		if !ok {
			return true // replaced or ended; its close is on the way
		}
		lastConfig = time.Now()
		if err := write(websocket.TextMessage, frame); err != nil {
			s.Close(0, "", nil)
			return false
		}
		return true
	}
	for {
		select {
		case data := <-s.send:
			if err := write(websocket.TextMessage, data); err != nil {
				s.Close(0, "", nil)
				return
			}
		case <-s.configReady:
			if !s.authed.Load() || hold != nil {
				continue // not yet, or the held push takes this change along
			}
			if wait := gap - time.Since(lastConfig); !lastConfig.IsZero() && wait > 0 {
				hold = time.After(wait)
				continue
			}
			gap = opts.ConfigInterval
			if !writeConfig() {
				return
			}
		case <-hold:
			hold = nil
			gap = min(2*gap, maxConfigGap*opts.ConfigInterval)
			if !writeConfig() {
				return
			}
		case <-ping.C:
			if err := write(websocket.PingMessage, nil); err != nil {
				s.Close(0, "", nil)
				return
			}
		case <-s.done:
			if s.closeCode != 0 {
				if s.final != nil {
					_ = write(websocket.TextMessage, s.final)
				}
				_ = write(websocket.CloseMessage, websocket.FormatCloseMessage(s.closeCode, s.closeText))
			}
			select {
			case <-s.finished:
			case <-time.After(closeGrace):
			}
			return
		}
	}
}
