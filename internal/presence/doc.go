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

// Package presence carries each connected satellite's presence in a coordination.k8s.io Lease,
// as the kubelet carries a node's in kube-node-lease (KEP-589). The replica that holds the
// satellite's session writes the Lease: at once on connect, clean disconnect, loss and silence,
// and otherwise at most once per status report interval (Writer). The leader's
// SatelliteReconciler reads the Leases from its cache and judges the satellite by its own clock
// (Observer). The Lease is also the fence for one session per satellite across replicas: a
// replica that sees another hold the Lease of a satellite it serves for a newer session closes
// its own (Watch).
//
// A presence Lease is named satellite-<name>, lives in the Satellite's namespace, is owned by
// the Satellite (so it goes with it) and is labelled with the Satellite's name:
//
//   - holderIdentity is the replica that holds the session; empty once the session ended;
//   - acquireTime is when the session authenticated;
//   - renewTime is when the holder last heard from the satellite (for a clean disconnect,
//     when the session closed);
//   - leaseDurationSeconds is the offline threshold plus the renew interval (10/9 of the report
//     interval): how long after renewTime the holder promises to have written again, unless it
//     died. A renewal comes with the first heartbeat a renew interval after the last, and a
//     live session's heartbeats are less than its threshold apart;
//   - annotations say what the holder saw (Connected, Silent, Disconnected, Lost) and what
//     the agent reported (version, kind, capabilities).
package presence
