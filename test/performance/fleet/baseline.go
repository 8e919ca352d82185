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
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// The baseline is the floor a fleet server cannot go below: a bare gorilla server in the shape of
// gorilla's chat example (a reader and a writer goroutine per connection, a bounded send queue,
// pings at 9/10 of the pong wait) doing the manager's per-connection work and nothing else: the
// same strict frame decoding, authentication by SHA-256 of the token compared in constant time,
// heartbeats, pings and result acknowledgements. It has no Kubernetes, no assignments and no
// admission control.

// baselineServer holds the credentials and what the connections did.
type baselineServer struct {
	creds    map[string][32]byte // clientId -> SHA-256 of the token
	interval time.Duration
	upgrader websocket.Upgrader

	authenticated, heartbeats, results, failed atomic.Int64
}

func baselineMain(args []string) int {
	fs := flag.NewFlagSet("baseline", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "Address to serve /api/ws/satellite on.")
	credsPath := fs.String("creds", "", "JSON file of the credentials to accept.")
	interval := fs.Duration("heartbeat-interval", 15*time.Second, "Heartbeat interval told to clients, as the manager's --heartbeat-interval.")
	_ = fs.Parse(args)
	fmt.Fprintln(os.Stderr, "baseline:", raiseNoFile())
	creds, err := readCredentials(*credsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	s := &baselineServer{creds: make(map[string][32]byte, len(creds)), interval: *interval}
	for _, c := range creds {
		s.creds[c.ClientID] = sha256.Sum256([]byte(c.Token))
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle(protocol.Path, s)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "baseline: serving %d credentials on %s\n", len(creds), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "baseline: %d authenticated, %d failed, %d heartbeats, %d results\n",
		s.authenticated.Load(), s.failed.Load(), s.heartbeats.Load(), s.results.Load())
	return 0
}

func (s *baselineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	go s.serve(conn)
}

// serve is one connection's reader; its writer runs beside it.
func (s *baselineServer) serve(conn *websocket.Conn) {
	defer func() { _ = conn.Close() }()
	pongWait := 2*s.interval + 10*time.Second
	conn.SetReadLimit(64 << 10)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		return
	}
	m, err := protocol.DecodeFromSatellite(data)
	auth, ok := m.(*protocol.Authenticate)
	if err != nil || !ok || !s.verify(auth) {
		s.failed.Add(1)
		frame, _ := protocol.Encode(&protocol.AuthFailed{Reason: "invalid credentials"})
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		_ = conn.WriteMessage(websocket.TextMessage, frame)
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseAuthFailed, "invalid credentials"), time.Now().Add(writeWait))
		return
	}
	s.authenticated.Add(1)
	send := make(chan []byte, 64)
	done := make(chan struct{})
	defer close(done)
	send <- protocol.AuthenticatedFrame(auth.ClientID, nil, int(s.interval/time.Second))
	go s.writer(conn, send, done, pongWait)
	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(pongWait))
		m, err := protocol.DecodeFromSatellite(data)
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *protocol.Heartbeat:
			s.heartbeats.Add(1)
		case *protocol.Result:
			s.results.Add(1)
			if m.ID == "" {
				continue
			}
			ack, err := protocol.Encode(&protocol.ResultAck{IDs: []string{m.ID}})
			if err != nil {
				return
			}
			select {
			case send <- ack:
			default:
				// A client that does not read its acks is dropped, not waited for.
				return
			}
		}
	}
}

func (s *baselineServer) verify(a *protocol.Authenticate) bool {
	want, ok := s.creds[a.ClientID]
	got := sha256.Sum256([]byte(a.Token))
	return ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// writer writes queued frames and pings every 9/10 of pongWait, each write with a deadline.
func (s *baselineServer) writer(conn *websocket.Conn, send <-chan []byte, done <-chan struct{}, pongWait time.Duration) {
	ping := time.NewTicker(pongWait * 9 / 10)
	defer ping.Stop()
	for {
		select {
		case <-done:
			return
		case frame := <-send:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				_ = conn.Close()
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				_ = conn.Close()
				return
			}
		}
	}
}
