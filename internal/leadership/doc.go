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

// Package leadership elects the replica that reconciles, in terms. controller-runtime's leader
// election ends the process when the Lease is lost, which an API server outage of a RenewDeadline
// does, and with the process every satellite's session. Here losing the Lease ends a term: the
// process, its caches and its sessions go on, and the next term starts as soon as the Lease is
// won again. After an outage the replica that held the Lease keeps the first claim on it, so
// that the satellites it kept connected need not move.
package leadership
