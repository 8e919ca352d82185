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

package v1alpha1

// Condition types of a HealthCheckAssignment.
const (
	// ConditionReady is True while the check is relayed to its satellites.
	ConditionReady = "Ready"
)

// Condition reasons of a HealthCheckAssignment.
const (
	// ReasonRelayed means the check is relayed to the selected satellites.
	ReasonRelayed = "Relayed"
	// ReasonPaused means spec.paused stops the check.
	ReasonPaused = "Paused"
	// ReasonInvalidSelector means spec.satelliteSelector cannot be compiled.
	ReasonInvalidSelector = "InvalidSelector"
	// ReasonSecretUnavailable means a Secret the check may use lacks the key it refers to.
	ReasonSecretUnavailable = "SecretUnavailable"
	// ReasonSecretNotPermitted means the check refers to a Secret that checks may not use: one
	// without the label LabelCheckSecret (or that does not exist), or a satellite's token Secret.
	ReasonSecretNotPermitted = "SecretNotPermitted"
	// ReasonNotRelayable means some selected satellites run an agent that cannot carry the
	// check faithfully (Checkstack's, for followRedirects: false, say), so it is not relayed to
	// them; the message names them and says why.
	ReasonNotRelayable = "NotRelayable"
	// ReasonNoSatellitesSelected means no Satellite of the namespace matches the selection.
	ReasonNoSatellitesSelected = "NoSatellitesSelected"
	// ReasonSatellitesOffline means every selected Satellite is Offline: the state is Unknown,
	// since the check's targets are not to blame, and the Satellites' own Events say why.
	ReasonSatellitesOffline = "SatellitesOffline"
)

// Every Ready reason but ReasonRelayed is also the reason of the one Warning Event emitted when
// the condition takes it.

// Event reasons emitted for a HealthCheckAssignment, each on a change of its aggregate state.
const (
	// EventCheckUnhealthy (Warning): at least quorum satellites see the check failing.
	EventCheckUnhealthy = "CheckUnhealthy"
	// EventCheckDegraded (Warning): some satellites see the check failing or slow.
	EventCheckDegraded = "CheckDegraded"
	// EventCheckRecovered (Normal): every reporting satellite sees the check healthy again.
	EventCheckRecovered = "CheckRecovered"
	// EventSecretNotPermitted (Warning): the check refers to a Secret that checks may not use, so
	// it is not relayed. Emitted when the Ready condition takes that reason.
	EventSecretNotPermitted = "SecretNotPermitted"
	// EventNotRelayable (Warning): the check became one that some selected satellites' agents
	// cannot carry, so it is not relayed to them.
	EventNotRelayable = "NotRelayable"
)

// Labels of the API that concern HealthCheckAssignments.
const (
	// LabelCheckSecret, with the value "true", is the consent of a Secret's owner that checks of
	// its namespace may read it (spec.check.http.headers[].valueFrom.secretKeyRef) and relay its
	// values to satellites. The manager reads no other Secret for a check, and never a
	// satellite's token Secret, whatever labels it carries.
	LabelCheckSecret = "satellite.checkstack.io/check-secret"
)
