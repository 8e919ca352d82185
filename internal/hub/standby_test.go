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
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestStandbyTurnsSatellitesAway runs a hub that does not lead yet: it is not ready, and it
// closes every upgrade with 1013 so the satellite tries again (through the Service, the leader).
func TestStandbyTurnsSatellitesAway(t *testing.T) {
	h := New(Options{Addr: "127.0.0.1:0", Standby: true}, fleet.New(fleet.Options{}, clock.RealClock{}), clock.RealClock{}, logr.Discard())
	addr := startHub(t, h)

	if err := h.ReadyCheck(nil); err == nil {
		t.Error("a standby reports ready")
	}
	ws := dialHub(t, addr)
	if code := closeCodeOf(ws); code != closeTryAgainLater {
		t.Errorf("a standby ended the connection with %d, want close %d", code, closeTryAgainLater)
	}

	h.Lead()
	if err := h.ReadyCheck(nil); err != nil {
		t.Errorf("the leader is not ready: %v", err)
	}
}

// TestHandoverClosesSessions checks what a hub does when another replica leads: its sessions
// end with 1001 and the shutdown frame that tells the agent to dial again at once, it is not
// ready, new upgrades get 1013, and a second handover changes nothing.
func TestHandoverClosesSessions(t *testing.T) {
	f := fleet.New(fleet.Options{}, clock.RealClock{})
	f.UpsertSatellite(fleet.SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "eu-west"}, UID: "uid-1",
		TokenHash: fleet.HashToken([]byte("csat_x")), HasToken: true})
	h := New(Options{Addr: "127.0.0.1:0"}, f, clock.RealClock{}, logr.Discard())
	addr := startHub(t, h)

	ws := dialHub(t, addr)
	frame, err := protocol.Encode(&protocol.Authenticate{ClientID: "uid-1", Token: "csat_x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var auth map[string]any
	if err := ws.ReadJSON(&auth); err != nil || auth["type"] != string(protocol.TypeAuthenticated) {
		t.Fatalf("authenticating: %v, %v", auth, err)
	}

	h.Handover()
	h.Handover()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var final map[string]any
	if err := ws.ReadJSON(&final); err != nil || final["type"] != string(protocol.TypeShutdown) || final["reason"] != protocol.ShutdownGoingAway {
		t.Errorf("before the close the satellite read %v, %v; want a shutdown frame with reason %q", final, err, protocol.ShutdownGoingAway)
	}
	if code := closeCodeOf(ws); code != websocket.CloseGoingAway {
		t.Errorf("the handover closed the session with %d, want %d", code, websocket.CloseGoingAway)
	}
	if err := h.ReadyCheck(nil); err == nil {
		t.Error("a hub that handed its satellites over reports ready")
	}
	if code := closeCodeOf(dialHub(t, addr)); code != closeTryAgainLater {
		t.Errorf("after the handover an upgrade ended with %d, want %d", code, closeTryAgainLater)
	}
}

// startHub runs h until the test ends and returns its address.
func startHub(t *testing.T, h *Hub) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = h.Start(ctx) }()
	addr, err := h.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// dialHub opens a WebSocket to the hub at addr, closed when the test ends.
func dialHub(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+protocol.Path, nil)
	if err != nil {
		t.Fatalf("dialing the hub: %v", err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// closeCodeOf reads until the connection ends and returns its close code, or -1 when it ended
// without one.
func closeCodeOf(ws *websocket.Conn) int {
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return -1
		}
	}
}

// TestNewLeaderWaitsForCredentials checks that a hub that does not yet hold every Satellite's
// token turns satellites away with "try again" instead of failing their authentication.
func TestNewLeaderWaitsForCredentials(t *testing.T) {
	sat := &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "eu-west", UID: "uid-1"}}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(sat).Build()
	clk := clocktesting.NewFakeClock(time.Now())
	f := fleet.New(fleet.Options{}, clk)
	h := New(Options{Satellites: reader}, f, clk, logr.Discard())

	if err := h.ReadyCheck(nil); err == nil {
		t.Error("ready before the Satellite's credentials are loaded")
	}
	f.UpsertSatellite(fleet.SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "eu-west"}, UID: "uid-1",
		TokenHash: fleet.HashToken([]byte("csat_x")), HasToken: true})
	if err := h.ReadyCheck(nil); err == nil {
		t.Error("a look at the credentials within the last 250 ms does not answer for the next")
	}
	clk.Step(loadCheckInterval)
	if err := h.ReadyCheck(nil); err != nil {
		t.Errorf("not ready with every credential loaded: %v", err)
	}
}

// TestLoadingNamesTheSatellite checks what a failed authentication is told while a restarted
// manager loads credentials: 1013 for a client that names a Satellite the fleet does not hold
// yet, however long the load takes, and 4001 for anything it can tell is a wrong token.
func TestLoadingNamesTheSatellite(t *testing.T) {
	loaded := &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "loaded", UID: "uid-loaded"}}
	pending := &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "pending", UID: "uid-pending"}}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(loaded, pending).
		WithIndex(&v1alpha1.Satellite{}, SatelliteUIDIndex, satelliteUID).Build()
	clk := clocktesting.NewFakeClock(time.Now())
	f := fleet.New(fleet.Options{}, clk)
	h := New(Options{Satellites: reader}, f, clk, logr.Discard())
	f.UpsertSatellite(fleet.SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "loaded"}, UID: "uid-loaded",
		TokenHash: fleet.HashToken([]byte("csat_loaded")), HasToken: true})

	ctx := context.Background()
	check := func(when string, want map[string]bool) {
		t.Helper()
		for clientID, wantLoading := range want {
			if why := h.loading(ctx, clientID); (why != "") != wantLoading {
				t.Errorf("%s, client ID %q: loading says %q, want loading %v", when, clientID, why, wantLoading)
			}
		}
	}
	check("while loading", map[string]bool{
		"uid-pending": true,  // its Satellite exists, its credentials are not in the fleet yet
		"uid-loaded":  false, // the fleet holds its credentials: a failure is a wrong token
		"uid-none":    false, // no such Satellite
		"":            true,  // a token alone might be the pending Satellite's
	})
	clk.Step(credentialsWait + loadCheckInterval)
	check("after credentialsWait", map[string]bool{
		"uid-pending": true, // still its own credentials only
		"uid-loaded":  false,
		"uid-none":    false,
		"":            false, // the wait for every Satellite is over
	})
	f.UpsertSatellite(fleet.SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "pending"}, UID: "uid-pending",
		TokenHash: fleet.HashToken([]byte("csat_pending")), HasToken: true})
	check("once loaded", map[string]bool{"uid-pending": false})
}

// TestJudgeTriesAgainAfterALoad checks that credentials whose Satellite is loaded between the
// first try and the look at loading are tried once more, and accepted, not refused as wrong.
func TestJudgeTriesAgainAfterALoad(t *testing.T) {
	sat := &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "eu-west", UID: "uid-1"}}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(sat).
		WithIndex(&v1alpha1.Satellite{}, SatelliteUIDIndex, satelliteUID).Build()
	clk := clocktesting.NewFakeClock(time.Now())
	f := fleet.New(fleet.Options{}, clk)
	h := New(Options{Satellites: reader}, f, clk, logr.Discard())

	tries := 0
	try := func() bool {
		tries++
		ok := f.Verify("uid-1", "csat_x")
		if tries == 1 {
			// The SatelliteReconciler hands the fleet the credentials right after the first try.
			f.UpsertSatellite(fleet.SatelliteInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "eu-west"}, UID: "uid-1",
				TokenHash: fleet.HashToken([]byte("csat_x")), HasToken: true})
		}
		return ok
	}
	if ok, wait := h.judge(context.Background(), "uid-1", try); !ok || wait != "" || tries != 2 {
		t.Errorf("judge = (%v, %q) after %d tries, want accepted on the second", ok, wait, tries)
	}
	wrong := func() bool { return f.Verify("uid-1", "csat_wrong") }
	if ok, wait := h.judge(context.Background(), "uid-1", wrong); ok || wait != "" {
		t.Errorf("judge of a wrong token = (%v, %q), want refused for good", ok, wait)
	}
}
