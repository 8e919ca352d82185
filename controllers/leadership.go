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

package controllers

import "time"

// Leadership tells the reconcilers whether this replica leads. The controllers run on every
// replica, so that losing the Lease ends a term and not the process, and so that every replica's
// fleet knows the Satellites and assignments it serves; a reconcile that does not lead writes
// nothing, and each new term wakes every object (fleet.WakeAll).
type Leadership interface {
	// Leading reports whether this replica leads now.
	Leading() bool
	// TermStart is when this replica's current or last term began.
	TermStart() time.Time
}

// leads reports whether l leads; nil leads always.
func leads(l Leadership) bool {
	return l == nil || l.Leading()
}
