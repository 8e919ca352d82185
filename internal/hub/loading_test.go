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
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
)

// TestStartingHubWaitsForCredentials checks that a hub that does not yet hold every Satellite's
// token is not Ready, until it does.
func TestStartingHubWaitsForCredentials(t *testing.T) {
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
