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

package presence

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func published(state string) fleet.Presence {
	return fleet.Presence{
		Key: types.NamespacedName{Namespace: "monitoring", Name: "eu-west"}, UID: "uid-1", Seq: 1, State: state,
		Since: t0, LastHeartbeat: t0.Add(30 * time.Second), Threshold: 45 * time.Second,
		Agent:   fleet.AgentInfo{Dialect: "checkstack-satellite-operator", Capabilities: []string{"check-config", "config-patch"}},
		Version: "0.4.0",
		Views: []fleet.PublishedView{{Assignment: "hca-1", CheckView: fleet.CheckView{
			Status: v1alpha1.ResultUnhealthy, Message: "connection refused", LastRunAt: t0.Add(29 * time.Second), ReceivedAt: t0.Add(29 * time.Second)}}},
	}
}

// TestLeaseCarriesThePresence checks the Lease a publication makes, and what the leader reads
// back from it by its own clock.
func TestLeaseCarriesThePresence(t *testing.T) {
	lease := &coordinationv1.Lease{}
	fill(lease, published(v1alpha1.PresenceConnected), "replica-a", time.Minute)
	if lease.Name != "satellite-eu-west" || lease.Namespace != "monitoring" || lease.Labels[v1alpha1.LabelPresenceSatellite] != "eu-west" {
		t.Errorf("Lease %s/%s labelled %v", lease.Namespace, lease.Name, lease.Labels)
	}
	if got := *lease.Spec.LeaseDurationSeconds; got != 105 {
		t.Errorf("duration %d s, want the threshold and the renew interval, 105 s", got)
	}
	if ownerUID(lease) != "uid-1" || holder(lease) != "replica-a" || !live(lease) {
		t.Errorf("owner %q, holder %q, live %v", ownerUID(lease), holder(lease), live(lease))
	}
	if views := Views(lease); len(views) != 1 || views[0].Status != v1alpha1.ResultUnhealthy || !views[0].LastRunAt.Equal(t0.Add(29*time.Second)) {
		t.Errorf("views read back %+v", views)
	}
	if a := Agent(lease); a == nil || strings.Join(a.Capabilities, ",") != "check-config,config-patch" {
		t.Errorf("agent read back %+v", a)
	}

	clk := clocktesting.NewFakeClock(t0.Add(time.Hour)) // the leader's clock is far off the holder's
	o := NewObserver(clk)
	lease.ResourceVersion = "1"
	f := o.Facts("uid-1", lease, time.Time{})
	if !f.Connected || !f.Until.Equal(clk.Now().Add(105*time.Second)) || f.Version != "0.4.0" {
		t.Errorf("facts %+v: want connected until the duration after the leader saw it", f)
	}
	clk.Step(time.Minute)
	if f := o.Facts("uid-1", lease, time.Time{}); !f.Until.Equal(t0.Add(time.Hour + 105*time.Second)) {
		t.Errorf("an unchanged Lease moved its expiry to %v", f.Until)
	}
	termStart := clk.Now()
	if f := o.Facts("uid-1", lease, termStart); !f.Until.Equal(termStart.Add(105 * time.Second)) {
		t.Errorf("a new term counts the Lease from %v, want its start", f.Until.Add(-105*time.Second))
	}
	if o.Facts("uid-2", lease, termStart) != nil {
		t.Error("the Lease of an earlier Satellite of the same name is read as this one's")
	}

	fill(lease, published(v1alpha1.PresenceSilent), "replica-a", time.Minute)
	lease.ResourceVersion = "2"
	if f := o.Facts("uid-1", lease, termStart); !f.Connected || f.Until.After(clk.Now()) {
		t.Errorf("a silent session's facts %+v: want expired now", f)
	}
	fill(lease, published(v1alpha1.PresenceReleased), "replica-a", time.Minute)
	lease.ResourceVersion = "released"
	if f := o.Facts("uid-1", lease, termStart); !f.Connected || !f.Until.Equal(clk.Now().Add(105*time.Second)) {
		t.Errorf("a released session's facts %+v: want connected for the duration, as a holder that died", f)
	}
	fill(lease, published(v1alpha1.PresenceDisconnected), "replica-a", time.Minute)
	lease.ResourceVersion = "3"
	if f := o.Facts("uid-1", lease, termStart); f.Connected || !f.DisconnectedAt.Equal(t0.Add(30*time.Second)) {
		t.Errorf("a clean close's facts %+v", f)
	}
	if holder(lease) != "replica-a" || live(lease) {
		t.Error("an ended session's Lease does not name its last holder, or counts as live")
	}
}

// TestNewerElsewhere checks which writes the fence lets through.
func TestNewerElsewhere(t *testing.T) {
	lease := &coordinationv1.Lease{}
	fill(lease, published(v1alpha1.PresenceConnected), "replica-b", time.Minute)
	if !newerElsewhere(lease, "replica-a", t0.Add(-time.Second)) {
		t.Error("an older session here may overwrite a newer one's Lease elsewhere")
	}
	if newerElsewhere(lease, "replica-a", t0.Add(time.Second)) {
		t.Error("a newer session here may not take the Lease")
	}
	if newerElsewhere(lease, "replica-b", t0.Add(-time.Second)) {
		t.Error("the holder may not write its own Lease")
	}
}

// TestViewsAreBounded checks that a satellite with very many assignments still fits its Lease.
func TestViewsAreBounded(t *testing.T) {
	p := published(v1alpha1.PresenceConnected)
	p.Views = nil
	for i := range MaxViews + 50 {
		p.Views = append(p.Views, fleet.PublishedView{Assignment: types.UID(strings.Repeat("a", 30) + string(rune('a'+i%26))),
			CheckView: fleet.CheckView{Status: v1alpha1.ResultHealthy, LastRunAt: t0, ReceivedAt: t0}})
	}
	lease := &coordinationv1.Lease{}
	fill(lease, p, "replica-a", time.Minute)
	if n := len(Views(lease)); n != MaxViews {
		t.Errorf("%d views carried, want %d", n, MaxViews)
	}
	if size := len(lease.Annotations[v1alpha1.AnnotationViews]); size > 192<<10 {
		t.Errorf("views take %d bytes of the 256 KiB the API allows all annotations", size)
	}
}

// TestReplacementsAreMergedAndAnnouncedOnce checks the record that holds agents sharing an
// identity down: a replica's write keeps what another one recorded, and the leader announces the
// hold-down it begins once, and not one that began before its term.
func TestReplacementsAreMergedAndAnnouncedOnce(t *testing.T) {
	lease := &coordinationv1.Lease{}
	p := published(v1alpha1.PresenceConnected)
	p.RemoteAddr, p.ReplacedAddr = "10.0.0.2:2000", "10.0.0.1:1000"
	p.Replacements = []time.Time{t0.Add(time.Nanosecond), t0.Add(10 * time.Second)}
	fill(lease, p, "replica-a", time.Minute)
	if got := Replacements(lease); len(got) != 2 || !got[0].Equal(p.Replacements[0]) {
		t.Fatalf("replacements read back %v, want %v exactly", got, p.Replacements)
	}

	// Replica B replaces replica A's session, from a record that missed A's second replacement.
	p.RemoteAddr, p.ReplacedAddr = "10.0.0.1:1001", "10.0.0.2:2000"
	p.Replacements = []time.Time{t0.Add(time.Nanosecond), t0.Add(20 * time.Second)}
	fill(lease, p, "replica-b", time.Minute)
	got := Replacements(lease)
	if len(got) != 3 || !got[1].Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after replica-b's write the Lease records %v, want both replicas' three", got)
	}

	clk := clocktesting.NewFakeClock(t0.Add(30 * time.Second))
	o := NewObserver(clk)
	if _, ok := o.TakeHoldDown("uid-1", lease, t0.Add(21*time.Second)); ok {
		t.Error("a hold-down that began before the term was announced")
	}
	d, ok := o.TakeHoldDown("uid-1", lease, t0)
	want := HoldDownNotice{Kept: "10.0.0.1:1001", Replaced: "10.0.0.2:2000", Until: t0.Add(20*time.Second + fleet.DuplicateHoldDown)}
	if !ok || d != want {
		t.Errorf("announced %+v, %v; want %+v", d, ok, want)
	}
	if _, ok := o.TakeHoldDown("uid-1", lease, t0); ok {
		t.Error("a hold-down was announced twice")
	}
	if _, ok := o.TakeHoldDown("uid-2", lease, t0); ok {
		t.Error("the Lease of an earlier Satellite of the same name announced a hold-down")
	}
}

// TestRepeatedCloseIsAnnouncedOnce checks that the leader announces a run of the same close that
// any replica recorded once, keeps it when another replica writes the Lease without one, and
// leaves one reported before its term.
func TestRepeatedCloseIsAnnouncedOnce(t *testing.T) {
	lease := &coordinationv1.Lease{}
	p := published(v1alpha1.PresenceDisconnected)
	p.RepeatedClose = &fleet.RepeatedClose{Code: 1009, Reason: "message too big", Count: 3, At: t0.Add(time.Nanosecond)}
	fill(lease, p, "replica-b", time.Minute)
	fill(lease, published(v1alpha1.PresenceConnected), "replica-a", time.Minute)

	o := NewObserver(clocktesting.NewFakeClock(t0.Add(time.Minute)))
	if _, ok := o.TakeRepeatedClose("uid-1", lease, t0.Add(time.Second)); ok {
		t.Error("a run reported before the term was announced")
	}
	rc, ok := o.TakeRepeatedClose("uid-1", lease, t0)
	if !ok || rc != *p.RepeatedClose {
		t.Errorf("announced %+v, %v; want %+v", rc, ok, *p.RepeatedClose)
	}
	if _, ok := o.TakeRepeatedClose("uid-1", lease, t0); ok {
		t.Error("a run was announced twice")
	}
}
