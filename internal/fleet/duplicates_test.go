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
// three replacements within a minute, then the incumbent is kept and the other refused, once
// reported, until the hold-down ends.
func TestDuplicatesAreHeldDown(t *testing.T) {
	f, clk := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
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
		clk.Step(5 * time.Second)
	}
	if _, ok := f.TakeDuplicate("uid-1"); ok {
		t.Error("a duplicate was reported before any refusal")
	}

	_, err := dial("10.0.0.1:1002")
	var dup *DuplicateError
	if !errors.As(err, &dup) || !dup.Until.Equal(clk.Now().Add(DuplicateHoldDown)) {
		t.Fatalf("the fourth replacement within a minute got %v, want a hold-down until %v", err, clk.Now().Add(DuplicateHoldDown))
	}
	if last.closed != 0 {
		t.Errorf("the incumbent was closed with %d", last.closed)
	}
	d, ok := f.TakeDuplicate("uid-1")
	if want := (Duplicate{Incumbent: "10.0.0.2:2001", Newcomer: "10.0.0.1:1002", Until: dup.Until}); !ok || d != want {
		t.Errorf("reported %+v, %v; want %+v", d, ok, want)
	}
	clk.Step(time.Minute)
	if _, err := dial("10.0.0.1:1003"); !errors.As(err, &dup) {
		t.Errorf("a newcomer during the hold-down got %v, want refused", err)
	}
	if _, ok := f.TakeDuplicate("uid-1"); ok {
		t.Error("a hold-down was reported twice")
	}

	clk.Step(DuplicateHoldDown)
	if _, err := dial("10.0.0.1:1004"); err != nil {
		t.Errorf("a newcomer after the hold-down was refused: %v", err)
	}
	if last.closed != protocol.CloseReplaced {
		t.Errorf("the incumbent was not replaced after the hold-down: closed with %d", last.closed)
	}
}

// TestDuplicatesSpareOrdinaryReconnects checks that replacements far apart are never held down,
// and that a newcomer is taken once the incumbent's session ended, even during a hold-down.
func TestDuplicatesSpareOrdinaryReconnects(t *testing.T) {
	f, clk := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
	var h Handle
	for i := range 10 {
		var err error
		if h, _, err = f.Authenticate("uid-1", "csat_a", nil, &recordingConn{}); err != nil {
			t.Fatalf("reconnect %d, %s after the one before, was refused: %v", i, DuplicateWindow/2, err)
		}
		clk.Step(DuplicateWindow / 2)
	}

	heldDown := false
	for range DuplicateReplacements + 1 {
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
