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
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Encode returns the JSON text of m with its "type" set, ready to be sent as one text frame.
//
// Encode runs for every frame and, on config pushes, once per session, so it appends to a pooled
// buffer by hand instead of reflecting through encoding/json: a frame costs one allocation, the
// returned slice (metadata values other than JSON's own types go through encoding/json and cost
// more). It does not check the protocol's limits, which are the receiver's defence; but it never
// writes what the receiver cannot parse: nil lists are written as [], a nil metadata or an empty
// config as {}, and strings that are not valid UTF-8 get U+FFFD, as encoding/json does. A value
// JSON cannot carry (NaN, a year past 9999, a config that is not a JSON object) is an error.
func Encode(m Message) ([]byte, error) {
	bp := bufPool.Get().(*[]byte)
	b, err := appendMessage((*bp)[:0], m)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= maxPooledBuffer {
		*bp = b
		bufPool.Put(bp)
	}
	return out, err
}

// maxPooledBuffer keeps the buffers of rare huge frames (thousands of assignments) out of the pool,
// so one big push does not pin its memory for good.
const maxPooledBuffer = 64 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// errNilMessage is returned for a nil Message or a nil pointer of a message type.
var errNilMessage = errors.New("protocol: cannot encode a nil message")

// encodeError describes a value of message t that JSON cannot carry.
func encodeError(t Type, field string, err error) error {
	return fmt.Errorf("protocol: encode %s: field %q: %w", t, field, err)
}

func appendMessage(b []byte, m Message) ([]byte, error) {
	var err error
	switch m := m.(type) {
	case *Authenticate:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"authenticate","clientId":`...)
		b = appendString(b, m.ClientID)
		b = append(b, `,"token":`...)
		b = appendString(b, m.Token)
	case *Heartbeat:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"heartbeat","version":`...)
		b = appendString(b, m.Version)
		b = append(b, `,"uptimeSeconds":`...)
		if b, err = appendFloat(b, m.UptimeSeconds); err != nil {
			return b, encodeError(TypeHeartbeat, "uptimeSeconds", err)
		}
	case *Result:
		if m == nil {
			return b, errNilMessage
		}
		if b, err = appendResult(b, m); err != nil {
			return b, err
		}
	case *StrategyError:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"strategy_error","strategyId":`...)
		b = appendString(b, m.StrategyID)
		b = append(b, `,"message":`...)
		b = appendString(b, m.Message)
	case *Authenticated:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"authenticated","satelliteId":`...)
		b = appendString(b, m.SatelliteID)
		b = append(b, `,"assignments":`...)
		if b, err = appendAssignments(b, m.Assignments); err != nil {
			return b, fmt.Errorf("protocol: encode %s: %w", TypeAuthenticated, err)
		}
		if m.HeartbeatIntervalSeconds != 0 {
			b = append(b, `,"heartbeatIntervalSeconds":`...)
			b = strconv.AppendInt(b, int64(m.HeartbeatIntervalSeconds), 10)
		}
	case *AuthFailed:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"auth_failed","reason":`...)
		b = appendString(b, m.Reason)
	case *ConfigUpdated:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"config_updated","assignments":`...)
		if b, err = appendAssignments(b, m.Assignments); err != nil {
			return b, fmt.Errorf("protocol: encode %s: %w", TypeConfigUpdated, err)
		}
	case *Shutdown:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"shutdown","reason":`...)
		b = appendString(b, m.Reason)
	case *ResultAck:
		if m == nil {
			return b, errNilMessage
		}
		b = append(b, `{"type":"result_ack","ids":[`...)
		for i, id := range m.IDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, id)
		}
		b = append(b, ']')
	case nil:
		return b, errNilMessage
	default:
		return b, fmt.Errorf("protocol: cannot encode a %T", m)
	}
	return append(b, '}'), nil
}

func appendResult(b []byte, m *Result) ([]byte, error) {
	var err error
	b = append(b, `{"type":"result"`...)
	if m.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, m.ID)
	}
	b = append(b, `,"configId":`...)
	b = appendString(b, m.ConfigID)
	b = append(b, `,"systemId":`...)
	b = appendString(b, m.SystemID)
	b = append(b, `,"status":`...)
	b = appendString(b, string(m.Status))
	if m.LatencyMs != nil {
		b = append(b, `,"latencyMs":`...)
		if b, err = appendFloat(b, *m.LatencyMs); err != nil {
			return b, encodeError(TypeResult, "latencyMs", err)
		}
	}
	if d := m.Result; d != nil {
		b = append(b, `,"result":{"status":`...)
		b = appendString(b, string(d.Status))
		b = append(b, `,"latencyMs":`...)
		if b, err = appendFloat(b, d.LatencyMs); err != nil {
			return b, encodeError(TypeResult, "result.latencyMs", err)
		}
		if d.Message != "" {
			b = append(b, `,"message":`...)
			b = appendString(b, d.Message)
		}
		b = append(b, `,"metadata":`...)
		if b, err = appendObject(b, d.Metadata); err != nil {
			return b, encodeError(TypeResult, "result.metadata", err)
		}
		b = append(b, '}')
	}
	b = append(b, `,"executedAt":"`...)
	if b, err = m.ExecutedAt.AppendText(b); err != nil {
		return b, encodeError(TypeResult, "executedAt", err)
	}
	return append(b, '"'), nil
}

func appendAssignments(b []byte, as []Assignment) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i := range as {
		a := &as[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"configId":`...)
		b = appendString(b, a.ConfigID)
		b = append(b, `,"systemId":`...)
		b = appendString(b, a.SystemID)
		b = append(b, `,"strategyId":`...)
		b = appendString(b, a.StrategyID)
		b = append(b, `,"config":`...)
		if b, err = appendConfig(b, a.Config); err != nil {
			return b, fmt.Errorf("field %q: %w", "assignments["+strconv.Itoa(i)+"].config", err)
		}
		b = append(b, `,"intervalSeconds":`...)
		b = strconv.AppendInt(b, int64(a.IntervalSeconds), 10)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendConfig appends an assignment's config compacted, so that what a decoder hands out
// (always compact) encodes to the same bytes again.
func appendConfig(b []byte, c json.RawMessage) ([]byte, error) {
	c = bytes.TrimSpace(c)
	if len(c) == 0 || string(c) == "null" {
		return append(b, '{', '}'), nil
	}
	if c[0] != '{' {
		return b, errors.New("not a JSON object")
	}
	if !validJSON(c) {
		return b, errors.New("not valid JSON")
	}
	if !utf8.Valid(c) {
		return b, errors.New("not valid UTF-8")
	}
	return appendCompact(b, c), nil
}

// appendCompact appends the valid JSON text v without the whitespace between its tokens.
func appendCompact(b, v []byte) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '\n', '\r':
			b = append(b, v[start:i]...)
			start = i + 1
		case '"':
			end := endOfString(v, i)
			if end < 0 {
				return append(b, v[start:]...)
			}
			i = end - 1
		}
	}
	return append(b, v[start:]...)
}

// appendObject appends metadata with its keys sorted, so equal maps give equal frames. Common
// scalar values are written directly; anything else goes through encoding/json.
func appendObject(b []byte, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return append(b, '{', '}'), nil
	}
	var stack [MaxMetadataKeys]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendAny(b, m[k]); err != nil {
			return b, fmt.Errorf("key %q: %w", k, err)
		}
	}
	return append(b, '}'), nil
}

func appendAny(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case float64:
		return appendFloat(b, v)
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendObject(b, v)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendAny(b, e); err != nil {
				return b, fmt.Errorf("index %d: %w", i, err)
			}
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// appendFloat writes f as encoding/json does, so peers see the same numbers either way.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%v is not a JSON number", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Bytes that are not UTF-8 become U+FFFD, because a
// frame must be valid UTF-8 and the decoders refuse one that is not.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
