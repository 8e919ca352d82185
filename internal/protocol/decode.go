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
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// DecodeFromSatellite decodes a frame sent by a satellite: authenticate, heartbeat, result or
// strategy_error, as *Authenticate, *Heartbeat, *Result or *StrategyError.
//
// It refuses, with a *DecodeError, anything that is not such a frame with every required field
// present once, of its JSON type and within the package's limits (the Max* constants); field
// names match exactly, unlike encoding/json's. Fields it does not know are ignored, because
// additions to the protocol are optional fields that old peers must tolerate; a known optional
// field may be null, which reads as absent.
func DecodeFromSatellite(data []byte) (Message, error) {
	m, err := decode(data, satellite)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeFromManager decodes a frame sent by the manager: authenticated, auth_failed,
// config_updated, shutdown or result_ack, as *Authenticated, *AuthFailed, *ConfigUpdated,
// *Shutdown or *ResultAck. It is as strict as DecodeFromSatellite, and checks every assignment as
// Assignment.Validate does; an assignment's config is returned compacted.
func DecodeFromManager(data []byte) (Message, error) {
	m, err := decode(data, manager)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// side is who sends a frame, so that one decoder serves both directions.
type side int8

const (
	nobody side = iota
	satellite
	manager
)

// sender returns the side that sends frames of type t; nobody sends an unknown type.
func sender(t Type) side {
	switch t {
	case TypeAuthenticate, TypeHeartbeat, TypeResult, TypeStrategyError:
		return satellite
	case TypeAuthenticated, TypeAuthFailed, TypeConfigUpdated, TypeShutdown, TypeResultAck:
		return manager
	}
	return nobody
}

// decode decodes a frame sent by from.
func decode(data []byte, from side) (Message, *DecodeError) {
	if !json.Valid(data) {
		return nil, syntaxError(data)
	}
	// JSON text must be UTF-8 (RFC 8259); encoding/json would quietly replace bad bytes, which
	// would let two frames that differ on the wire decode the same.
	if !utf8.Valid(data) {
		return nil, &DecodeError{Reason: "not valid UTF-8"}
	}
	obj := data
	if _, ok := openObject(obj); !ok {
		return nil, &DecodeError{Reason: "not a JSON object, but " + kindOf(data[skipSpace(data, 0):]).String()}
	}
	raw, derr := frameType(obj)
	if derr != nil {
		return nil, derr
	}
	t := knownType(raw)
	switch s := sender(t); {
	case s == nobody:
		return nil, &DecodeError{Field: "type", Reason: "unknown message type " + quoteType(string(raw))}
	case s != from && from == satellite:
		return nil, &DecodeError{Field: "type", Reason: "message type " + quoteType(string(t)) + " is sent by the manager, not by a satellite"}
	case s != from:
		return nil, &DecodeError{Field: "type", Reason: "message type " + quoteType(string(t)) + " is sent by a satellite, not by the manager"}
	}
	switch t {
	case TypeAuthenticate:
		return decodeAuthenticate(obj)
	case TypeHeartbeat:
		return decodeHeartbeat(obj)
	case TypeResult:
		return decodeResult(obj)
	case TypeStrategyError:
		return decodeStrategyError(obj)
	case TypeAuthenticated:
		return decodeAuthenticated(obj)
	case TypeAuthFailed:
		m := &AuthFailed{}
		if err := decodeReason(TypeAuthFailed, obj, &m.Reason); err != nil {
			return nil, err
		}
		return m, nil
	case TypeConfigUpdated:
		return decodeConfigUpdated(obj)
	case TypeShutdown:
		m := &Shutdown{}
		if err := decodeReason(TypeShutdown, obj, &m.Reason); err != nil {
			return nil, err
		}
		return m, nil
	default: // TypeResultAck, the last one sender knows
		return decodeResultAck(obj)
	}
}

// knownType returns the Type constant spelled raw, without allocating, or "" for none.
func knownType(raw []byte) Type {
	switch string(raw) {
	case string(TypeAuthenticate):
		return TypeAuthenticate
	case string(TypeHeartbeat):
		return TypeHeartbeat
	case string(TypeResult):
		return TypeResult
	case string(TypeStrategyError):
		return TypeStrategyError
	case string(TypeAuthenticated):
		return TypeAuthenticated
	case string(TypeAuthFailed):
		return TypeAuthFailed
	case string(TypeConfigUpdated):
		return TypeConfigUpdated
	case string(TypeShutdown):
		return TypeShutdown
	case string(TypeResultAck):
		return TypeResultAck
	}
	return ""
}

// syntaxError reports where data stops being JSON, without quoting any of it.
func syntaxError(data []byte) *DecodeError {
	if len(bytes.TrimSpace(data)) == 0 {
		return &DecodeError{Reason: "not valid JSON: empty frame"}
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &raw); errors.As(err, &se) {
		return &DecodeError{Reason: "not valid JSON: syntax error after " + strconv.FormatInt(se.Offset, 10) + " bytes"}
	}
	return &DecodeError{Reason: "not valid JSON"}
}

// errMalformed is returned if the walker meets text that json.Valid should have refused; it
// guards against a bug of ours rather than against peers.
func errMalformed(t Type) *DecodeError {
	return &DecodeError{Type: t, Reason: "not valid JSON"}
}

// frameType returns the unescaped value of the frame's one "type" member.
func frameType(obj []byte) ([]byte, *DecodeError) {
	it, _ := openObject(obj)
	var t []byte
	found := false
	for {
		k, v, ok := it.nextMember()
		if !ok {
			break
		}
		if string(k) != "type" {
			continue
		}
		if found {
			return nil, &DecodeError{Field: "type", Reason: "appears more than once"}
		}
		found = true
		var reason string
		if t, reason = stringBytes(v); reason != "" {
			return nil, &DecodeError{Field: "type", Reason: reason}
		}
	}
	switch {
	case it.bad:
		return nil, errMalformed("")
	case !found:
		return nil, &DecodeError{Field: "type", Reason: "is required"}
	}
	return t, nil
}

// object decodes the members of the object obj that names lists; members it does not list are
// skipped. set decodes the value of names[i] and returns why it is refused: sub extends the
// field's path for a problem inside the value (".status", "[3].configId"), reason says what is
// wrong. A listed member may appear once, and those whose bit is set in required must appear.
func object(t Type, obj []byte, names []string, required uint32, set func(i int, v []byte) (sub, reason string)) *DecodeError {
	it, ok := openObject(obj)
	if !ok {
		return errMalformed(t)
	}
	var seen uint32
	for {
		k, v, ok := it.nextMember()
		if !ok {
			break
		}
		i := index(names, k)
		if i < 0 {
			continue
		}
		if seen&(1<<i) != 0 {
			return &DecodeError{Type: t, Field: names[i], Reason: "appears more than once"}
		}
		seen |= 1 << i
		if sub, reason := set(i, v); reason != "" {
			return &DecodeError{Type: t, Field: names[i] + sub, Reason: reason}
		}
	}
	if it.bad {
		return errMalformed(t)
	}
	if missing := required &^ seen; missing != 0 {
		return &DecodeError{Type: t, Field: names[bits.TrailingZeros32(missing)], Reason: "is required"}
	}
	return nil
}

// index returns the position of key in names, or -1; keys match exactly, unlike encoding/json's
// case-insensitive matching, so "Token" is an unknown field and not the token.
func index(names []string, key []byte) int {
	for i, n := range names {
		if n == string(key) {
			return i
		}
	}
	return -1
}

// The fields each decoder knows; object's set and required refer to them by position.
var (
	authenticateFields  = []string{"clientId", "token"}
	heartbeatFields     = []string{"version", "uptimeSeconds"}
	resultFields        = []string{"id", "configId", "systemId", "status", "latencyMs", "result", "executedAt"}
	resultDetailFields  = []string{"status", "latencyMs", "message", "metadata"}
	strategyErrorFields = []string{"strategyId", "message"}
	authenticatedFields = []string{"satelliteId", "assignments", "heartbeatIntervalSeconds"}
	reasonFields        = []string{"reason"}
	assignmentsFields   = []string{"assignments"}
	resultAckFields     = []string{"ids"}
	assignmentFields    = []string{"configId", "systemId", "strategyId", "config", "intervalSeconds"}
)

func decodeAuthenticate(obj []byte) (Message, *DecodeError) {
	m := &Authenticate{}
	err := object(TypeAuthenticate, obj, authenticateFields, 0b11 /* both */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			m.ClientID, reason = text(v, MaxClientIDBytes)
		case 1:
			m.Token, reason = text(v, MaxTokenBytes)
		}
		return "", reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeHeartbeat(obj []byte) (Message, *DecodeError) {
	m := &Heartbeat{}
	err := object(TypeHeartbeat, obj, heartbeatFields, 0b11 /* both */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			m.Version, reason = text(v, MaxVersionBytes)
		case 1:
			m.UptimeSeconds, reason = nonNegative(v)
		}
		return "", reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeResult(obj []byte) (Message, *DecodeError) {
	m := &Result{}
	err := object(TypeResult, obj, resultFields, 0b1001110 /* all but id, latencyMs, result */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			if kindOf(v) != kindNull {
				m.ID, reason = text(v, MaxIDBytes)
			}
		case 1:
			m.ConfigID, reason = text(v, MaxIDBytes)
		case 2:
			m.SystemID, reason = text(v, MaxSystemIDBytes)
		case 3:
			m.Status, reason = resultStatus(v)
		case 4:
			if kindOf(v) != kindNull {
				var l float64
				if l, reason = nonNegative(v); reason == "" {
					m.LatencyMs = &l
				}
			}
		case 5:
			if kindOf(v) != kindNull {
				return decodeResultDetail(v, &m.Result)
			}
		case 6:
			m.ExecutedAt, reason = timestamp(v)
		}
		return "", reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// decodeResultDetail decodes result.result into *dst; sub and reason are as object's set returns.
func decodeResultDetail(v []byte, dst **ResultDetail) (sub, reason string) {
	if k := kindOf(v); k != kindObject {
		return "", "must be an object, not " + k.String()
	}
	d := &ResultDetail{}
	err := object(TypeResult, v, resultDetailFields, 0b1011 /* all but message */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			d.Status, reason = resultStatus(v)
		case 1:
			d.LatencyMs, reason = nonNegative(v)
		case 2:
			if kindOf(v) != kindNull {
				d.Message, reason = optionalText(v, MaxMessageBytes)
			}
		case 3:
			d.Metadata, reason = metadata(v)
		}
		return "", reason
	})
	if err != nil {
		return "." + err.Field, err.Reason
	}
	*dst = d
	return "", ""
}

func decodeStrategyError(obj []byte) (Message, *DecodeError) {
	m := &StrategyError{}
	err := object(TypeStrategyError, obj, strategyErrorFields, 0b11 /* both */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			m.StrategyID, reason = text(v, MaxIDBytes)
		case 1:
			m.Message, reason = optionalText(v, MaxMessageBytes)
		}
		return "", reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeAuthenticated(obj []byte) (Message, *DecodeError) {
	m := &Authenticated{}
	err := object(TypeAuthenticated, obj, authenticatedFields, 0b11 /* all but heartbeatIntervalSeconds */, func(i int, v []byte) (sub, reason string) {
		switch i {
		case 0:
			m.SatelliteID, reason = text(v, MaxIDBytes)
		case 1:
			m.Assignments, sub, reason = assignments(v)
		case 2:
			if kindOf(v) != kindNull {
				var n int64
				switch n, reason = integer(v); {
				case reason != "":
				case n < 0:
					reason = "must not be negative"
				case n > MaxIntervalSeconds:
					reason = "must be at most " + strconv.Itoa(MaxIntervalSeconds)
				default:
					m.HeartbeatIntervalSeconds = int(n)
				}
			}
		}
		return sub, reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// decodeReason decodes auth_failed and shutdown, whose only field is a reason.
func decodeReason(t Type, obj []byte, dst *string) *DecodeError {
	return object(t, obj, reasonFields, 0b1, func(_ int, v []byte) (sub, reason string) {
		*dst, reason = text(v, MaxMessageBytes)
		return "", reason
	})
}

func decodeConfigUpdated(obj []byte) (Message, *DecodeError) {
	m := &ConfigUpdated{}
	err := object(TypeConfigUpdated, obj, assignmentsFields, 0b1, func(_ int, v []byte) (sub, reason string) {
		m.Assignments, sub, reason = assignments(v)
		return sub, reason
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeResultAck(obj []byte) (Message, *DecodeError) {
	m := &ResultAck{}
	err := object(TypeResultAck, obj, resultAckFields, 0b1, func(_ int, v []byte) (sub, reason string) {
		it, ok := openArray(v)
		if !ok {
			return "", "must be an array, not " + kindOf(v).String()
		}
		n := it.count(MaxAckIDs)
		if n > MaxAckIDs {
			return "", "must have at most " + strconv.Itoa(MaxAckIDs) + " elements"
		}
		m.IDs = make([]string, 0, n)
		for {
			ev, ok := it.nextElement()
			if !ok {
				break
			}
			id, reason := text(ev, MaxIDBytes)
			if reason != "" {
				return "[" + strconv.Itoa(len(m.IDs)) + "]", reason
			}
			m.IDs = append(m.IDs, id)
		}
		if it.bad {
			return "", "not valid JSON"
		}
		return "", ""
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// assignments decodes a list of assignments. All their configs share one buffer, compacted, so
// a push of many assignments costs one allocation for them rather than one each.
func assignments(v []byte) (as []Assignment, sub, reason string) {
	it, ok := openArray(v)
	if !ok {
		return nil, "", "must be an array, not " + kindOf(v).String()
	}
	n := it.count(MaxAssignments)
	if n > MaxAssignments {
		return nil, "", "must have at most " + strconv.Itoa(MaxAssignments) + " elements"
	}
	as = make([]Assignment, 0, n)
	configs := make([]byte, 0, len(v))
	for {
		ev, ok := it.nextElement()
		if !ok {
			break
		}
		var a Assignment
		if k := kindOf(ev); k != kindObject {
			return nil, "[" + strconv.Itoa(len(as)) + "]", "must be an object, not " + k.String()
		}
		err := object("", ev, assignmentFields, 0b11111 /* all */, func(i int, v []byte) (sub, reason string) {
			switch i {
			case 0:
				a.ConfigID, reason = optionalText(v, MaxIDBytes)
			case 1:
				a.SystemID, reason = optionalText(v, MaxSystemIDBytes)
			case 2:
				a.StrategyID, reason = optionalText(v, MaxIDBytes)
			case 3:
				if k := kindOf(v); k != kindObject {
					return "", "must be an object, not " + k.String()
				}
				start := len(configs)
				configs = appendCompact(configs, v)
				a.Config = configs[start:len(configs):len(configs)]
			case 4:
				var n int64
				if n, reason = integer(v); reason == "" && (n < 1 || n > MaxIntervalSeconds) {
					reason = intervalRange
				}
				a.IntervalSeconds = int(n)
			}
			return "", reason
		})
		if err == nil {
			err = a.check()
		}
		if err != nil {
			return nil, "[" + strconv.Itoa(len(as)) + "]." + err.Field, err.Reason
		}
		as = append(as, a)
	}
	if it.bad {
		return nil, "", "not valid JSON"
	}
	return as, "", ""
}

// stringBytes returns the content of the JSON string v, unescaped; without escapes it is a
// sub-slice of v, and costs nothing.
func stringBytes(v []byte) ([]byte, string) {
	if k := kindOf(v); k != kindString {
		return nil, "must be a string, not " + k.String()
	}
	if len(v) < 2 {
		return nil, "not valid JSON"
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, "not valid JSON"
	}
	return []byte(s), ""
}

// optionalText decodes a string of at most max bytes, which may be empty.
func optionalText(v []byte, max int) (string, string) {
	b, reason := stringBytes(v)
	switch {
	case reason != "":
		return "", reason
	case len(b) > max:
		return "", tooLong(max)
	}
	return string(b), ""
}

// text decodes a string of 1 to max bytes.
func text(v []byte, max int) (string, string) {
	s, reason := optionalText(v, max)
	if reason == "" && s == "" {
		reason = "must not be empty"
	}
	return s, reason
}

func tooLong(max int) string {
	return "must be at most " + strconv.Itoa(max) + " bytes"
}

// nonNegative decodes a number that is 0 or more: durations and latencies.
func nonNegative(v []byte) (float64, string) {
	if k := kindOf(v); k != kindNumber {
		return 0, "must be a number, not " + k.String()
	}
	f, err := strconv.ParseFloat(string(v), 64)
	switch {
	case err != nil:
		return 0, "is out of range"
	case f < 0:
		return 0, "must not be negative"
	}
	return f, ""
}

// integer decodes a whole number. JSON has no integers, but peers write whole numbers without a
// fraction or exponent, so anything else is refused rather than rounded. Callers bound the value
// before they store it in an int, which may have 32 bits.
func integer(v []byte) (int64, string) {
	if k := kindOf(v); k != kindNumber {
		return 0, "must be an integer, not " + k.String()
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && ne.Err == strconv.ErrRange:
		return 0, "is out of range"
	case err != nil:
		return 0, "must be an integer"
	}
	return n, ""
}

// resultStatus decodes a status of a result without allocating for the three valid ones.
func resultStatus(v []byte) (v1alpha1.ResultStatus, string) {
	b, reason := stringBytes(v)
	if reason != "" {
		return "", reason
	}
	switch string(b) {
	case string(v1alpha1.ResultHealthy):
		return v1alpha1.ResultHealthy, ""
	case string(v1alpha1.ResultDegraded):
		return v1alpha1.ResultDegraded, ""
	case string(v1alpha1.ResultUnhealthy):
		return v1alpha1.ResultUnhealthy, ""
	}
	return "", "must be one of healthy, degraded, unhealthy"
}

// timestamp decodes an RFC 3339 time, as Checkstack's satellites write executedAt.
func timestamp(v []byte) (t time.Time, reason string) {
	b, reason := stringBytes(v)
	if reason != "" {
		return t, reason
	}
	if t.UnmarshalText(b) != nil {
		return t, "not an RFC 3339 time"
	}
	return t, ""
}

// metadata decodes result.result.metadata, an object of at most MaxMetadataKeys keys; the keys
// are counted before anything is allocated for them.
func metadata(v []byte) (map[string]any, string) {
	it, ok := openObject(v)
	if !ok {
		return nil, "must be an object, not " + kindOf(v).String()
	}
	if it.count(MaxMetadataKeys) > MaxMetadataKeys {
		return nil, "must have at most " + strconv.Itoa(MaxMetadataKeys) + " keys"
	}
	md := make(map[string]any)
	if err := json.Unmarshal(v, &md); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, "holds a number out of range"
		}
		return nil, "not valid JSON"
	}
	return md, ""
}
