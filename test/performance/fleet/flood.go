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
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

const (
	// floodConns is how many upgrades the flooder keeps trying to hold open at once, each never
	// authenticating: issue 8's 3,000.
	floodConns = 3000
	// floodRetry is how long one of the flooder's dialers waits after a refusal: 3,000 of them
	// are then thousands of refused upgrades a second.
	floodRetry = time.Second
	// floodProbe names the Satellite that connects during the flood.
	floodProbe = "flood-probe"
)

// Loopback addresses the swarm does not use (it takes 127.0.0.2 and up, -sources of them).
var (
	floodFrom = &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}
	probeFrom = &net.TCPAddr{IP: net.IPv4(127, 0, 1, 2)}
)

// floodCounts is what the flooder saw.
type floodCounts struct {
	open, maxOpen, upgraded, refused, failed atomic.Int64
}

// floodPhase measures admission under a flood. One address opens upgrades that never
// authenticate, up to floodConns at once, and dials again as each ends or is refused, while a
// Satellite created for it connects from another address as the agent does. The figure is how
// long that satellite took to authenticate; the goal is 10 s. The Satellite is deleted after.
func floodPhase(ctx context.Context, o options, r *report, cl *cluster, w *fleetWatch, hubURL string) error {
	sat := &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Name: floodProbe, Namespace: o.namespace},
		Spec: v1alpha1.SatelliteSpec{Region: regions[0]}}
	if err := cl.client.Create(ctx, sat); err != nil {
		return err
	}
	defer func() { _ = cl.client.Delete(context.WithoutCancel(ctx), sat) }()
	if err := w.waitTokens(ctx, r.n+1, 2*time.Minute); err != nil {
		return err
	}
	creds, err := w.credentials(ctx, o.namespace, []string{floodProbe})
	if err != nil {
		return err
	}

	floodCtx, stopFlood := context.WithCancel(ctx)
	defer stopFlood()
	var counts floodCounts
	var wg sync.WaitGroup
	for range floodConns {
		wg.Go(func() { flood(floodCtx, hubURL, &counts) })
	}
	// The probe starts once the flood holds what it can and is being refused, or after 30 s.
	for deadline := time.Now().Add(30 * time.Second); counts.refused.Load() < floodConns && time.Now().Before(deadline); {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	took, dials, err := probe(ctx, hubURL, creds[0], time.Minute)
	stopFlood()
	wg.Wait()
	r.set("flood.open", float64(counts.maxOpen.Load()))
	r.set("flood.refused", float64(counts.refused.Load()))
	if err != nil {
		return fmt.Errorf("a satellite from another address during the flood: %w", err)
	}
	r.set("flood.probe", took.Seconds())
	fmt.Printf("flood: one address held at most %d upgrades open (%d upgraded, %d refused, %d failed); a satellite from another address authenticated after %.1fs (%d dials)\n",
		counts.maxOpen.Load(), counts.upgraded.Load(), counts.refused.Load(), counts.failed.Load(), took.Seconds(), dials)
	return nil
}

// flood keeps one upgrade from floodFrom open, never authenticating, until ctx ends.
func flood(ctx context.Context, url string, c *floodCounts) {
	d := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: floodFrom, Timeout: 10 * time.Second}).DialContext,
		HandshakeTimeout: 10 * time.Second}
	for ctx.Err() == nil {
		conn, resp, err := d.DialContext(ctx, url, nil)
		if err != nil {
			if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
				c.refused.Add(1)
			} else {
				c.failed.Add(1)
			}
			if sleep(ctx, floodRetry) != nil {
				return
			}
			continue
		}
		c.upgraded.Add(1)
		open := c.open.Add(1)
		for {
			if m := c.maxOpen.Load(); open <= m || c.maxOpen.CompareAndSwap(m, open) {
				break
			}
		}
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		for {
			// The manager closes it at its pre-auth timeout; nothing is ever sent.
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
		stop()
		_ = conn.Close()
		c.open.Add(-1)
	}
}

// probe connects as the agent does, from probeFrom: on a refused upgrade it waits a full-jitter
// backoff, at least Retry-After, and dials again. It returns how long it took to be
// authenticated and how many dials that was, then closes cleanly.
func probe(ctx context.Context, url string, cred credential, timeout time.Duration) (time.Duration, int, error) {
	d := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: probeFrom, Timeout: authWait}).DialContext,
		HandshakeTimeout: authWait}
	start := time.Now()
	ceiling := time.Duration(0)
	for dials := 1; ; dials++ {
		if time.Since(start) > timeout {
			return 0, dials - 1, fmt.Errorf("not authenticated within %s", timeout)
		}
		conn, resp, err := d.DialContext(ctx, url, nil)
		if err == nil {
			ok, aerr := authenticateOnce(conn, cred)
			took := time.Since(start)
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(writeWait))
			_ = conn.Close()
			if ok {
				return took, dials, nil
			}
			if aerr != nil && !errors.Is(aerr, errTryAgain) {
				return 0, dials, aerr
			}
		}
		var delay time.Duration
		delay, ceiling = fullJitter(ceiling)
		if resp != nil {
			delay = max(delay, retryAfterHeader(resp.Header.Get("Retry-After")))
		}
		if err := sleep(ctx, delay); err != nil {
			return 0, dials, err
		}
	}
}

// errTryAgain is a close 1013: the manager asks the client to come back.
var errTryAgain = errors.New("try again later")

// authenticateOnce sends authenticate and reads the answer.
func authenticateOnce(conn *websocket.Conn, cred credential) (bool, error) {
	frame, _ := protocol.Encode(&protocol.Authenticate{ClientID: cred.ClientID, Token: cred.Token,
		Capabilities: capabilities(true)})
	_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		return false, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(authWait))
	_, data, err := conn.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == websocket.CloseTryAgainLater {
		return false, errTryAgain
	}
	if err != nil {
		return false, err
	}
	var first struct {
		Type protocol.Type `json:"type"`
	}
	_ = json.Unmarshal(data, &first)
	if first.Type != protocol.TypeAuthenticated {
		return false, fmt.Errorf("answered %s", first.Type)
	}
	return true, nil
}
