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

package procstat

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	cases := map[string]struct {
		stat     string
		cpu      time.Duration
		comm     string
		ppid     int
		wantFail bool
	}{
		"utime 150 and stime 50 ticks": {
			stat: "4242 (manager) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 100 1000 200",
			cpu:  2 * time.Second, comm: "manager", ppid: 1,
		},
		"utime 150 and stime 50 ticks, trailing zeros": {
			stat: "42 (satellite) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 100 0 0",
			cpu:  2 * time.Second, comm: "satellite", ppid: 1,
		},
		"command with spaces and parentheses": {
			stat: "7 (kube (api) server) R 99 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1",
			cpu:  70 * time.Millisecond, comm: "kube (api) server", ppid: 99,
		},
		"command with a parenthesis in the middle": {
			stat: "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 9 0 100 0 0",
			cpu:  70 * time.Millisecond, comm: "a (b) c", ppid: 1,
		},
		"truncated":                {stat: "7 (x) R 1 2", wantFail: true},
		"truncated after the ppid": {stat: "42 (x) S 1 2", wantFail: true},
		"no command":               {stat: "42 S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 100 0 0", wantFail: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cpu, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.wantFail {
				t.Fatalf("parseStatCPU error = %v, want failure %v", err, tc.wantFail)
			}
			if tc.wantFail {
				return
			}
			comm, ppid, err := parseStatPPID([]byte(tc.stat))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{tc.cpu, tc.comm, tc.ppid}, []any{cpu, comm, ppid}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStatusKiB(t *testing.T) {
	status := "Name:\tmanager\nVmPeak:\t 900000 kB\nVmRSS:\t  51234 kB\nThreads:\t9\n"
	got, err := parseStatusKiB(strings.NewReader(status), "VmRSS")
	if err != nil || got != 51234 {
		t.Errorf("VmRSS = %d, %v; want 51234", got, err)
	}
	if _, err := parseStatusKiB(strings.NewReader(status), "VmSwap"); err == nil {
		t.Error("a missing field is no error")
	}
}
