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
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestAdmission(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	opts := AdmissionOptions{Rate: 1000, Burst: 1000, SourceRate: 10, SourceBurst: 20, SourcePending: 5, Pending: 8}
	opts.defaults()
	a := newAdmission(opts, clk)

	var held []func()
	admit := func(addr string) string {
		release, refused := a.admit(addr)
		if refused == "" {
			held = append(held, release)
		}
		return refused
	}
	for i := range 5 {
		if r := admit("10.0.0.1:4000"); r != "" {
			t.Fatalf("upgrade %d of a flooding address refused early (%s)", i, r)
		}
	}
	if r := admit("10.0.0.1:4001"); r != refusedSource {
		t.Errorf("a sixth pending upgrade from one address: refused %q, want %q", r, refusedSource)
	}
	if r := admit("10.0.0.2:4000"); r != "" {
		t.Errorf("another address is refused (%s) while one floods", r)
	}
	if r := admit("[2001:db8::1]:4000"); r != "" {
		t.Errorf("an IPv6 address is refused (%s)", r)
	}
	for range 2 {
		admit("[2001:db8::2]:4000") // the same /64
	}
	if r := admit("10.0.0.3:4000"); r != refusedGlobal {
		t.Errorf("past the global pending bound: refused %q, want %q", r, refusedGlobal)
	}

	for _, release := range held {
		release()
		release() // a second call gives nothing back twice
	}
	held = nil
	if a.pending != 0 {
		t.Errorf("%d pending after every release", a.pending)
	}

	// The flooder's rate share (burst 20, 10/s) is spent after 20 upgrades in all.
	n := 0
	for admit("10.0.0.1:4000") == "" {
		n++
		held[len(held)-1]()
	}
	if n != 20-5 {
		t.Errorf("%d more upgrades within the burst, want 15", n)
	}
	clk.Step(time.Second)
	if r := admit("10.0.0.1:4000"); r != "" {
		t.Errorf("refused (%s) after the share refilled", r)
	}

	// Idle addresses are forgotten after a minute without pending upgrades.
	for _, release := range held {
		release()
	}
	clk.Step(2 * sourceIdle)
	admit("10.0.0.9:4000")
	if len(a.sources) != 1 {
		t.Errorf("%d addresses remembered after they went idle, want only the new one", len(a.sources))
	}
}
