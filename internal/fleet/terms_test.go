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

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

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
