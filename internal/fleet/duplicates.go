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
	"errors"
	"fmt"
	"slices"
	"time"
)

// Two agents that share one identity replace each other's session, and a Checkstack agent dials
// again after any close: measured, two of them replaced each other 30 times in 30 s, and each
// new session ran the check at once, 5 times too often. DuplicateReplacements replacements
// within DuplicateWindow hold the satellite's session down: from the last of them, for
// DuplicateHoldDown, its session is kept and newcomers are refused. One reconnect that replaces
// a half-open session is far from the limit.
//
// The replacements are counted across replicas: the replica that replaces a session records it
// in the satellite's presence Lease, and every replica merges what the Leases record, so that
// two agents that reach different replicas are held down as two on one replica are.
const (
	DuplicateReplacements = 3
	DuplicateWindow       = time.Minute
	DuplicateHoldDown     = 10 * time.Minute
)

// ErrInvalidCredentials is the refusal of credentials that authenticate no Satellite.
var ErrInvalidCredentials = errors.New("invalid credentials")

// DuplicateError refuses a newcomer while the satellite's incumbent session is held.
type DuplicateError struct {
	// Until is when the hold-down ends.
	Until time.Time
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("another agent holds this satellite's session until %s: agents that share one identity kept replacing each other",
		e.Until.UTC().Format(time.RFC3339))
}

// HoldDown returns the hold-down that the replacements, oldest first, began, if they began one:
// DuplicateReplacements of them within DuplicateWindow begin it at the last of them. Every
// replica decides from the same record, so they agree on it without telling each other.
func HoldDown(replacements []time.Time) (since, until time.Time, held bool) {
	n := len(replacements)
	if n < DuplicateReplacements {
		return time.Time{}, time.Time{}, false
	}
	since = replacements[n-1]
	if since.Sub(replacements[n-DuplicateReplacements]) >= DuplicateWindow {
		return time.Time{}, time.Time{}, false
	}
	return since, since.Add(DuplicateHoldDown), true
}

// MergeReplacements returns the newest DuplicateReplacements times of a and b, oldest first and
// without repeats: what two replicas' records of one satellite's replacements hold together.
func MergeReplacements(a, b []time.Time) []time.Time {
	all := append(slices.Clone(a), b...)
	slices.SortFunc(all, time.Time.Compare)
	all = slices.CompactFunc(all, time.Time.Equal)
	if len(all) > DuplicateReplacements {
		all = all[len(all)-DuplicateReplacements:]
	}
	return all
}

// duplicates is one satellite's record of replaced sessions: its own replacements and those
// other replicas recorded in the satellite's presence Lease.
type duplicates struct {
	// replaced are the times of the last replacements, oldest first, at most
	// DuplicateReplacements.
	replaced []time.Time
	// replacedAddr is the remote address of the session that this replica's last replacement
	// closed, for the Warning Event that a hold-down begun here gets.
	replacedAddr string
}

// admit decides whether a newcomer may replace the incumbent session, at incumbentAddr, at now;
// when it may, the replacement is recorded, and began is true when it begins a hold-down.
func (d *duplicates) admit(now time.Time, incumbentAddr string) (refusal *DuplicateError, began bool) {
	if _, until, held := HoldDown(d.replaced); held && now.Before(until) {
		return &DuplicateError{Until: until}, false
	}
	d.replaced = MergeReplacements(d.replaced, []time.Time{now})
	d.replacedAddr = incumbentAddr
	since, _, held := HoldDown(d.replaced)
	return nil, held && since.Equal(now)
}
