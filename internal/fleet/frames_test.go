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
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// configIDs lists the configIds of the session's next config_updated.
func configIDs(t *testing.T, f *Fleet, h Handle) []string {
	t.Helper()
	var ids []string
	for _, a := range sessionList(t, f, h) {
		ids = append(ids, a.ConfigID)
	}
	return ids
}

// sameBytes reports whether x and y are the same frame in memory, not only equal.
func sameBytes(x, y []byte) bool { return len(x) > 0 && len(x) == len(y) && &x[0] == &y[0] }

func TestEqualListsShareOneFrame(t *testing.T) {
	f, _ := newTestFleet()
	regions := map[string]string{"a": "eu-west-1", "b": "eu-west-1", "c": "us-east-1", "d": "eu-west-1"}
	handles := map[string]Handle{}
	for _, name := range []string{"a", "b", "c", "d"} {
		info := satInfo("monitoring", name, "uid-"+name, "csat_"+name)
		info.Region = regions[name]
		f.UpsertSatellite(info)
		caps := oursCaps
		if name == "d" {
			caps = nil // a Checkstack satellite: the same assignments in another dialect
		}
		h, _, err := f.Authenticate("uid-"+name, "csat_"+name, caps, &recordingConn{})
		if err != nil {
			t.Fatalf("%s not authenticated", name)
		}
		handles[name] = h
	}
	upsert := func(uid string, interval int, spec v1alpha1.HealthCheckAssignmentSpec) {
		t.Helper()
		sel, err := NewSelection(&spec)
		if err != nil {
			t.Fatal(err)
		}
		err = f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: uid}, UID: types.UID(uid),
			Generation: int64(interval), Selection: sel,
			Wire: protocol.Assignment{ConfigID: uid, SystemID: "payments-api", StrategyID: "http", IntervalSeconds: interval,
				Config: []byte(`{"timeoutMs":1000,"http":{"url":"https://payments.example/healthz"}}`)}})
		if err != nil {
			t.Fatal(err)
		}
		drain(f)
	}
	frame := func(name string) []byte {
		t.Helper()
		data, ok := f.ConfigFrame(handles[name])
		if !ok {
			t.Fatalf("%s: not the satellite's session", name)
		}
		return data
	}

	upsert("hca-all", 30, v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1", "us-east-1"}})
	upsert("hca-eu", 30, v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1"}})
	a, b, c, d := frame("a"), frame("b"), frame("c"), frame("d")
	if !sameBytes(a, b) {
		t.Error("two sessions with equal lists got frames built apart")
	}
	if sameBytes(a, c) || sameBytes(a, d) {
		t.Error("a session with another list, or another dialect, got a shared frame")
	}
	if got, want := configIDs(t, f, handles["a"]), []string{"hca-all", "hca-eu"}; !slices.Equal(got, want) {
		t.Errorf("a's list is %v, want %v", got, want)
	}
	if got, want := configIDs(t, f, handles["c"]), []string{"hca-all"}; !slices.Equal(got, want) {
		t.Errorf("c's list is %v, want %v", got, want)
	}
	if as := sessionList(t, f, handles["d"]); len(as) != 2 || as[0].StrategyID != protocol.CheckstackHTTP {
		t.Errorf("the Checkstack session got %+v, want both in Checkstack's form", as)
	}

	// An edit makes a new frame that carries it, for every list that holds the assignment.
	upsert("hca-all", 60, v1alpha1.HealthCheckAssignmentSpec{Regions: []string{"eu-west-1", "us-east-1"}})
	a2, b2 := frame("a"), frame("b")
	if sameBytes(a, a2) || !sameBytes(a2, b2) {
		t.Error("after an edit, the sessions did not share one new frame")
	}
	for _, name := range []string{"a", "c"} {
		if as := sessionList(t, f, handles[name]); as[0].IntervalSeconds != 60 {
			t.Errorf("%s's list after the edit has interval %d, want 60", name, as[0].IntervalSeconds)
		}
	}

	// A satellite whose list changes alone stops sharing, and the others keep theirs.
	info := satInfo("monitoring", "b", "uid-b", "csat_b")
	info.Region = "us-east-1"
	f.UpsertSatellite(info)
	drain(f)
	if got, want := configIDs(t, f, handles["b"]), []string{"hca-all"}; !slices.Equal(got, want) {
		t.Errorf("b's list after its move is %v, want %v", got, want)
	}
	if !sameBytes(frame("a"), a2) || !sameBytes(frame("b"), frame("c")) {
		t.Error("after b moved, a does not keep its frame, or b does not share c's")
	}
}

func TestFrameCacheHoldsABoundedAmount(t *testing.T) {
	f, _ := newTestFleet()
	// Every satellite has a list of its own, of one assignment that selects it by name, and
	// the lists together are larger than the cache may hold.
	const n = 64
	pad := strings.Repeat("a", 2*maxSharedFrameBytes/n)
	handles := make([]Handle, n)
	for i := range n {
		name := fmt.Sprintf("sat-%02d", i)
		f.UpsertSatellite(satInfo("monitoring", name, "uid-"+name, "csat_"+name))
		var err error
		if handles[i], _, err = f.Authenticate("uid-"+name, "csat_"+name, oursCaps, &recordingConn{}); err != nil {
			t.Fatal("not authenticated")
		}
		sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Satellites: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		uid := "hca-" + name
		if err := f.UpsertAssignment(AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: uid}, UID: types.UID(uid),
			Generation: 1, Selection: sel,
			Wire: protocol.Assignment{ConfigID: uid, SystemID: "s", StrategyID: "http", IntervalSeconds: 30,
				Config: []byte(`{"timeoutMs":1000,"http":{"url":"https://x.example/?pad=` + pad + `"}}`)}}); err != nil {
			t.Fatal(err)
		}
		drain(f)
	}
	for i, h := range handles {
		if _, ok := f.ConfigFrame(h); !ok {
			t.Fatal("not the satellite's session")
		}
		f.mu.Lock()
		held, entries := f.frames.bytes, len(f.frames.entries)
		f.mu.Unlock()
		if held <= 0 || held > maxSharedFrameBytes || entries == 0 {
			t.Fatalf("after %d lists the cache holds %d entries of %d bytes, want some, and at most %d bytes", i+1, entries, held, maxSharedFrameBytes)
		}
		if got, want := configIDs(t, f, h), []string{fmt.Sprintf("hca-sat-%02d", i)}; !slices.Equal(got, want) {
			t.Fatalf("list %v, want %v", got, want)
		}
	}
	if got := len(f.frames.entries); got >= n {
		t.Errorf("%d cache entries for %d lists larger than the cache, want fewer", got, n)
	}
	// An assignment's change drops what no session will ask for again.
	f.RemoveAssignment(types.NamespacedName{Namespace: "monitoring", Name: "hca-sat-00"})
	if len(f.frames.entries) != 0 || f.frames.bytes != 0 {
		t.Errorf("after a removal the cache holds %d entries of %d bytes, want none", len(f.frames.entries), f.frames.bytes)
	}
}
