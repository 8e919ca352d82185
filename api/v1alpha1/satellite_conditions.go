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

// Condition types of a Satellite.
const (
	// ConditionOnline is True while the satellite sends heartbeats within its offline threshold.
	ConditionOnline = "Online"
	// ConditionTokenReady is True when the satellite's token Secret exists and holds a token.
	ConditionTokenReady = "TokenReady"
)

// Condition reasons of a Satellite.
const (
	// ReasonConnected means the satellite has a live, authenticated session.
	ReasonConnected = "Connected"
	// ReasonNeverConnected means the satellite has not connected since it was created.
	ReasonNeverConnected = "NeverConnected"
	// ReasonHeartbeatTimeout means no heartbeat arrived within the offline threshold.
	ReasonHeartbeatTimeout = "HeartbeatTimeout"
	// ReasonDisconnected means the satellite closed its session and did not reconnect within
	// the grace period.
	ReasonDisconnected = "Disconnected"
	// ReasonTokenGenerated means the operator generated the token Secret.
	ReasonTokenGenerated = "TokenGenerated"
	// ReasonTokenProvided means the token comes from the Secret named by spec.tokenSecretRef.
	ReasonTokenProvided = "TokenProvided"
	// ReasonSecretNotFound means the Secret named by spec.tokenSecretRef does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretInvalid means the token Secret has no non-empty "token" key.
	ReasonSecretInvalid = "SecretInvalid"
	// ReasonSecretConflict means the satellite has no token of its own: a Secret named
	// <name>-token exists that it does not own, its token Secret is another Satellite's too (or
	// is owned by another Satellite), or another Satellite's Secret holds the same token. None of
	// the Satellites involved can authenticate until each has its own.
	ReasonSecretConflict = "SecretConflict"
)

// Event reasons emitted for a Satellite, each on an edge only.
const (
	// EventSatelliteOnline (Normal) is emitted when a satellite goes from Offline to Online.
	EventSatelliteOnline = "SatelliteOnline"
	// EventSatelliteOffline (Warning) is emitted when a satellite goes from Online to Offline.
	EventSatelliteOffline = "SatelliteOffline"
	// EventTokenGenerated (Normal) is emitted when the operator creates a satellite's token Secret.
	EventTokenGenerated = "TokenGenerated"
	// EventTokenRotated (Normal) is emitted when a new token replaces the old one.
	EventTokenRotated = "TokenRotated"
	// EventTokenSecretProblem (Warning) is emitted when the token Secret cannot be used.
	EventTokenSecretProblem = "TokenSecretProblem"
	// EventRepeatedClose (Warning) is emitted when the manager closed the satellite's sessions
	// with the same code three times in a row: the agent keeps doing what gets it closed (a
	// frame over the size limit that it sends again after every reconnect, say).
	EventRepeatedClose = "RepeatedClose"
	// EventDuplicateSatellite (Warning) is emitted when agents that share the satellite's identity
	// replaced each other's session 3 times within a minute: the manager keeps the current session
	// for 10 minutes and refuses the others with close 4009. It names both remote addresses.
	EventDuplicateSatellite = "DuplicateSatellite"
)

// Annotations, labels and Secret keys of the API.
const (
	// AnnotationRotateToken asks for a new token: each new value of it rotates the token once.
	AnnotationRotateToken = "satellite.checkstack.io/rotate-token"
	// AnnotationRotatedFor on a token Secret records the rotate-token value last handled, so a
	// restart of the operator does not rotate twice.
	AnnotationRotatedFor = "satellite.checkstack.io/rotated-for"
	// LabelTokenSecret marks the Secrets that hold satellite tokens; the manager caches only these.
	LabelTokenSecret = "satellite.checkstack.io/token"
	// LabelPresenceSatellite names the Satellite whose presence a Lease carries: the replica that
	// holds the satellite's session renews it, and the manager caches only Leases with this label.
	LabelPresenceSatellite = "satellite.checkstack.io/satellite"
	// AnnotationPresence on a presence Lease says what its holder last saw of the session: one of
	// the Presence* values.
	AnnotationPresence = "satellite.checkstack.io/presence"
	// AnnotationAgentVersion on a presence Lease is the agent version the satellite reported.
	AnnotationAgentVersion = "satellite.checkstack.io/agent-version"
	// AnnotationAgentKind on a presence Lease is the agent's kind, as in status.agent.kind.
	AnnotationAgentKind = "satellite.checkstack.io/agent-kind"
	// AnnotationViews on a presence Lease are the satellite's views of its assignments, as the
	// holder took its results: JSON, for the leader to fold into the assignments' status.
	AnnotationViews = "satellite.checkstack.io/views"
	// AnnotationRemoteAddress on a presence Lease is the peer address of the satellite's session.
	AnnotationRemoteAddress = "satellite.checkstack.io/remote-address"
	// AnnotationReplacements on a presence Lease are the times, RFC 3339 and comma-separated, at
	// which the satellite's last sessions were replaced by newer ones, on any replica: agents
	// that share its identity and keep replacing each other are held down from this record.
	AnnotationReplacements = "satellite.checkstack.io/replacements"
	// AnnotationReplacedAddress on a presence Lease is the peer address of the session that the
	// last replacement closed.
	AnnotationReplacedAddress = "satellite.checkstack.io/replaced-address"
	// AnnotationRepeatedClose on a presence Lease is the last run of the same close of the
	// satellite's sessions that a replica reported: JSON, for the leader's Warning Event.
	AnnotationRepeatedClose = "satellite.checkstack.io/repeated-close"
	// AnnotationAgentCapabilities on a presence Lease are the agent's capabilities, comma-separated.
	AnnotationAgentCapabilities = "satellite.checkstack.io/agent-capabilities"
	// SecretKeyToken is the key of a token Secret that holds the token.
	SecretKeyToken = "token"
	// SecretKeyClientID is the key of a token Secret that holds the satellite's client ID (its UID).
	SecretKeyClientID = "clientId"
)

// Values of a presence Lease's AnnotationPresence.
const (
	// PresenceConnected: the holder has the satellite's session and hears its heartbeats; it
	// writes again within the Lease's duration, or it is gone.
	PresenceConnected = "Connected"
	// PresenceSilent: the holder still has the session, but no heartbeat came for the offline
	// threshold.
	PresenceSilent = "Silent"
	// PresenceDisconnected: the session was closed cleanly, by either side.
	PresenceDisconnected = "Disconnected"
	// PresenceLost: the session ended without a close (the network or the peer went away).
	PresenceLost = "Lost"
	// PresenceReleased: the holder shut down and closed the session with 1001; the satellite
	// redials another replica. It counts as Connected for the Lease's duration, as a holder that
	// died does, but no replica takes the redial for a second agent.
	PresenceReleased = "Released"
)
