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

package fleet

import (
	"errors"
	"testing"
	"time"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestDuplicatesAreHeldDown plays two agents with one identity that reconnect after every close:
// the third replacement within a minute begins a hold-down, which keeps its session and refuses
// the others until it ends.
func TestDuplicatesAreHeldDown(t *testing.T) {
	f, clk, sink := newPresenceFleet()
	dial := func(remote string) (*recordingConn, error) {
		c := &recordingConn{remote: remote}
		_, _, err := f.Authenticate("uid-1", "csat_a", nil, c)
		return c, err
	}
	var last *recordingConn
	for i, remote := range []string{"10.0.0.1:1000", "10.0.0.2:2000", "10.0.0.1:1001", "10.0.0.2:2001"} {
		c, err := dial(remote)
		if err != nil {
			t.Fatalf("connection %d (%d replacements) was refused: %v", i, i, err)
		}
		if last != nil && last.closed != protocol.CloseReplaced {
			t.Errorf("connection %d did not replace the one before: it was closed with %d", i, last.closed)
		}
		last = c
		if i < DuplicateReplacements {
			clk.Step(5 * time.Second)
		}
	}
	began := clk.Now()
	p := sink.got[len(sink.got)-1]
	if since, until, held := HoldDown(p.Replacements); !held || !since.Equal(began) || !until.Equal(began.Add(DuplicateHoldDown)) {
		t.Fatalf("the third replacement published %v: hold-down %v to %v (%v), want one from %v", p.Replacements, since, until, held, began)
	}
	if p.RemoteAddr != "10.0.0.2:2001" || p.ReplacedAddr != "10.0.0.1:1001" {
		t.Errorf("published the session at %q replacing %q, want 10.0.0.2:2001 replacing 10.0.0.1:1001", p.RemoteAddr, p.ReplacedAddr)
	}

	clk.Step(5 * time.Second)
	_, err := dial("10.0.0.1:1002")
	var dup *DuplicateError
	if !errors.As(err, &dup) || !dup.Until.Equal(began.Add(DuplicateHoldDown)) {
		t.Fatalf("a newcomer after three replacements within a minute got %v, want a hold-down until %v", err, began.Add(DuplicateHoldDown))
	}
	if last.closed != 0 {
		t.Errorf("the incumbent was closed with %d", last.closed)
	}
	clk.Step(2 * DuplicateWindow)
	if _, err := dial("10.0.0.1:1003"); !errors.As(err, &dup) {
		t.Errorf("a newcomer during the hold-down, after the window, got %v, want refused", err)
	}

	clk.SetTime(began.Add(DuplicateHoldDown))
	if _, err := dial("10.0.0.1:1004"); err != nil {
		t.Errorf("a newcomer after the hold-down was refused: %v", err)
	}
	if last.closed != protocol.CloseReplaced {
		t.Errorf("the incumbent was not replaced after the hold-down: closed with %d", last.closed)
	}
}

// TestDuplicatesAcrossReplicas plays two agents with one identity on two replicas: each
// replaces the other's session there, and the replacements that one replica records in the
// presence reach the other, so that the third begins the same hold-down on both.
func TestDuplicatesAcrossReplicas(t *testing.T) {
	a, clk, sinkA := newPresenceFleet()
	b, _, sinkB := newPresenceFleet()
	b.clock = clk
	fleets := map[*Fleet]*recordingSink{a: sinkA, b: sinkB}
	other := map[*Fleet]*Fleet{a: b, b: a}
	names := map[*Fleet]string{a: "replica-a", b: "replica-b"}
	// lease plays the presence Lease: what the holder published last, handed to the other.
	lease := func(from *Fleet) {
		p := fleets[from].got[len(fleets[from].got)-1]
		to := other[from]
		to.ObserveReplacements("uid-1", p.Replacements)
		to.Displaced("uid-1", Elsewhere{Holder: names[from], Since: p.Since, Open: true, RemoteAddr: p.RemoteAddr, For: time.Minute})
	}

	conns := map[*Fleet]*recordingConn{}
	for i, on := range []*Fleet{a, b, a, b} {
		c := &recordingConn{remote: []string{"10.0.0.1:1000", "10.0.0.2:2000", "10.0.0.1:1001", "10.0.0.2:2001"}[i]}
		if _, _, err := on.Authenticate("uid-1", "csat_a", nil, c); err != nil {
			t.Fatalf("connection %d on %s was refused: %v", i, names[on], err)
		}
		conns[on] = c
		lease(on)
		if prev := conns[other[on]]; prev != nil && prev.closed != protocol.CloseReplaced {
			t.Errorf("connection %d did not displace the one on %s: it was closed with %d", i, names[other[on]], prev.closed)
		}
		clk.Step(5 * time.Second)
	}
	p := sinkB.got[len(sinkB.got)-1]
	if _, _, held := HoldDown(p.Replacements); !held || p.ReplacedAddr != "10.0.0.1:1001" {
		t.Fatalf("the third replacement, on replica-b, published %v replacing %q, want a hold-down replacing 10.0.0.1:1001", p.Replacements, p.ReplacedAddr)
	}
	for _, on := range []*Fleet{a, b} {
		_, _, err := on.Authenticate("uid-1", "csat_a", nil, &recordingConn{remote: "10.0.0.1:1002"})
		if dup := (*DuplicateError)(nil); !errors.As(err, &dup) {
			t.Errorf("a newcomer on %s during the hold-down got %v, want refused", names[on], err)
		}
	}
	if conns[b].closed != 0 {
		t.Errorf("the incumbent on replica-b was closed with %d", conns[b].closed)
	}
}

// TestDuplicatesSpareOrdinaryReconnects checks that replacements far apart are never held down,
// nor is the replacement of a silent (half-open) session, and that a newcomer is taken once the
// incumbent's session ended, even during a hold-down.
func TestDuplicatesSpareOrdinaryReconnects(t *testing.T) {
	f, clk := newTestFleet()
	info := satInfo("monitoring", "eu-west", "uid-1", "csat_a")
	info.OfflineThreshold = 2 * time.Second
	f.UpsertSatellite(info)
	var h Handle
	for i := range 10 {
		var err error
		if h, _, err = f.Authenticate("uid-1", "csat_a", nil, &recordingConn{}); err != nil {
			t.Fatalf("reconnect %d, %s after the one before, was refused: %v", i, DuplicateWindow/2, err)
		}
		clk.Step(DuplicateWindow / 2)
	}
	for i := range 2 * DuplicateReplacements {
		clk.Step(info.OfflineThreshold)
		f.SweepSilent() // the session falls silent: its agent dials again
		var err error
		if h, _, err = f.Authenticate("uid-1", "csat_a", nil, &recordingConn{}); err != nil {
			t.Fatalf("reconnect %d replacing a silent session was refused: %v", i, err)
		}
	}

	heldDown := false
	for range DuplicateReplacements + 1 {
		clk.Step(time.Millisecond)
		if next, _, err := f.Authenticate("uid-1", "csat_a", nil, &recordingConn{}); err == nil {
			h = next
		} else {
			heldDown = true
		}
	}
	if !heldDown {
		t.Fatal("no hold-down after a burst of replacements")
	}
	f.Disconnected(h, true, 0, "") // the incumbent leaves
	if _, _, err := f.Authenticate("uid-1", "csat_a", nil, &recordingConn{}); err != nil {
		t.Errorf("a newcomer after the incumbent left was refused: %v", err)
	}
}
