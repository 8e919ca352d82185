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

package protocol

// Limits on what a decoder accepts from a peer. Every string and list read from the wire is
// bounded, so a peer cannot make the other side hold more than these multiples of a frame's size;
// the frame itself is bounded by the WebSocket read limit (section 6 of the design).
const (
	// MaxTokenBytes bounds authenticate.token; generated tokens are 48 bytes.
	MaxTokenBytes = 512
	// MaxClientIDBytes bounds authenticate.clientId, a Satellite UID (36 bytes).
	MaxClientIDBytes = 64
	// MaxVersionBytes bounds heartbeat.version.
	MaxVersionBytes = 64
	// MaxIDBytes bounds identifiers: result ids, result_ack ids, configId, satelliteId and
	// strategyId.
	MaxIDBytes = 128
	// MaxSystemIDBytes bounds systemId, which is a HealthCheckAssignment's spec.system: the API
	// allows 253 bytes there, so the wire must too.
	MaxSystemIDBytes = 253
	// MaxAckIDs bounds the ids of one result_ack; the manager acknowledges more in several frames.
	MaxAckIDs = 1000
	// MaxMessageBytes bounds free-text strings: messages and reasons.
	MaxMessageBytes = 4096
	// MaxAssignments bounds the assignments of one authenticated, config_updated or config_patch
	// frame, and the removed configIds of a config_patch.
	MaxAssignments = 10000
	// MaxMetadataKeys bounds the keys of result.result.metadata.
	MaxMetadataKeys = 64
	// MaxCapabilities bounds the capabilities of one authenticate or heartbeat.
	MaxCapabilities = 64
	// MaxIntervalSeconds bounds intervalSeconds and heartbeatIntervalSeconds (about 68 years).
	// The API puts no ceiling on a check's interval, so neither does the wire in practice; the
	// bound only keeps seconds*time.Second from overflowing, which would hand the agent a
	// negative ticker period.
	MaxIntervalSeconds = 1<<31 - 1
)
