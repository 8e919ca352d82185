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
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// DecodeFromSatellite decodes a frame sent by a satellite: authenticate, heartbeat, result or
// strategy_error, as *Authenticate, *Heartbeat, *Result or *StrategyError.
//
// It refuses, with a *DecodeError, anything that is not such a frame with every required field
// present, of its JSON type and within the package's limits (the Max* constants). Field names
// match as encoding/json matches them; fields it does not know are ignored, because additions
// to the protocol are optional fields that old peers must tolerate; and null reads as absent.
func DecodeFromSatellite(data []byte) (Message, error) {
	return decode(data, satellite, manager)
}

// DecodeFromManager decodes a frame sent by the manager: authenticated, auth_failed,
// config_updated, config_patch, shutdown or result_ack, as *Authenticated, *AuthFailed,
// *ConfigUpdated, *ConfigPatch, *Shutdown or *ResultAck. It is as strict as
// DecodeFromSatellite, and checks every assignment as Assignment.Validate does; an
// assignment's config is returned compacted.
func DecodeFromManager(data []byte) (Message, error) {
	return decode(data, manager, satellite)
}

// sender is one side of the connection, with a decoder for each type of frame it sends.
type sender struct {
	name   string
	frames map[Type]func(data []byte) (Message, error)
}

var (
	satellite = sender{"a satellite", map[Type]func([]byte) (Message, error){
		TypeAuthenticate:  decodeAuthenticate,
		TypeHeartbeat:     decodeHeartbeat,
		TypeResult:        decodeResult,
		TypeStrategyError: decodeStrategyError,
	}}
	manager = sender{"the manager", map[Type]func([]byte) (Message, error){
		TypeAuthenticated: decodeAuthenticated,
		TypeAuthFailed:    decodeAuthFailed,
		TypeConfigUpdated: decodeConfigUpdated,
		TypeConfigPatch:   decodeConfigPatch,
		TypeShutdown:      decodeShutdown,
		TypeResultAck:     decodeResultAck,
	}}
)

// decode reads the frame's type, then hands the frame to the decoder of that type if from sends
// it.
func decode(data []byte, from, other sender) (Message, error) {
	var envelope struct {
		Type string `json:"type"`
	}
	err := json.Unmarshal(data, &envelope)
	var syntax *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return nil, &DecodeError{Reason: "not valid JSON: empty frame"}
	case errors.As(err, &syntax):
		return nil, problem(err)
	case !utf8.Valid(data):
		// JSON text must be UTF-8 (RFC 8259); encoding/json would quietly replace bad bytes, so
		// two frames that differ on the wire would decode the same.
		return nil, &DecodeError{Reason: "not valid UTF-8"}
	case kindOf(data) != "an object":
		return nil, &DecodeError{Reason: "not a JSON object, but " + kindOf(data)}
	case err != nil:
		return nil, problem(err) // of the "type" field, the only one decoded so far
	case envelope.Type == "":
		return nil, &DecodeError{Field: "type", Reason: "is required"}
	}
	t := Type(envelope.Type)
	if frame, ok := from.frames[t]; ok {
		return frame(data)
	}
	if _, ok := other.frames[t]; ok {
		return nil, &DecodeError{Field: "type", Reason: "message type " + quoteType(envelope.Type) +
			" is sent by " + other.name + ", not by " + from.name}
	}
	return nil, &DecodeError{Field: "type", Reason: unknownTypeReason + quoteType(envelope.Type)}
}

const unknownTypeReason = "unknown message type "

// UnknownType returns the type of data, a frame that err (from DecodeFromSatellite or
// DecodeFromManager) refused only because no side of the protocol sends that type, and whether
// it was so. An authenticated satellite's frame of a type added to Checkstack's protocol after
// ours is ignored instead of ending the session.
func UnknownType(data []byte, err error) (Type, bool) {
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "type" || !strings.HasPrefix(de.Reason, unknownTypeReason) {
		return "", false
	}
	var envelope struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &envelope) != nil {
		return "", false
	}
	return Type(envelope.Type), true
}

// decodeFrame unmarshals the frame data of type t into wire, a pointer to the type's wire struct,
// and returns what build makes of it unless build's checks of the fields found a problem.
func decodeFrame(t Type, data []byte, wire any, build func(f *fields) Message) (Message, error) {
	if err := json.Unmarshal(data, wire); err != nil {
		p := problem(err)
		p.Type = t
		return nil, p
	}
	var f fields
	m := build(&f)
	if err := f.done(t); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeAuthenticate(data []byte) (Message, error) {
	var w struct {
		ClientID     *string           `json:"clientId"`
		Token        *string           `json:"token"`
		Capabilities []json.RawMessage `json:"capabilities"`
	}
	return decodeFrame(TypeAuthenticate, data, &w, func(f *fields) Message {
		return &Authenticate{
			ClientID:     f.text("clientId", w.ClientID, MaxClientIDBytes),
			Token:        f.text("token", w.Token, MaxTokenBytes),
			Capabilities: f.capabilities(w.Capabilities),
		}
	})
}

func decodeHeartbeat(data []byte) (Message, error) {
	var w struct {
		Version       *string           `json:"version"`
		UptimeSeconds *float64          `json:"uptimeSeconds"`
		Capabilities  []json.RawMessage `json:"capabilities"`
	}
	return decodeFrame(TypeHeartbeat, data, &w, func(f *fields) Message {
		return &Heartbeat{
			Version:       f.text("version", w.Version, MaxVersionBytes),
			UptimeSeconds: f.nonNegative("uptimeSeconds", w.UptimeSeconds),
			Capabilities:  f.capabilities(w.Capabilities),
		}
	})
}

func decodeResult(data []byte) (Message, error) {
	var w struct {
		ID        *string                `json:"id"`
		ConfigID  *string                `json:"configId"`
		SystemID  *string                `json:"systemId"`
		Status    *v1alpha1.ResultStatus `json:"status"`
		LatencyMs *float64               `json:"latencyMs"`
		Result    *struct {
			Status    *v1alpha1.ResultStatus `json:"status"`
			LatencyMs *float64               `json:"latencyMs"`
			Message   string                 `json:"message"`
			Metadata  map[string]any         `json:"metadata"`
		} `json:"result"`
		ExecutedAt *string `json:"executedAt"`
	}
	return decodeFrame(TypeResult, data, &w, func(f *fields) Message {
		m := &Result{
			ConfigID:   f.text("configId", w.ConfigID, MaxIDBytes),
			SystemID:   f.text("systemId", w.SystemID, MaxSystemIDBytes),
			Status:     f.status("status", w.Status),
			LatencyMs:  w.LatencyMs,
			ExecutedAt: f.timestamp("executedAt", w.ExecutedAt),
		}
		if w.ID != nil {
			m.ID = f.text("id", w.ID, MaxIDBytes)
		}
		if w.LatencyMs != nil {
			f.nonNegative("latencyMs", w.LatencyMs)
		}
		if d := w.Result; d != nil {
			m.Result = &ResultDetail{
				Status:    f.status("result.status", d.Status),
				LatencyMs: f.nonNegative("result.latencyMs", d.LatencyMs),
				Message:   f.bounded("result.message", d.Message, MaxMessageBytes),
				Metadata:  d.Metadata,
			}
			f.check("result.metadata", d.Metadata != nil, "is required")
			f.check("result.metadata", len(d.Metadata) <= MaxMetadataKeys,
				"must have at most "+strconv.Itoa(MaxMetadataKeys)+" keys")
		}
		return m
	})
}

func decodeStrategyError(data []byte) (Message, error) {
	var w struct {
		StrategyID *string `json:"strategyId"`
		Message    *string `json:"message"`
	}
	return decodeFrame(TypeStrategyError, data, &w, func(f *fields) Message {
		return &StrategyError{
			StrategyID: f.text("strategyId", w.StrategyID, MaxIDBytes),
			Message:    f.bounded("message", given(f, "message", w.Message), MaxMessageBytes),
		}
	})
}

func decodeAuthenticated(data []byte) (Message, error) {
	var w struct {
		SatelliteID              *string           `json:"satelliteId"`
		Assignments              []json.RawMessage `json:"assignments"`
		HeartbeatIntervalSeconds int               `json:"heartbeatIntervalSeconds"`
	}
	return decodeFrame(TypeAuthenticated, data, &w, func(f *fields) Message {
		m := &Authenticated{
			SatelliteID:              f.text("satelliteId", w.SatelliteID, MaxIDBytes),
			Assignments:              f.assignments(w.Assignments),
			HeartbeatIntervalSeconds: w.HeartbeatIntervalSeconds,
		}
		f.check("heartbeatIntervalSeconds", m.HeartbeatIntervalSeconds >= 0, "must not be negative")
		f.check("heartbeatIntervalSeconds", m.HeartbeatIntervalSeconds <= MaxIntervalSeconds,
			"must be at most "+strconv.Itoa(MaxIntervalSeconds))
		return m
	})
}

func decodeAuthFailed(data []byte) (Message, error) {
	var w struct {
		Reason *string `json:"reason"`
	}
	return decodeFrame(TypeAuthFailed, data, &w, func(f *fields) Message {
		return &AuthFailed{Reason: f.text("reason", w.Reason, MaxMessageBytes)}
	})
}

func decodeConfigUpdated(data []byte) (Message, error) {
	var w struct {
		Assignments []json.RawMessage `json:"assignments"`
	}
	return decodeFrame(TypeConfigUpdated, data, &w, func(f *fields) Message {
		return &ConfigUpdated{Assignments: f.assignments(w.Assignments)}
	})
}

func decodeConfigPatch(data []byte) (Message, error) {
	var w struct {
		Assignments []json.RawMessage `json:"assignments"`
		Removed     []json.RawMessage `json:"removed"`
	}
	return decodeFrame(TypeConfigPatch, data, &w, func(f *fields) Message {
		as := f.assignments(w.Assignments)
		if !f.list("removed", w.Removed, MaxAssignments) {
			return nil
		}
		removed := make([]string, len(w.Removed))
		for i, raw := range w.Removed {
			field := "removed[" + strconv.Itoa(i) + "]"
			if err := json.Unmarshal(raw, &removed[i]); err != nil {
				f.failIn(field, problem(err))
			}
			f.text(field, &removed[i], MaxIDBytes)
		}
		return &ConfigPatch{Assignments: as, Removed: removed}
	})
}

func decodeShutdown(data []byte) (Message, error) {
	var w struct {
		Reason *string `json:"reason"`
	}
	return decodeFrame(TypeShutdown, data, &w, func(f *fields) Message {
		return &Shutdown{Reason: f.text("reason", w.Reason, MaxMessageBytes)}
	})
}

func decodeResultAck(data []byte) (Message, error) {
	var w struct {
		IDs []json.RawMessage `json:"ids"`
	}
	return decodeFrame(TypeResultAck, data, &w, func(f *fields) Message {
		if !f.list("ids", w.IDs, MaxAckIDs) {
			return nil
		}
		ids := make([]string, len(w.IDs))
		for i, raw := range w.IDs {
			field := "ids[" + strconv.Itoa(i) + "]"
			if err := json.Unmarshal(raw, &ids[i]); err != nil {
				f.failIn(field, problem(err))
			}
			f.text(field, &ids[i], MaxIDBytes)
		}
		return &ResultAck{IDs: ids}
	})
}

// capabilities decodes the optional capabilities of an authenticate or heartbeat frame; nil
// when absent.
func (f *fields) capabilities(list []json.RawMessage) []string {
	if list == nil || !f.list("capabilities", list, MaxCapabilities) {
		return nil
	}
	caps := make([]string, len(list))
	for i, raw := range list {
		field := "capabilities[" + strconv.Itoa(i) + "]"
		if err := json.Unmarshal(raw, &caps[i]); err != nil {
			f.failIn(field, problem(err))
		}
		caps[i] = f.bounded(field, caps[i], MaxIDBytes)
	}
	return caps
}

// assignments decodes the assignments of an authenticated, config_updated or config_patch frame.
func (f *fields) assignments(list []json.RawMessage) []Assignment {
	if !f.list("assignments", list, MaxAssignments) {
		return nil
	}
	as := make([]Assignment, len(list))
	for i, raw := range list {
		if p := decodeAssignment(raw, &as[i]); p != nil {
			f.failIn("assignments["+strconv.Itoa(i)+"]", p)
			return nil
		}
	}
	return as
}

// decodeAssignment decodes raw into a and checks it as Assignment.Validate does. The config is
// compacted, so that it encodes to the same bytes again.
func decodeAssignment(raw json.RawMessage, a *Assignment) *DecodeError {
	var w struct {
		ConfigID        *string         `json:"configId"`
		SystemID        *string         `json:"systemId"`
		StrategyID      *string         `json:"strategyId"`
		Config          json.RawMessage `json:"config"`
		Collectors      []Collector     `json:"collectors"`
		IntervalSeconds *int            `json:"intervalSeconds"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return problem(err)
	}
	var f fields
	*a = Assignment{
		ConfigID:        given(&f, "configId", w.ConfigID),
		SystemID:        given(&f, "systemId", w.SystemID),
		StrategyID:      given(&f, "strategyId", w.StrategyID),
		Config:          w.Config,
		Collectors:      w.Collectors,
		IntervalSeconds: given(&f, "intervalSeconds", w.IntervalSeconds),
	}
	a.check(&f)
	if f.err != nil {
		return f.err
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, w.Config) // cannot fail: check made sure the config is JSON
	a.Config = compact.Bytes()
	return nil
}
