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

package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

func TestClassify(t *testing.T) {
	cases := map[string]struct {
		code     int
		shutdown string
		want     endReason
	}{
		"auth failed (4001)":                            {code: protocol.CloseAuthFailed, want: endAuthFailed},
		"token rotated: shutdown, then 4001":            {code: protocol.CloseAuthFailed, shutdown: protocol.ShutdownTokenRotate, want: endAuthFailed},
		"satellite deleted (4003)":                      {code: protocol.CloseDeleted, shutdown: protocol.ShutdownDeleted, want: endAuthFailed},
		"replaced (4002)":                               {code: protocol.CloseReplaced, shutdown: protocol.ShutdownReplaced, want: endReplaced},
		"a duplicate held down (4009)":                  {code: protocol.CloseDuplicate, shutdown: protocol.ShutdownDuplicate, want: endReplaced},
		"duplicate announced, close frame lost":         {shutdown: protocol.ShutdownDuplicate, want: endReplaced},
		"going away (1001)":                             {code: websocket.CloseGoingAway, want: endGoingAway},
		"going away announced, then 1001":               {code: websocket.CloseGoingAway, shutdown: protocol.ShutdownGoingAway, want: endGoingAway},
		"a shutdown frame, then a broken connection":    {code: websocket.CloseAbnormalClosure, shutdown: protocol.ShutdownGoingAway, want: endGoingAway},
		"a shutdown of an unknown reason":               {shutdown: "maintenance", want: endGoingAway},
		"replaced announced, close frame lost":          {shutdown: protocol.ShutdownReplaced, want: endReplaced},
		"standby (1013) backs off":                      {code: 1013, want: endFailed},
		"auth timeout (4008) backs off":                 {code: protocol.CloseAuthTimeout, want: endFailed},
		"policy violation (1008) backs off":             {code: websocket.ClosePolicyViolation, want: endFailed},
		"a broken connection backs off":                 {code: websocket.CloseAbnormalClosure, want: endFailed},
		"a network error without close frame backs off": {want: endFailed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := classify(tc.code, tc.shutdown); got != tc.want {
				t.Errorf("classify(%d, %q) = %v, want %v", tc.code, tc.shutdown, got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	cases := map[string]struct {
		header string
		want   time.Duration
	}{
		"absent":           {header: "", want: 0},
		"seconds":          {header: "1", want: time.Second},
		"capped":           {header: "86400", want: maxRetryAfter},
		"an HTTP date":     {header: "Wed, 21 Oct 2015 07:28:00 GMT", want: 0},
		"negative ignored": {header: "-5", want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := retryAfter(tc.header); got != tc.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

func TestUnsupportedStrategiesAreReportedOncePerAssignment(t *testing.T) {
	snmp := func(id string) protocol.Assignment {
		return protocol.Assignment{ConfigID: id, SystemID: "switch", StrategyID: "snmp", IntervalSeconds: 30}
	}
	http := assignment("web", 30, "https://web/")
	cases := map[string]struct {
		reported     map[string]string
		next         []protocol.Assignment
		wantErrs     []string // strategyId/configId
		wantReported map[string]string
	}{
		"a new unsupported assignment is reported": {
			reported: map[string]string{}, next: []protocol.Assignment{http, snmp("s1")},
			wantErrs: []string{"snmp/s1"}, wantReported: map[string]string{"s1": "snmp"},
		},
		"an assignment reported before is not reported again": {
			reported: map[string]string{"s1": "snmp"}, next: []protocol.Assignment{snmp("s1"), snmp("s2")},
			wantErrs: []string{"snmp/s2"}, wantReported: map[string]string{"s1": "snmp", "s2": "snmp"},
		},
		"a changed strategy is reported again": {
			reported: map[string]string{"s1": "ftp"}, next: []protocol.Assignment{snmp("s1")},
			wantErrs: []string{"snmp/s1"}, wantReported: map[string]string{"s1": "snmp"},
		},
		"a removed assignment is forgotten, so its return is reported": {
			reported: map[string]string{"s1": "snmp"}, next: []protocol.Assignment{http},
			wantErrs: nil, wantReported: map[string]string{},
		},
		"supported strategies are never reported": {
			reported: map[string]string{}, next: []protocol.Assignment{http},
			wantErrs: nil, wantReported: map[string]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			errs, reported := unsupportedStrategies(tc.reported, tc.next)
			var got []string
			for _, e := range errs {
				for _, id := range []string{"s1", "s2"} {
					if strings.Contains(e.Message, "(assignment "+id+")") {
						got = append(got, e.StrategyID+"/"+id)
					}
				}
			}
			if d := cmp.Diff(tc.wantErrs, got); d != "" {
				t.Errorf("strategy errors (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantReported, reported); d != "" {
				t.Errorf("reported (-want +got):\n%s", d)
			}
		})
	}
}

func TestNextDial(t *testing.T) {
	failed := connEnd{reason: endFailed}
	cases := map[string]struct {
		ends []connEnd
		want []string
	}{
		"failed dials back off, doubling": {
			ends: []connEnd{failed, failed, failed, failed},
			want: []string{"1s", "2s", "4s", "8s"},
		},
		"a manager going away is redialed within 5s, and the backoff does not grow": {
			ends: []connEnd{failed, failed, {reason: endGoingAway}, failed},
			want: []string{"1s", "2s", "5s", "4s"},
		},
		"a connection that stayed up 30s resets the backoff": {
			ends: []connEnd{failed, failed, {reason: endFailed, upFor: 31 * time.Second}},
			want: []string{"1s", "2s", "1s"},
		},
		"a connection that dropped within 30s does not": {
			ends: []connEnd{failed, failed, {reason: endFailed, upFor: 5 * time.Second}},
			want: []string{"1s", "2s", "4s"},
		},
		"refused credentials wait 5 minutes, watch the token, and reset the backoff": {
			ends: []connEnd{failed, failed, {reason: endAuthFailed, token: "csat_old"}, failed},
			want: []string{"1s", "2s", "5m0s watching csat_old", "1s"},
		},
		"Retry-After lengthens a shorter backoff": {
			ends: []connEnd{{reason: endFailed, retryAfter: 3 * time.Second}, {reason: endFailed, retryAfter: time.Second}},
			want: []string{"3s", "2s"},
		},
		"replaced stops": {
			ends: []connEnd{failed, {reason: endReplaced}},
			want: []string{"1s", "stop"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bo := newBackoff(time.Second, 30*time.Second)
			// The largest draws, so that the test sees the bounds.
			bo.rand = func(n int64) int64 { return n - 1 }
			var got []string
			for _, end := range tc.ends {
				plan := nextDial(end, bo, 5*time.Minute, func(n int64) int64 { return n - 1 })
				switch {
				case plan.stop:
					got = append(got, "stop")
				case plan.watchToken != "":
					got = append(got, plan.delay.String()+" watching "+plan.watchToken)
				default:
					got = append(got, plan.delay.String())
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("plans (-want +got):\n%s", d)
			}
		})
	}
}

// TestWrittenAcksNeedABuffer checks that the agent asks for acks of written results only when its
// buffer holds what the manager may take before it writes, with room to spare.
func TestWrittenAcksNeedABuffer(t *testing.T) {
	for size, want := range map[int]bool{DefaultBufferSize: true, 2 * protocol.MaxUnwrittenResults: true, 2*protocol.MaxUnwrittenResults - 1: false, 1: false} {
		a := &Agent{cfg: Config{BufferSize: size}}
		if got := slices.Contains(a.capabilities(), protocol.CapabilityWrittenAcks); got != want {
			t.Errorf("a buffer of %d asks for written acks: %v, want %v", size, got, want)
		}
	}
}
