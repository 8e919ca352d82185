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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	cases := map[string]struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		"none":              {nil, 99, 0},
		"one":               {ms(7), 50, 7 * time.Millisecond},
		"median of four":    {ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		"p99 of 100":        {ms(hundred...), 99, 99 * time.Millisecond},
		"max":               {ms(hundred...), 100, 100 * time.Millisecond},
		"p0 is the minimum": {ms(5, 9), 0, 5 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %s, want %s", tc.p, got, tc.want)
			}
		})
	}
}

func TestLatencies(t *testing.T) {
	from := time.Unix(100, 0)
	got, missing := latencies([]int64{0, time.Unix(101, 0).UnixNano(), time.Unix(99, 0).UnixNano()}, from)
	if diff := cmp.Diff([]time.Duration{time.Second, 0}, got); diff != "" || missing != 1 {
		t.Errorf("missing %d, want 1; latencies (-want +got):\n%s", missing, diff)
	}
}

func TestCountWrites(t *testing.T) {
	lines := []string{
		`{"verb":"patch","user":{"username":"satellite-operator"},"objectRef":{"resource":"satellites","subresource":"status"},"responseStatus":{"code":200}}`,
		`{"verb":"patch","user":{"username":"satellite-operator"},"objectRef":{"resource":"satellites","subresource":"status"},"responseStatus":{"code":409}}`,
		`{"verb":"create","user":{"username":"satellite-operator"},"objectRef":{"resource":"events"},"responseStatus":{"code":201}}`,
		`{"verb":"create","user":{"username":"admin"},"objectRef":{"resource":"satellites"},"responseStatus":{"code":201}}`,
		`{"verb":"update","user":{"username":"satellite-operator"},"objectRef":{"resource":"leases","name":"satellite-sat-00001"},"responseStatus":{"code":200}}`,
		`{"verb":"update","user":{"username":"satellite-operator"},"objectRef":{"resource":"leases","name":"satellite-operator.checkstack.io"},"responseStatus":{"code":200}}`,
		`{"verb":"create","user":{"username":"satellite-operator"},"objectRef":{"resource":"secrets"},"responseStatus":{"code":201}}`,
	}
	data := []byte(strings.Join(lines, "\n") + "\n")
	// The limit falls inside the last line: it started before the limit, so it counts.
	limit := int64(len(data) - 10)
	want := writeCounts{"satellites/status": 1, "satellites/status failed": 1, "events": 1, "secrets": 1, "leases": 1, leaderElectionLeases: 1}
	if diff := cmp.Diff(want, countWrites(data, limit, "satellite-operator")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A line cut off at the end of what was read is not counted.
	if diff := cmp.Diff(writeCounts{"satellites/status": 1}, countWrites(data[:len(lines[0])+20], 1<<20, "satellite-operator")); diff != "" {
		t.Errorf("partial line (-want +got):\n%s", diff)
	}
}

func TestFullJitter(t *testing.T) {
	ceiling := time.Duration(0)
	wantCeilings := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, want := range wantCeilings {
		bound := max(ceiling, backoffMin)
		var d time.Duration
		d, ceiling = fullJitter(ceiling)
		if d < 0 || d > bound {
			t.Errorf("dial %d: delay %s outside [0, %s]", i, d, bound)
		}
		next := min(2*want, backoffMax)
		if ceiling != next {
			t.Errorf("dial %d: next ceiling %s, want %s", i, ceiling, next)
		}
	}
}

func TestListReached(t *testing.T) {
	c := &satClient{configs: map[string]*configState{}, authAt: 5}
	c.applyList([]protocol.Assignment{{ConfigID: "a"}, {ConfigID: "b"}}, 10)
	c.applyList([]protocol.Assignment{{ConfigID: "b"}, {ConfigID: "c"}}, 20)
	cases := map[string]struct {
		has, lacks []string
		want       int64
	}{
		"present since the first list": {has: []string{"b"}, want: 10},
		"the latest arrival counts":    {has: []string{"b", "c"}, want: 20},
		"removed":                      {lacks: []string{"a"}, want: 20},
		"never present":                {lacks: []string{"z"}, want: 5},
		"still present":                {lacks: []string{"b"}, want: 0},
		"not arrived":                  {has: []string{"a"}, want: 0},
		"both":                         {has: []string{"c"}, lacks: []string{"a"}, want: 20},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.listReached(tc.has, tc.lacks); got != tc.want {
				t.Errorf("listReached = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestHeartbeatInterval(t *testing.T) {
	cases := map[string]struct {
		flags []string
		want  time.Duration
	}{
		"default":   {nil, 15 * time.Second},
		"with =":    {[]string{"--kube-api-qps=100", "--heartbeat-interval=5s"}, 5 * time.Second},
		"separated": {[]string{"--heartbeat-interval", "30s"}, 30 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := heartbeatInterval(tc.flags); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStepPassed(t *testing.T) {
	cases := map[string]struct {
		step stepResult
		want bool
	}{
		"fast and on rate":  {stepResult{Rate: 100, Written: 1000, Achieved: 99, P99Ms: 20}, true},
		"slow acks":         {stepResult{Rate: 100, Written: 1000, Achieved: 100, P99Ms: 101}, false},
		"swarm fell behind": {stepResult{Rate: 1000, Written: 5000, Achieved: 500, P99Ms: 5}, false},
		"nothing written":   {stepResult{Rate: 100}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := stepPassed(tc.step); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// timeoutErr is a net.Error that timed out, as a passed deadline returns.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestEndCause(t *testing.T) {
	var timeout error = timeoutErr{}
	broken := errors.New("use of closed network connection")
	reset := fmt.Errorf("write: %w", syscall.EPIPE)
	cases := map[string]struct {
		read  error
		write *error
		want  string
	}{
		"close frame":          {read: &websocket.CloseError{Code: 1013}, want: "close 1013"},
		"read deadline":        {read: fmt.Errorf("read: %w", timeout), want: "client read deadline"},
		"server went away":     {read: io.ErrUnexpectedEOF, want: "dropped by the server without a close frame"},
		"gorilla's 1006":       {read: &websocket.CloseError{Code: websocket.CloseAbnormalClosure}, want: "dropped by the server without a close frame"},
		"reset":                {read: fmt.Errorf("read: %w", syscall.ECONNRESET), want: "dropped by the server without a close frame"},
		"write deadline first": {read: io.ErrUnexpectedEOF, write: &timeout, want: "client write deadline"},
		"write failed first":   {read: io.ErrUnexpectedEOF, write: &broken, want: "client write failed"},
		"reset seen on write":  {read: io.ErrUnexpectedEOF, write: &reset, want: "dropped by the server, seen on a write"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := endCause(tc.read, tc.write); got != tc.want {
				t.Errorf("endCause = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestListCacheParsesWhatTheManagerWrites(t *testing.T) {
	encode := func(ids ...string) []byte {
		t.Helper()
		var parts []json.RawMessage
		for _, id := range ids {
			raw, err := protocol.EncodeAssignment(protocol.Assignment{ConfigID: id, SystemID: "sys-" + id, StrategyID: "http",
				IntervalSeconds: 30, Config: json.RawMessage(`{"timeoutMs":1000,"http":{"url":"https://x.example/"}}`)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, raw)
		}
		return protocol.ConfigUpdatedFrame(parts)
	}
	lc := newListCache()
	ab, bc := encode("a", "b"), encode("b", "c")
	if !bytes.HasPrefix(ab, configUpdatedPrefix) {
		t.Fatalf("the manager's frame %.40s does not begin with %s", ab, configUpdatedPrefix)
	}
	for range 2 { // parsed, then from the cache
		for frame, want := range map[string][]string{string(ab): {"a", "b"}, string(bc): {"b", "c"}} {
			list, ok := lc.parse([]byte(frame))
			var got []string
			for _, a := range list {
				got = append(got, a.ConfigID+"/"+a.SystemID)
			}
			if !ok || !slices.Equal(got, []string{want[0] + "/sys-" + want[0], want[1] + "/sys-" + want[1]}) {
				t.Errorf("parse = %v, %v; want %v", got, ok, want)
			}
		}
	}
	if _, ok := lc.parse([]byte(`{"type":"result_ack","ids":["x"]}`)); ok {
		t.Error("a result_ack parsed as a list")
	}
}

func TestHandleFrameAppliesAConfigUpdatedInAnyLayout(t *testing.T) {
	sw := &swarm{changed: make(chan struct{}, 1), lists: newListCache()}
	c := &satClient{sw: sw, configs: map[string]*configState{}}
	for _, frame := range []string{
		`{"type":"config_updated","assignments":[{"configId":"a","systemId":"s"}]}`, // as the manager writes it
		`{"assignments":[{"configId":"b","systemId":"s"}],"type":"config_updated"}`, // another member order
	} {
		c.handleFrame([]byte(frame), "")
	}
	if got := sw.configFrames.Load(); got != 2 {
		t.Errorf("%d config frames counted, want 2", got)
	}
	if s := c.configs["b"]; s == nil || !s.present || c.configs["a"].present {
		t.Errorf("after the second list: a %+v, b %+v; want only b present", c.configs["a"], s)
	}
}

func TestHandleFrameAppliesAConfigPatch(t *testing.T) {
	sw := &swarm{changed: make(chan struct{}, 1), lists: newListCache()}
	c := &satClient{sw: sw, configs: map[string]*configState{}}
	c.handleFrame([]byte(`{"type":"config_updated","assignments":[{"configId":"a","systemId":"s"},{"configId":"b","systemId":"s"}]}`), "")
	added := c.configs["a"].added
	c.handleFrame([]byte(`{"type":"config_patch","assignments":[{"configId":"c","systemId":"s"},{"configId":"a","systemId":"s2"}],"removed":["b"]}`), "")
	if got := sw.configFrames.Load(); got != 2 {
		t.Errorf("%d config frames counted, want 2", got)
	}
	a, b, cc := c.configs["a"], c.configs["b"], c.configs["c"]
	if !a.present || a.added != added || a.systemID != "s2" {
		t.Errorf("a replaced in place is %+v, want present since its first list, with system s2", a)
	}
	if b.present || b.removedAt == 0 {
		t.Errorf("b removed is %+v, want absent with the time it went", b)
	}
	if cc == nil || !cc.present {
		t.Errorf("c added is %+v, want present", cc)
	}
}
