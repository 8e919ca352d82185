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
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Path is where the manager serves the satellites' WebSocket.
const Path = "/api/ws/satellite"

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
	TypeShutdown      Type = "shutdown"
	TypeResultAck     Type = "result_ack" // ours
)

// WebSocket close codes of the protocol.
const (
	CloseAuthFailed  = 4001 // the agent stops retrying until its credentials change
	CloseReplaced    = 4002 // a newer connection of the same satellite took over
	CloseDeleted     = 4003 // the Satellite was deleted
	CloseAuthTimeout = 4008 // no authentication within the pre-auth timeout
)

// Shutdown reasons the manager sends before closing.
const (
	ShutdownReplaced    = "replaced"
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
}

// Heartbeat tells the manager the satellite is alive.
type Heartbeat struct {
	Version       string  `json:"version"`
	UptimeSeconds float64 `json:"uptimeSeconds"`
}

// Result is the outcome of one run of an assigned check.
type Result struct {
	// ID identifies the result so the manager can acknowledge it and drop a resent duplicate (ours).
	ID         string                `json:"id,omitempty"`
	ConfigID   string                `json:"configId"`
	SystemID   string                `json:"systemId"`
	Status     v1alpha1.ResultStatus `json:"status"`
	LatencyMs  *float64              `json:"latencyMs,omitempty"`
	Result     *ResultDetail         `json:"result,omitempty"`
	ExecutedAt time.Time             `json:"executedAt"`
}

// ResultDetail is Checkstack's detailed result of a run.
type ResultDetail struct {
	Status    v1alpha1.ResultStatus `json:"status"`
	LatencyMs float64               `json:"latencyMs"`
	Message   string                `json:"message,omitempty"`
	Metadata  map[string]any        `json:"metadata"`
}

// StrategyError reports a check type the satellite cannot run.
type StrategyError struct {
	StrategyID string `json:"strategyId"`
	Message    string `json:"message"`
}

// Authenticated accepts the satellite and hands it its assignments.
type Authenticated struct {
	SatelliteID string       `json:"satelliteId"`
	Assignments []Assignment `json:"assignments"`
	// HeartbeatIntervalSeconds is how often the satellite must send heartbeats (ours).
	HeartbeatIntervalSeconds int `json:"heartbeatIntervalSeconds,omitempty"`
}

// AuthFailed refuses the satellite; the manager closes with CloseAuthFailed after it.
type AuthFailed struct {
	Reason string `json:"reason"`
}

// ConfigUpdated replaces the satellite's whole list of assignments.
type ConfigUpdated struct {
	Assignments []Assignment `json:"assignments"`
}

// Shutdown announces that the manager closes the connection, and why.
type Shutdown struct {
	Reason string `json:"reason"`
}

// ResultAck acknowledges processed results by ID (ours).
type ResultAck struct {
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
	// Config holds the check's settings; for our manager it is a CheckConfig.
	Config          json.RawMessage `json:"config"`
	IntervalSeconds int             `json:"intervalSeconds"`
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
func (*Shutdown) MessageType() Type { return TypeShutdown }

// MessageType implements Message.
func (*ResultAck) MessageType() Type { return TypeResultAck }
