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
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// value reads a gauge or counter.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}

// httpInfo is an assignment of one http check that selects eu-west.
func httpInfo(t *testing.T, generation int64, check v1alpha1.HTTPCheck) AssignmentInfo {
	t.Helper()
	sel, err := NewSelection(&v1alpha1.HealthCheckAssignmentSpec{Satellites: []string{"eu-west"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(protocol.CheckConfig{TimeoutMs: 1000, HTTP: &check})
	if err != nil {
		t.Fatal(err)
	}
	return AssignmentInfo{Key: types.NamespacedName{Namespace: "monitoring", Name: "payments"}, UID: "hca-1",
		Generation: generation, Selection: sel,
		Wire: protocol.Assignment{ConfigID: "hca-1", SystemID: "payments-api", StrategyID: "http", Config: raw, IntervalSeconds: 30}}
}

func decodeList(t *testing.T, list []json.RawMessage) []protocol.Assignment {
	t.Helper()
	return decodeFrame(t, protocol.ConfigUpdatedFrame(list))
}

func decodeFrame(t *testing.T, data []byte) []protocol.Assignment {
	t.Helper()
	frame, err := protocol.DecodeFromManager(data)
	if err != nil {
		t.Fatal(err)
	}
	return frame.(*protocol.ConfigUpdated).Assignments
}

// sessionList is the list the session's next config_updated carries.
func sessionList(t *testing.T, f *Fleet, h Handle) []protocol.Assignment {
	t.Helper()
	frame, ok := f.ConfigFrame(h)
	if !ok {
		t.Fatal("ConfigFrame: not the satellite's session")
	}
	return decodeFrame(t, frame)
}

func TestCheckstackSessionGetsItsDialect(t *testing.T) {
	f, clk := newTestFleet()
	f.UpsertSatellite(satInfo("monitoring", "eu-west", "uid-1", "csat_a"))
	if err := f.UpsertAssignment(httpInfo(t, 1, v1alpha1.HTTPCheck{URL: "https://a.example/", ExpectedStatusCodes: []int32{204}})); err != nil {
		t.Fatal(err)
	}
	conn := &recordingConn{}
	h, list, err := f.Authenticate("uid-1", "csat_a", nil, conn)
	if err != nil {
		t.Fatal("not authenticated")
	}
	as := decodeList(t, list)
	if len(as) != 1 || as[0].StrategyID != protocol.CheckstackHTTP || len(as[0].Collectors) != 1 {
		t.Fatalf("a satellite advertising nothing got %+v, want the Checkstack http strategy with its collector", as)
	}
	first := as[0].ConfigID
	f.mu.Lock()
	dialect := f.satellites["uid-1"].agent.dialect()
	f.mu.Unlock()
	if dialect != protocol.DialectCheckstack {
		t.Errorf("agent dialect %q, want checkstack", dialect)
	}

	// The raw status of a 200 is judged against expectedStatusCodes [204].
	raw := &protocol.Result{ConfigID: first, SystemID: "payments-api", Status: v1alpha1.ResultHealthy, ExecutedAt: clk.Now(),
		Result: &protocol.ResultDetail{Status: v1alpha1.ResultHealthy, LatencyMs: 5,
			Metadata: map[string]any{"collectors": map[string]any{"request": map[string]any{"statusCode": 200.0, "body": strings.Repeat("x", 200<<10)}}}}}
	if got, _ := f.Ingest(h, raw); got != string(v1alpha1.ResultUnhealthy) {
		t.Errorf("Ingest of a 200 where 204 is expected = %q, want unhealthy", got)
	}
	rep, _ := f.Report("hca-1", 10)
	if len(rep.NotHealthy) != 1 || rep.NotHealthy[0].Message != "HTTP 200, expected [204]" {
		t.Errorf("view %+v, want unhealthy with the manager's judgement as message", rep.NotHealthy)
	}

	// An edit gives a new configId; a result for the old one is superseded.
	drain(f)
	if err := f.UpsertAssignment(httpInfo(t, 2, v1alpha1.HTTPCheck{URL: "https://b.example/", ExpectedStatusCodes: []int32{204}})); err != nil {
		t.Fatal(err)
	}
	if conn.pushes != 1 {
		t.Errorf("%d pushes after an edit, want 1", conn.pushes)
	}
	as = sessionList(t, f, h)
	if len(as) != 1 || as[0].ConfigID == first {
		t.Fatalf("after an edit the list is %+v, want one assignment with a configId other than %q", as, first)
	}
	clk.Step(1)
	late := *raw
	late.ExecutedAt = clk.Now()
	if got, _ := f.Ingest(h, &late); got != ResultSuperseded {
		t.Errorf("Ingest of a result for the edited-away revision = %q, want %q", got, ResultSuperseded)
	}
	plain := late
	plain.ConfigID = "hca-1"
	if got, _ := f.Ingest(h, &plain); got != ResultRejected {
		t.Errorf("Ingest of our configId from a Checkstack session = %q, want %q", got, ResultRejected)
	}

	// followRedirects: false is left out of its list, and the report says why and for whom.
	if err := f.UpsertAssignment(httpInfo(t, 3, v1alpha1.HTTPCheck{URL: "https://b.example/", FollowRedirects: ptr.To(false)})); err != nil {
		t.Fatal(err)
	}
	if as := sessionList(t, f, h); len(as) != 0 {
		t.Errorf("an unfit check was relayed: %+v", as)
	}
	if n, _ := f.Relayed("uid-1"); n != 0 {
		t.Errorf("Relayed = %d, want 0", n)
	}
	rep, _ = f.Report("hca-1", 10)
	if diff := cmp.Diff([]string{"eu-west"}, rep.NotRelayed); diff != "" || rep.NotRelayedCount != 1 ||
		!strings.Contains(rep.NotRelayedReason, "followRedirects") {
		t.Errorf("report names %v (%d) for %q, want eu-west for followRedirects (%s)", rep.NotRelayed, rep.NotRelayedCount, rep.NotRelayedReason, diff)
	}

	// The agent advertises ours in a heartbeat: the list is pushed again in our dialect.
	drain(f)
	f.Heartbeat(h, "0.1.0", oursCaps)
	if conn.pushes != 3 {
		t.Errorf("%d pushes after the dialect changed, want 3", conn.pushes)
	}
	if _, wakes := drain(f); wakes != 1 {
		t.Errorf("%d assignment wake-ups after the dialect changed, want 1 (its Ready condition changes)", wakes)
	}
	if as := sessionList(t, f, h); len(as) != 1 || as[0].ConfigID != "hca-1" || as[0].StrategyID != "http" {
		t.Errorf("our agent got %+v, want our form", as)
	}
	if rep, _ := f.Report("hca-1", 10); rep.NotRelayedCount != 0 {
		t.Errorf("our agent is reported as not relayed to: %+v", rep.NotRelayed)
	}
}

// TestRepeatedCloses checks that the same close three times in a row is counted once and
// published with the satellite's presence, for the leader's Event, whichever replica closed.
func TestRepeatedCloses(t *testing.T) {
	f, clk, sink := newPresenceFleet()
	closeOnce := func(code int) {
		h, _, err := f.Authenticate("uid-1", "csat_a", nil, &recordingConn{})
		if err != nil {
			t.Fatal("not authenticated")
		}
		clk.Step(time.Second)
		f.Disconnected(h, true, code, "frame too large")
	}
	reported := func() *RepeatedClose { return sink.got[len(sink.got)-1].RepeatedClose }
	series := func() float64 {
		return value(t, f.metrics.repeatedCloses.WithLabelValues("monitoring", "eu-west", "1009"))
	}
	before := series()
	closeOnce(1009)
	closeOnce(1009)
	closeOnce(1008) // another close breaks the run
	closeOnce(1009)
	closeOnce(1009)
	if rc := reported(); rc != nil {
		t.Fatalf("reported %+v after two closes in a row", rc)
	}
	closeOnce(1009)
	want := RepeatedClose{Code: 1009, Reason: "frame too large", Count: 3, At: clk.Now()}
	if rc := reported(); rc == nil || *rc != want {
		t.Errorf("the third close published %+v, want %+v", rc, want)
	}
	closeOnce(1009)
	if rc := reported(); rc == nil || *rc != want {
		t.Errorf("a fourth close published %+v, want the same run as before", rc)
	}
	if got := series() - before; got != 1 {
		t.Errorf("satellite_repeated_closes_total grew by %v, want 1", got)
	}
}

func TestConnectedGaugeAfterRotationAndDeletion(t *testing.T) {
	f, _ := newTestFleet()
	info := satInfo("gauge", "eu-west", "uid-1", "csat_a")
	f.UpsertSatellite(info)
	connected := func() float64 {
		return value(t, f.metrics.connected.WithLabelValues("gauge", "eu-west", "eu-west-1"))
	}
	h, _, err := f.Authenticate("uid-1", "csat_a", oursCaps, &recordingConn{})
	if err != nil || connected() != 1 {
		t.Fatalf("authenticate error %v, satellite_connected %v; want none and 1", err, connected())
	}
	rotated := info
	rotated.TokenHash = HashToken([]byte("csat_b"))
	f.UpsertSatellite(rotated)
	if got := connected(); got != 0 {
		t.Errorf("satellite_connected = %v after a rotation closed the session, want 0", got)
	}
	// The closed session's end arrives later and must not bring the gauge back.
	f.Disconnected(h, true, protocol.CloseAuthFailed, "token rotated")
	if got := connected(); got != 0 {
		t.Errorf("satellite_connected = %v after the rotated session ended, want 0", got)
	}

	if _, _, err := f.Authenticate("uid-1", "csat_b", oursCaps, &recordingConn{}); err != nil || connected() != 1 {
		t.Fatalf("authenticate with the new token: error %v, satellite_connected %v; want none and 1", err, connected())
	}
	// A move to another region moves the series.
	moved := rotated
	moved.Region = "eu-central-1"
	f.UpsertSatellite(moved)
	if got := value(t, f.metrics.connected.WithLabelValues("gauge", "eu-west", "eu-central-1")); got != 1 {
		t.Errorf("satellite_connected = %v in the new region, want 1", got)
	}
	if f.metrics.connected.DeleteLabelValues("gauge", "eu-west", "eu-west-1") {
		t.Error("the series of the old region remains")
	}
	f.RemoveSatellite(info.Key)
	// Deleting what is left of the namespace's series finds nothing: the deletion removed them.
	if n := f.metrics.connected.DeletePartialMatch(map[string]string{"namespace": "gauge"}); n != 0 {
		t.Errorf("%d satellite_connected series of the deleted satellite remain", n)
	}
}
