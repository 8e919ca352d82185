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
	"time"
)

// Two agents that share one identity replace each other's session, and a Checkstack agent dials
// again after any close: measured, two of them replaced each other 30 times in 30 s, and each
// new session ran the check at once, 5 times too often. After DuplicateReplacements replacements
// within DuplicateWindow, the fleet keeps the incumbent for DuplicateHoldDown and refuses the
// newcomers. One reconnect that replaces a half-open session is far from the limit.
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

// Duplicate is a hold-down that began, for the satellite's Warning Event.
type Duplicate struct {
	// Incumbent and Newcomer are the remote addresses of the kept session and of the refused one.
	Incumbent, Newcomer string
	// Until is when the hold-down ends.
	Until time.Time
}

// duplicates is one satellite's record of replaced sessions.
type duplicates struct {
	// replaced are the times of the last replacements, at most DuplicateReplacements.
	replaced []time.Time
	// holdUntil is the end of the current hold-down, if any.
	holdUntil time.Time
	// due is the hold-down that began, until the reconciler takes it.
	due *Duplicate
}

// admit decides whether a newcomer may replace the incumbent session at now; when it may not,
// it returns the refusal, and began is true for the refusal that started the hold-down.
func (d *duplicates) admit(now time.Time, incumbent, newcomer string) (refusal *DuplicateError, began bool) {
	if now.Before(d.holdUntil) {
		return &DuplicateError{Until: d.holdUntil}, false
	}
	kept := d.replaced[:0]
	for _, t := range d.replaced {
		if now.Sub(t) < DuplicateWindow {
			kept = append(kept, t)
		}
	}
	d.replaced = kept
	if len(d.replaced) < DuplicateReplacements {
		d.replaced = append(d.replaced, now)
		return nil, false
	}
	d.replaced = nil
	d.holdUntil = now.Add(DuplicateHoldDown)
	d.due = &Duplicate{Incumbent: incumbent, Newcomer: newcomer, Until: d.holdUntil}
	return &DuplicateError{Until: d.holdUntil}, true
}
