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

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Path is where the manager serves the satellites' WebSocket.
const Path = "/api/ws/satellite"

// HeaderClientID optionally names, in an upgrade that carries a bearer token, the satellite the
// token is for (its UID). Ours: a client that sends it is refused unless the token is that
// satellite's, instead of being taken for whichever satellite holds the token.
const HeaderClientID = "X-Checkstack-Client-Id"

// Type is the "type" field of every frame.
type Type string

// Frames a satellite sends.
const (
	TypeAuthenticate  Type = "authenticate"
	TypeHeartbeat     Type = "heartbeat"
	TypeResult        Type = "result"
	TypeStrategyError Type = "strategy_error"
)

// Frames the manager sends.
const (
	TypeAuthenticated Type = "authenticated"
	TypeAuthFailed    Type = "auth_failed"
	TypeConfigUpdated Type = "config_updated"
	TypeConfigPatch   Type = "config_patch" // ours
	TypeShutdown      Type = "shutdown"
	TypeResultAck     Type = "result_ack" // ours
)

// CapabilityCheckConfig is what our agent advertises in authenticate and heartbeat: it runs
// the CheckConfig of this manager. A satellite that does not advertise it is taken for a
// Checkstack satellite and gets Checkstack's strategies and collectors.
const CapabilityCheckConfig = "satellite-operator.checkconfig.v1"

// CapabilityConfigPatch is what an agent of ours that applies config_patch advertises beside
// CapabilityCheckConfig: once it holds a list on a session, the manager sends it what changed
// instead of the whole list again. One change of a fleet with 100 assignments is then a few
// hundred bytes to each satellite instead of tens of kilobytes.
const CapabilityConfigPatch = "satellite-operator.configpatch.v1"

// CapabilityWrittenAcks is what an agent of ours advertises beside CapabilityCheckConfig when it
// wants a result acknowledged only once the result is in the API server (in the views of the
// satellite's presence Lease), not once the replica serving it took it: then a replica that is
// killed loses no acknowledged result. Results wait up to a report interval for their ack, and
// at most MaxUnwrittenResults of a session wait at once; the agent keeps them meanwhile.
const CapabilityWrittenAcks = "satellite-operator.writtenacks.v1"

// MaxUnwrittenResults is how many results of a session that advertises CapabilityWrittenAcks
// the manager takes before it writes their views at once, instead of with the next renewal:
// an agent's buffer must hold at least this many, and a satellite that produces more results
// in a report interval costs more than one write in it.
const MaxUnwrittenResults = 256

// WebSocket close codes of the protocol.
const (
	CloseAuthFailed  = 4001 // the agent stops retrying until its credentials change
	CloseReplaced    = 4002 // a newer connection of the same satellite took over
	CloseDeleted     = 4003 // the Satellite was deleted
	CloseAuthTimeout = 4008 // no authentication within the pre-auth timeout
	// CloseDuplicate refuses a connection of a satellite whose agents kept replacing each other:
	// another agent holds its session, for a hold-down. Like 4002, it asks the agent to stop.
	CloseDuplicate = 4009
	// CloseGoingAway (RFC 6455's 1001) ends every session of a manager replica that shuts down;
	// it is used for nothing else.
	CloseGoingAway = 1001
)

// Shutdown reasons the manager sends before closing.
const (
	ShutdownReplaced    = "replaced"
	ShutdownDuplicate   = "duplicate"
	ShutdownGoingAway   = "going_away"
	ShutdownDeleted     = "deleted"
	ShutdownTokenRotate = "token_rotated"
)

// Message is one decoded frame.
type Message interface {
	// MessageType is the frame's "type".
	MessageType() Type
}

// Authenticate is the satellite's first frame, unless the upgrade carried the token.
type Authenticate struct {
	// ClientID is the Satellite's metadata.uid.
	ClientID string `json:"clientId"`
	// Token is the plaintext token from the Satellite's token Secret.
	Token string `json:"token"`
	// Capabilities are what the agent advertises (Checkstack's optional field); ours carries
	// CapabilityCheckConfig. At most MaxCapabilities, each at most MaxIDBytes.
	Capabilities []string `json:"capabilities,omitempty"`
}

// Heartbeat tells the manager the satellite is alive.
type Heartbeat struct {
	// Version is the agent's version, shown in the Satellite's status; at most MaxVersionBytes.
	Version string `json:"version"`
	// UptimeSeconds is how long the agent has run, in seconds; not negative.
	UptimeSeconds float64 `json:"uptimeSeconds"`
	// Capabilities re-advertises the agent's capabilities, as in Authenticate; nil when the
	// agent does not send them, which leaves the ones known unchanged.
	Capabilities []string `json:"capabilities,omitempty"`
}

// Result is the outcome of one run of an assigned check.
type Result struct {
	// ID identifies the result so the manager can acknowledge it and drop a resent duplicate (ours).
	ID string `json:"id,omitempty"`
	// ConfigID is the Assignment's ConfigID the result is for.
	ConfigID string `json:"configId"`
	// SystemID is the Assignment's SystemID.
	SystemID string `json:"systemId"`
	// Status is healthy, degraded or unhealthy.
	Status v1alpha1.ResultStatus `json:"status"`
	// LatencyMs is how long the run took, in milliseconds; not negative.
	LatencyMs *float64 `json:"latencyMs,omitempty"`
	// Result is Checkstack's detail of the run, optional.
	Result *ResultDetail `json:"result,omitempty"`
	// ExecutedAt is when the run started; RFC 3339 on the wire.
	ExecutedAt time.Time `json:"executedAt"`
}

// ResultDetail is Checkstack's detailed result of a run.
type ResultDetail struct {
	// Status is healthy, degraded or unhealthy.
	Status v1alpha1.ResultStatus `json:"status"`
	// LatencyMs is how long the run took, in milliseconds; not negative.
	LatencyMs float64 `json:"latencyMs"`
	// Message is a human-readable outcome, such as "200 OK"; at most MaxMessageBytes.
	Message string `json:"message,omitempty"`
	// Metadata is whatever the probe reports; at most MaxMetadataKeys keys, nil encodes as {}.
	Metadata map[string]any `json:"metadata"`
}

// StrategyError reports a check type the satellite cannot run.
type StrategyError struct {
	// StrategyID is the check type that cannot run.
	StrategyID string `json:"strategyId"`
	// Message says why; at most MaxMessageBytes.
	Message string `json:"message"`
}

// Authenticated accepts the satellite and hands it its assignments.
type Authenticated struct {
	// SatelliteID is the Satellite's metadata.uid.
	SatelliteID string `json:"satelliteId"`
	// Assignments are the checks the satellite must run; at most MaxAssignments, nil encodes as [].
	Assignments []Assignment `json:"assignments"`
	// HeartbeatIntervalSeconds is how often the satellite must send heartbeats (ours); 0 leaves
	// Checkstack's 15 s.
	HeartbeatIntervalSeconds int `json:"heartbeatIntervalSeconds,omitempty"`
}

// AuthFailed refuses the satellite; the manager closes with CloseAuthFailed after it.
type AuthFailed struct {
	// Reason says why, without repeating the credentials; at most MaxMessageBytes.
	Reason string `json:"reason"`
}

// ConfigUpdated replaces the satellite's whole list of assignments.
type ConfigUpdated struct {
	// Assignments are all the checks the satellite must run now; at most MaxAssignments.
	Assignments []Assignment `json:"assignments"`
}

// ConfigPatch changes the list of assignments the manager last sent on this session (in
// authenticated, config_updated or config_patch), by configId; ours, sent only to an agent that
// advertises CapabilityConfigPatch. Apply gives the list it makes.
type ConfigPatch struct {
	// Assignments are added, or replace the assignment of the same configId; at most
	// MaxAssignments.
	Assignments []Assignment `json:"assignments"`
	// Removed are the configIds no longer in the list; at most MaxAssignments, each at most
	// MaxIDBytes.
	Removed []string `json:"removed"`
}

// Apply returns the list that p makes of list: list less the removed configIds and those p
// replaces, then p's assignments, sorted by configId as the manager sends them. list is not
// modified. A removed configId that list does not hold is no error: the result is the same.
func (p *ConfigPatch) Apply(list []Assignment) []Assignment {
	drop := make(map[string]bool, len(p.Removed)+len(p.Assignments))
	for _, id := range p.Removed {
		drop[id] = true
	}
	for _, a := range p.Assignments {
		drop[a.ConfigID] = true
	}
	out := make([]Assignment, 0, len(list)+len(p.Assignments))
	for _, a := range list {
		if !drop[a.ConfigID] {
			out = append(out, a)
		}
	}
	out = append(out, p.Assignments...)
	slices.SortStableFunc(out, func(a, b Assignment) int { return strings.Compare(a.ConfigID, b.ConfigID) })
	return out
}

// Shutdown announces that the manager closes the connection, and why.
type Shutdown struct {
	// Reason is one of the Shutdown* constants, or another short text.
	Reason string `json:"reason"`
}

// ResultAck acknowledges processed results by ID (ours).
type ResultAck struct {
	// IDs are the Result IDs processed; at most MaxAckIDs per frame, nil encodes as [].
	IDs []string `json:"ids"`
}

// Assignment is one check a satellite must run.
type Assignment struct {
	// ConfigID is the HealthCheckAssignment's metadata.uid.
	ConfigID string `json:"configId"`
	// SystemID is the HealthCheckAssignment's spec.system.
	SystemID string `json:"systemId"`
	// StrategyID is the check type.
	StrategyID string `json:"strategyId"`
	// Config holds the check's settings: for our agent a CheckConfig, for a Checkstack
	// satellite the strategy's own config.
	Config json.RawMessage `json:"config"`
	// Collectors are the collectors a Checkstack strategy runs (the request of an http check,
	// for example); our agent ignores them and the manager sends none to it.
	Collectors []Collector `json:"collectors,omitempty"`
	// IntervalSeconds is how often to run the check, in seconds, 1 to MaxIntervalSeconds.
	IntervalSeconds int `json:"intervalSeconds"`
}

// Collector is one collector of a Checkstack assignment.
type Collector struct {
	// ID names this collector instance within its assignment; results are keyed by it.
	ID string `json:"id"`
	// CollectorID is the collector's registry key, "<pluginId>.<collectorId>".
	CollectorID string `json:"collectorId"`
	// Config is the collector's settings.
	Config map[string]any `json:"config"`
}

// CheckConfig is the Config of an assignment relayed by our manager: the HealthCheckAssignment's
// check block with every secret reference resolved to its value.
type CheckConfig struct {
	// TimeoutMs bounds one run, in milliseconds.
	TimeoutMs int64 `json:"timeoutMs"`
	// DegradedLatencyMs makes a successful run slower than this degraded; 0 disables it.
	DegradedLatencyMs int64 `json:"degradedLatencyMs,omitempty"`

	HTTP *v1alpha1.HTTPCheck `json:"http,omitempty"`
	TCP  *v1alpha1.TCPCheck  `json:"tcp,omitempty"`
	DNS  *v1alpha1.DNSCheck  `json:"dns,omitempty"`
	TLS  *v1alpha1.TLSCheck  `json:"tls,omitempty"`
	GRPC *v1alpha1.GRPCCheck `json:"grpc,omitempty"`
	ICMP *v1alpha1.ICMPCheck `json:"icmp,omitempty"`
}

// MessageType implements Message.
func (*Authenticate) MessageType() Type { return TypeAuthenticate }

// MessageType implements Message.
func (*Heartbeat) MessageType() Type { return TypeHeartbeat }

// MessageType implements Message.
func (*Result) MessageType() Type { return TypeResult }

// MessageType implements Message.
func (*StrategyError) MessageType() Type { return TypeStrategyError }

// MessageType implements Message.
func (*Authenticated) MessageType() Type { return TypeAuthenticated }

// MessageType implements Message.
func (*AuthFailed) MessageType() Type { return TypeAuthFailed }

// MessageType implements Message.
func (*ConfigUpdated) MessageType() Type { return TypeConfigUpdated }

// MessageType implements Message.
func (*ConfigPatch) MessageType() Type { return TypeConfigPatch }

// MessageType implements Message.
func (*Shutdown) MessageType() Type { return TypeShutdown }

// MessageType implements Message.
func (*ResultAck) MessageType() Type { return TypeResultAck }
