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
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// TestBeginTerm checks what a term after another leader's keeps: the facts of open sessions,
// not those of satellites this replica holds no session of; and that a continued term, with
// nobody else leading in between, keeps everything.
func TestBeginTerm(t *testing.T) {
	f, clk := newTestFleet()
	t0 := f.Since()
	f.UpsertSatellite(satInfo("monitoring", "connected", "uid-1", "csat_a"))
	f.UpsertSatellite(satInfo("monitoring", "left", "uid-2", "csat_b"))
	if _, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{}); err != nil {
		t.Fatal("uid-1 does not authenticate")
	}
	h, _, err := f.Authenticate("uid-2", "csat_b", oursCaps, &recordingConn{})
	if err != nil {
		t.Fatal("uid-2 does not authenticate")
	}
	clk.Step(time.Second)
	f.Disconnected(h, true, 0, "")

	clk.Step(time.Minute)
	f.BeginTerm(true)
	if got := f.Since(); !got.Equal(t0) {
		t.Errorf("a continued term moved Since to %v, want %v", got, t0)
	}
	if _, ok := f.Facts("uid-2"); !ok {
		t.Error("a continued term dropped the facts of a satellite that disconnected")
	}

	clk.Step(time.Minute)
	f.BeginTerm(false)
	if got := f.Since(); !got.Equal(clk.Now()) {
		t.Errorf("a term after another leader's has Since %v, want its start %v", got, clk.Now())
	}
	if facts, ok := f.Facts("uid-1"); !ok || !facts.Connected {
		t.Errorf("the open session's facts are %+v, %v; want them kept, connected", facts, ok)
	}
	if facts, ok := f.Facts("uid-2"); ok {
		t.Errorf("the facts of a satellite without a session survived another leader's term: %+v", facts)
	}
}

// TestWakeAll checks that a new term wakes what the cache holds and what the fleet holds, so
// that an object deleted while this replica did not lead is reconciled too.
func TestWakeAll(t *testing.T) {
	f, _ := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "known", "uid-1", "csat_a"))
	if err := f.UpsertAssignment(httpInfo(t, 1, v1alpha1.HTTPCheck{URL: "https://a.example/"})); err != nil {
		t.Fatal(err)
	}
	drain(f)

	fromCache := types.NamespacedName{Namespace: "monitoring", Name: "new"}
	f.WakeAll([]types.NamespacedName{fromCache}, []types.NamespacedName{fromCache})
	var sats, hcas []types.NamespacedName
	for len(f.SatelliteEvents()) > 0 {
		e := <-f.SatelliteEvents()
		sats = append(sats, types.NamespacedName{Namespace: e.Object.Namespace, Name: e.Object.Name})
	}
	for len(f.AssignmentEvents()) > 0 {
		e := <-f.AssignmentEvents()
		hcas = append(hcas, types.NamespacedName{Namespace: e.Object.Namespace, Name: e.Object.Name})
	}
	known := types.NamespacedName{Namespace: "monitoring", Name: "known"}
	payments := types.NamespacedName{Namespace: "monitoring", Name: "payments"}
	if !slices.Contains(sats, fromCache) || !slices.Contains(sats, known) || len(sats) != 2 {
		t.Errorf("Satellites woken: %v, want %v and %v", sats, fromCache, known)
	}
	if !slices.Contains(hcas, fromCache) || !slices.Contains(hcas, payments) || len(hcas) != 2 {
		t.Errorf("assignments woken: %v, want %v and %v", hcas, fromCache, payments)
	}
}
