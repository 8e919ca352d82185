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
	"fmt"
	"reflect"
	"strconv"
)

// errNilMessage is returned for a nil Message or a nil pointer of a message type.
var errNilMessage = errors.New("protocol: cannot encode a nil message")

// Encode returns the JSON text of m with its "type" set, ready to be sent as one text frame.
//
// It does not check the protocol's limits, which are the receiver's defence; but it never writes
// what the receiver cannot parse: nil lists are written as [], nil metadata and a missing config
// as {}, and a value JSON cannot carry (NaN, a year past 9999, a config that is not a JSON
// object) is an error.
func Encode(m Message) ([]byte, error) {
	if v := reflect.ValueOf(m); m == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return nil, errNilMessage
	}
	body, err := wireForm(m)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %s: %w", m.MessageType(), err)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"` + string(m.MessageType()) + `",`)
	typeEnd := buf.Len()
	enc := json.NewEncoder(&buf)
	// Frames are not HTML; escaping <, > and & would also change the bytes of a config, which
	// must survive decoding and encoding again unchanged.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, fmt.Errorf("protocol: encode %s: %w", m.MessageType(), err)
	}
	// buf now holds the type, then the body with its own "{" and a trailing newline. The body has
	// a member, as every message has a field without omitempty, so it continues the type's object.
	frame := buf.Bytes()
	return append(frame[:typeEnd], frame[typeEnd+1:len(frame)-1]...), nil
}

// wireForm returns m, or a copy of m with what a peer could not parse replaced.
func wireForm(m Message) (any, error) {
	switch m := m.(type) {
	case *Authenticate, *Heartbeat, *StrategyError, *AuthFailed, *Shutdown:
	case *Result:
		if m.Result != nil && m.Result.Metadata == nil {
			r, d := *m, *m.Result
			d.Metadata = map[string]any{}
			r.Result = &d
			return &r, nil
		}
	case *Authenticated:
		as, err := wireAssignments(m.Assignments)
		c := *m
		c.Assignments = as
		return &c, err
	case *ConfigUpdated:
		as, err := wireAssignments(m.Assignments)
		return &ConfigUpdated{Assignments: as}, err
	case *ConfigPatch:
		as, err := wireAssignments(m.Assignments)
		removed := m.Removed
		if removed == nil {
			removed = []string{}
		}
		return &ConfigPatch{Assignments: as, Removed: removed}, err
	case *ResultAck:
		if m.IDs == nil {
			return &ResultAck{IDs: []string{}}, nil
		}
	default:
		return nil, fmt.Errorf("cannot encode a %T", m)
	}
	return m, nil
}

// wireAssignments returns a copy of as that is never nil, with a missing config written as {}.
func wireAssignments(as []Assignment) ([]Assignment, error) {
	out := make([]Assignment, len(as))
	for i, a := range as {
		if c := bytes.TrimSpace(a.Config); len(c) == 0 || string(c) == "null" {
			a.Config = json.RawMessage("{}")
		} else if reason := configProblem(c); reason != "" {
			return nil, fmt.Errorf("field %q: %s", "assignments["+strconv.Itoa(i)+"].config", reason)
		}
		out[i] = a
	}
	return out, nil
}

// EncodeAssignment returns the wire form of one assignment, checked as Encode checks it. A
// manager that sends one assignment in many frames encodes it once, and joins the results with
// ConfigUpdatedFrame or AuthenticatedFrame.
func EncodeAssignment(a Assignment) (json.RawMessage, error) {
	as, err := wireAssignments([]Assignment{a})
	if err != nil {
		return nil, fmt.Errorf("protocol: encode assignment: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&as[0]); err != nil {
		return nil, fmt.Errorf("protocol: encode assignment: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ConfigUpdatedFrame joins assignments encoded by EncodeAssignment into a config_updated frame:
// the bytes Encode gives for the same list.
func ConfigUpdatedFrame(assignments []json.RawMessage) []byte {
	return appendList([]byte(`{"type":"`+string(TypeConfigUpdated)+`","assignments":`), assignments, '}')
}

// ConfigPatchFrame is ConfigUpdatedFrame for a config_patch frame: assignments encoded by
// EncodeAssignment, and the removed configIds.
func ConfigPatchFrame(assignments []json.RawMessage, removed []string) []byte {
	ids := make([]json.RawMessage, len(removed))
	for i, id := range removed {
		ids[i] = jsonString(id)
	}
	frame := appendList([]byte(`{"type":"`+string(TypeConfigPatch)+`","assignments":`), assignments, ',')
	frame = append(frame, `"removed":`...)
	return appendList(frame, ids, '}')
}

// AuthenticatedFrame is ConfigUpdatedFrame for an authenticated frame.
func AuthenticatedFrame(satelliteID string, assignments []json.RawMessage, heartbeatIntervalSeconds int) []byte {
	frame := []byte(`{"type":"` + string(TypeAuthenticated) + `","satelliteId":`)
	frame = append(frame, jsonString(satelliteID)...)
	frame = append(frame, `,"assignments":`...)
	if heartbeatIntervalSeconds == 0 {
		return appendList(frame, assignments, '}')
	}
	frame = appendList(frame, assignments, ',')
	frame = append(frame, `"heartbeatIntervalSeconds":`...)
	frame = strconv.AppendInt(frame, int64(heartbeatIntervalSeconds), 10)
	return append(frame, '}')
}

// jsonString is s as a JSON string, written as Encode writes strings (no HTML escapes).
func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// appendList appends the JSON array of items, then end.
func appendList(frame []byte, items []json.RawMessage, end byte) []byte {
	size := len(frame) + 3
	for _, it := range items {
		size += len(it) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, frame...)
	out = append(out, '[')
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	out = append(out, ']', end)
	return out
}
