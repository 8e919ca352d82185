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

package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestRoundTrip proves that every message type survives Encode and the decoder of the side that
// receives it unchanged.
func TestRoundTrip(t *testing.T) {
	for typ, m := range fixtures() {
		t.Run(string(typ), func(t *testing.T) {
			data, err := protocol.Encode(m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := decoderFor(typ)(data)
			if err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if diff := cmp.Diff(m, got); diff != "" {
				t.Errorf("round trip (-sent +decoded):\n%s", diff)
			}
			if got.MessageType() != typ {
				t.Errorf("MessageType() = %q, want %q", got.MessageType(), typ)
			}
		})
	}
}

// TestEncodeMatchesEncodingJSON proves that a frame says what encoding/json says of the same
// message, tags and omitempty included, plus the type.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for typ, m := range fixtures() {
		t.Run(string(typ), func(t *testing.T) {
			data, err := protocol.Encode(m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("Encode wrote invalid JSON %s: %v", data, err)
			}
			std, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(std, &want); err != nil {
				t.Fatal(err)
			}
			want["type"] = string(typ)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Encode differs from encoding/json (-json.Marshal +Encode):\n%s", diff)
			}
		})
	}
}

// TestEncode pins the exact bytes of frames, and shows that values a peer could not parse (nil
// lists, nil metadata, missing configs, bad UTF-8) are written as valid protocol JSON.
func TestEncode(t *testing.T) {
	cases := map[string]struct {
		msg  protocol.Message
		want string
	}{
		"heartbeat": {
			msg:  &protocol.Heartbeat{Version: "0.1.0", UptimeSeconds: 12},
			want: `{"type":"heartbeat","version":"0.1.0","uptimeSeconds":12}`,
		},
		"nil assignments are an empty list": {
			msg:  &protocol.Authenticated{SatelliteID: "s"},
			want: `{"type":"authenticated","satelliteId":"s","assignments":[]}`,
		},
		"nil config is an empty object": {
			msg:  &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{ConfigID: "c", SystemID: "s", StrategyID: "http", IntervalSeconds: 30}}},
			want: `{"type":"config_updated","assignments":[{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":30}]}`,
		},
		"config is compacted": {
			msg:  &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{ConfigID: "c", SystemID: "s", StrategyID: "tcp", Config: json.RawMessage("{ \"tcp\" : {\"host\": \"a b\"} }\n"), IntervalSeconds: 5}}},
			want: `{"type":"config_updated","assignments":[{"configId":"c","systemId":"s","strategyId":"tcp","config":{"tcp":{"host":"a b"}},"intervalSeconds":5}]}`,
		},
		"a patch's nil lists are empty lists": {
			msg:  &protocol.ConfigPatch{},
			want: `{"type":"config_patch","assignments":[],"removed":[]}`,
		},
		"nil ids are an empty list": {
			msg:  &protocol.ResultAck{},
			want: `{"type":"result_ack","ids":[]}`,
		},
		"nil metadata is an empty object; optional fields are left out": {
			msg: &protocol.Result{
				ConfigID: "c", SystemID: "s", Status: v1alpha1.ResultHealthy,
				Result:     &protocol.ResultDetail{Status: v1alpha1.ResultHealthy, LatencyMs: 1.5},
				ExecutedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("", 3600)),
			},
			want: `{"type":"result","configId":"c","systemId":"s","status":"healthy","result":{"status":"healthy","latencyMs":1.5,"metadata":{}},"executedAt":"2026-11-27T10:00:00+01:00"}`,
		},
		"metadata keys are sorted": {
			msg: &protocol.Result{
				ConfigID: "c", SystemID: "s", Status: v1alpha1.ResultHealthy,
				Result: &protocol.ResultDetail{Status: v1alpha1.ResultHealthy, Metadata: map[string]any{
					"b": 1, "a": []string{"x"}, "c": map[string]any{"z": nil, "y": 1e-7}, "d": int64(-3), "e": true, "f": []any{"\u2028<", nil, []any{}},
				}},
				ExecutedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
			},
			want: `{"type":"result","configId":"c","systemId":"s","status":"healthy","result":{"status":"healthy","latencyMs":0,"metadata":{"a":["x"],"b":1,"c":{"y":1e-7,"z":null},"d":-3,"e":true,"f":["\u2028<",null,[]]}},"executedAt":"2026-11-27T10:00:00Z"}`,
		},
		"strings are escaped and bad UTF-8 replaced": {
			msg:  &protocol.Shutdown{Reason: "a\"b\\c\n\t\x01\xffé"},
			want: `{"type":"shutdown","reason":"a\"b\\c\n\t\u0001\ufffdé"}`,
		},
		"large and small numbers as encoding/json writes them": {
			msg:  &protocol.Heartbeat{Version: "v", UptimeSeconds: 1e21},
			want: `{"type":"heartbeat","version":"v","uptimeSeconds":1e+21}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := protocol.Encode(tc.msg)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Encode (-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("Encode wrote invalid JSON: %s", got)
			}
		})
	}
}

// TestEncodeErrors shows that Encode refuses what JSON cannot carry instead of writing a frame a
// peer would refuse.
func TestEncodeErrors(t *testing.T) {
	nan := math.NaN()
	cases := map[string]struct {
		msg  protocol.Message
		want string
	}{
		"nil message":         {msg: nil, want: "nil message"},
		"nil pointer":         {msg: (*protocol.Heartbeat)(nil), want: "nil message"},
		"infinite uptime":     {msg: &protocol.Heartbeat{UptimeSeconds: math.Inf(1)}, want: `encode heartbeat: json: unsupported value: +Inf`},
		"NaN latency":         {msg: &protocol.Result{LatencyMs: &nan}, want: `encode result: json: unsupported value: NaN`},
		"year past 9999":      {msg: &protocol.Result{ExecutedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, want: `year outside of range`},
		"config not JSON":     {msg: &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{Config: json.RawMessage(`{"a":`)}}}, want: `field "assignments[0].config": not valid JSON`},
		"config not object":   {msg: &protocol.Authenticated{Assignments: []protocol.Assignment{{}, {Config: json.RawMessage(`[1]`)}}}, want: `field "assignments[1].config": must be an object, not an array`},
		"config not UTF-8":    {msg: &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{Config: json.RawMessage("{\"a\":\"\xff\"}")}}}, want: "not valid UTF-8"},
		"metadata of a func":  {msg: &protocol.Result{Result: &protocol.ResultDetail{Metadata: map[string]any{"f": func() {}}}}, want: `encode result: json: unsupported type: func()`},
		"NaN in metadata":     {msg: &protocol.Result{Result: &protocol.ResultDetail{Metadata: map[string]any{"n": nan}}}, want: `unsupported value: NaN`},
		"NaN in a list":       {msg: &protocol.Result{Result: &protocol.ResultDetail{Metadata: map[string]any{"l": []any{1.0, nan}}}}, want: `unsupported value: NaN`},
		"foreign message":     {msg: foreign{}, want: "cannot encode a protocol_test.foreign"},
		"NaN detail latency":  {msg: &protocol.Result{Result: &protocol.ResultDetail{LatencyMs: nan}}, want: `unsupported value: NaN`},
		"config not object 2": {msg: &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{Config: json.RawMessage(`"x"`)}}}, want: "must be an object, not a string"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := protocol.Encode(tc.msg)
			if err == nil {
				t.Fatalf("Encode = %s, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode error %q does not contain %q", err, tc.want)
			}
		})
	}
}

type foreign struct{}

func (foreign) MessageType() protocol.Type { return "foreign" }

// secret is part of every token in the error cases, to prove that no error repeats a token.
const secret = "csat_SECRET"

type errorCase struct {
	in   string
	want protocol.DecodeError
}

// TestDecodeFromSatelliteErrors proves that every class of bad input is refused, with the type and
// field a peer needs to fix it.
func TestDecodeFromSatelliteErrors(t *testing.T) {
	const auth = `"clientId":"uid","token":"` + secret + `"`
	const res = `"configId":"c","systemId":"s","status":"healthy","executedAt":"2026-11-27T10:00:00Z"`
	const detail = `"status":"healthy","latencyMs":1,"metadata":{}`
	runErrorCases(t, protocol.DecodeFromSatellite, map[string]errorCase{
		// The frame as a whole.
		"empty frame":       {``, protocol.DecodeError{Reason: "not valid JSON: empty frame"}},
		"not JSON":          {`{"type":"heartbeat",`, protocol.DecodeError{Reason: "not valid JSON: syntax error after 20 bytes"}},
		"trailing garbage":  {`{"type":"heartbeat"} x`, protocol.DecodeError{Reason: "not valid JSON: syntax error after 22 bytes"}},
		"an array":          {`[{"type":"heartbeat"}]`, protocol.DecodeError{Reason: "not a JSON object, but an array"}},
		"a string":          {`"heartbeat"`, protocol.DecodeError{Reason: "not a JSON object, but a string"}},
		"null":              {` null `, protocol.DecodeError{Reason: "not a JSON object, but null"}},
		"not UTF-8":         {"{\"type\":\"heartbeat\",\"version\":\"\xff\",\"uptimeSeconds\":1}", protocol.DecodeError{Reason: "not valid UTF-8"}},
		"missing type":      {`{` + auth + `}`, protocol.DecodeError{Field: "type", Reason: "is required"}},
		"type not a string": {`{"type":7,` + auth + `}`, protocol.DecodeError{Field: "type", Reason: "must be a string, not a number"}},
		"type null":         {`{"type":null}`, protocol.DecodeError{Field: "type", Reason: "is required"}},
		"unknown type":      {`{"type":"foo"}`, protocol.DecodeError{Field: "type", Reason: `unknown message type "foo"`}},
		"unknown type is cut short": {`{"type":"` + strings.Repeat("x", 100) + `"}`,
			protocol.DecodeError{Field: "type", Reason: `unknown message type "` + strings.Repeat("x", 64) + `"...`}},
		"manager's type": {`{"type":"authenticated","satelliteId":"s","assignments":[]}`,
			protocol.DecodeError{Field: "type", Reason: `message type "authenticated" is sent by the manager, not by a satellite`}},

		// authenticate
		"clientId missing":    {`{"type":"authenticate","token":"` + secret + `"}`, protocol.DecodeError{Type: "authenticate", Field: "clientId", Reason: "is required"}},
		"clientId empty":      {`{"type":"authenticate","clientId":"","token":"` + secret + `"}`, protocol.DecodeError{Type: "authenticate", Field: "clientId", Reason: "must not be empty"}},
		"clientId too long":   {`{"type":"authenticate","clientId":"` + strings.Repeat("u", 65) + `","token":"` + secret + `"}`, protocol.DecodeError{Type: "authenticate", Field: "clientId", Reason: "must be at most 64 bytes"}},
		"token missing":       {`{"type":"authenticate","clientId":"uid"}`, protocol.DecodeError{Type: "authenticate", Field: "token", Reason: "is required"}},
		"token empty":         {`{"type":"authenticate","clientId":"uid","token":""}`, protocol.DecodeError{Type: "authenticate", Field: "token", Reason: "must not be empty"}},
		"token too long":      {`{"type":"authenticate","clientId":"uid","token":"` + secret + strings.Repeat("t", 502) + `"}`, protocol.DecodeError{Type: "authenticate", Field: "token", Reason: "must be at most 512 bytes"}},
		"token not a string":  {`{"type":"authenticate","clientId":"uid","token":["` + secret + `"]}`, protocol.DecodeError{Type: "authenticate", Field: "token", Reason: "must be a string, not an array"}},
		"token null":          {`{"type":"authenticate","clientId":"uid","token":null}`, protocol.DecodeError{Type: "authenticate", Field: "token", Reason: "is required"}},
		"clientId not string": {`{"type":"authenticate","clientId":{},"token":"` + secret + `"}`, protocol.DecodeError{Type: "authenticate", Field: "clientId", Reason: "must be a string, not an object"}},

		// heartbeat
		"version missing":        {`{"type":"heartbeat","uptimeSeconds":1}`, protocol.DecodeError{Type: "heartbeat", Field: "version", Reason: "is required"}},
		"version empty":          {`{"type":"heartbeat","version":"","uptimeSeconds":1}`, protocol.DecodeError{Type: "heartbeat", Field: "version", Reason: "must not be empty"}},
		"version too long":       {`{"type":"heartbeat","version":"` + strings.Repeat("1", 65) + `","uptimeSeconds":1}`, protocol.DecodeError{Type: "heartbeat", Field: "version", Reason: "must be at most 64 bytes"}},
		"uptime missing":         {`{"type":"heartbeat","version":"1"}`, protocol.DecodeError{Type: "heartbeat", Field: "uptimeSeconds", Reason: "is required"}},
		"uptime negative":        {`{"type":"heartbeat","version":"1","uptimeSeconds":-0.5}`, protocol.DecodeError{Type: "heartbeat", Field: "uptimeSeconds", Reason: "must not be negative"}},
		"uptime a string":        {`{"type":"heartbeat","version":"1","uptimeSeconds":"12"}`, protocol.DecodeError{Type: "heartbeat", Field: "uptimeSeconds", Reason: "must be a number, not a string"}},
		"uptime out of range":    {`{"type":"heartbeat","version":"1","uptimeSeconds":1e400}`, protocol.DecodeError{Type: "heartbeat", Field: "uptimeSeconds", Reason: "is out of range"}},
		"uptime boolean":         {`{"type":"heartbeat","version":"1","uptimeSeconds":true}`, protocol.DecodeError{Type: "heartbeat", Field: "uptimeSeconds", Reason: "must be a number, not a boolean"}},
		"escaped version length": {`{"type":"heartbeat","version":"` + strings.Repeat(`\u00e9`, 33) + `","uptimeSeconds":1}`, protocol.DecodeError{Type: "heartbeat", Field: "version", Reason: "must be at most 64 bytes"}},

		// result
		"configId missing":        {`{"type":"result","systemId":"s","status":"healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "configId", Reason: "is required"}},
		"configId empty":          {`{"type":"result","configId":"","systemId":"s","status":"healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "configId", Reason: "must not be empty"}},
		"configId too long":       {`{"type":"result","configId":"` + strings.Repeat("c", 129) + `","systemId":"s","status":"healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "configId", Reason: "must be at most 128 bytes"}},
		"systemId empty":          {`{"type":"result","configId":"c","systemId":"","status":"healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "systemId", Reason: "must not be empty"}},
		"systemId too long":       {`{"type":"result","configId":"c","systemId":"` + strings.Repeat("s", 254) + `","status":"healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "systemId", Reason: "must be at most 253 bytes"}},
		"status missing":          {`{"type":"result","configId":"c","systemId":"s","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "status", Reason: "is required"}},
		"status unknown":          {`{"type":"result","configId":"c","systemId":"s","status":"ok","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "status", Reason: "must be one of healthy, degraded, unhealthy"}},
		"status wrong case":       {`{"type":"result","configId":"c","systemId":"s","status":"Healthy","executedAt":"2026-11-27T10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "status", Reason: "must be one of healthy, degraded, unhealthy"}},
		"latency negative":        {`{"type":"result",` + res + `,"latencyMs":-1}`, protocol.DecodeError{Type: "result", Field: "latencyMs", Reason: "must not be negative"}},
		"latency a string":        {`{"type":"result",` + res + `,"latencyMs":"1ms"}`, protocol.DecodeError{Type: "result", Field: "latencyMs", Reason: "must be a number, not a string"}},
		"executedAt missing":      {`{"type":"result","configId":"c","systemId":"s","status":"healthy"}`, protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "is required"}},
		"executedAt not a time":   {`{"type":"result","configId":"c","systemId":"s","status":"healthy","executedAt":"yesterday"}`, protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "not an RFC 3339 time"}},
		"executedAt no zone":      {`{"type":"result","configId":"c","systemId":"s","status":"healthy","executedAt":"2026-11-27T10:00:00"}`, protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "not an RFC 3339 time"}},
		"executedAt with a space": {`{"type":"result","configId":"c","systemId":"s","status":"healthy","executedAt":"2026-11-27 10:00:00Z"}`, protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "not an RFC 3339 time"}},
		"executedAt epoch":        {`{"type":"result","configId":"c","systemId":"s","status":"healthy","executedAt":1764237600000}`, protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "must be a string, not a number"}},
		"id empty":                {`{"type":"result",` + res + `,"id":""}`, protocol.DecodeError{Type: "result", Field: "id", Reason: "must not be empty"}},
		"id too long":             {`{"type":"result",` + res + `,"id":"` + strings.Repeat("i", 129) + `"}`, protocol.DecodeError{Type: "result", Field: "id", Reason: "must be at most 128 bytes"}},
		"result not an object":    {`{"type":"result",` + res + `,"result":"fine"}`, protocol.DecodeError{Type: "result", Field: "result", Reason: "must be an object, not a string"}},
		"result.status bad":       {`{"type":"result",` + res + `,"result":{"status":"up","latencyMs":1,"metadata":{}}}`, protocol.DecodeError{Type: "result", Field: "result.status", Reason: "must be one of healthy, degraded, unhealthy"}},
		"result.status missing":   {`{"type":"result",` + res + `,"result":{"latencyMs":1,"metadata":{}}}`, protocol.DecodeError{Type: "result", Field: "result.status", Reason: "is required"}},
		"result.latency negative": {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":-3,"metadata":{}}}`, protocol.DecodeError{Type: "result", Field: "result.latencyMs", Reason: "must not be negative"}},
		"result.latency missing":  {`{"type":"result",` + res + `,"result":{"status":"healthy","metadata":{}}}`, protocol.DecodeError{Type: "result", Field: "result.latencyMs", Reason: "is required"}},
		"result.metadata missing": {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":1}}`, protocol.DecodeError{Type: "result", Field: "result.metadata", Reason: "is required"}},
		"result.metadata array":   {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":1,"metadata":[]}}`, protocol.DecodeError{Type: "result", Field: "result.metadata", Reason: "must be an object, not an array"}},
		"result.metadata null":    {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":1,"metadata":null}}`, protocol.DecodeError{Type: "result", Field: "result.metadata", Reason: "is required"}},
		"result.metadata 65 keys": {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":1,"metadata":` + object(65) + `}}`, protocol.DecodeError{Type: "result", Field: "result.metadata", Reason: "must have at most 64 keys"}},
		"result.metadata number":  {`{"type":"result",` + res + `,"result":{"status":"healthy","latencyMs":1,"metadata":{"n":[1e999]}}}`, protocol.DecodeError{Type: "result", Field: "result.metadata", Reason: "is out of range"}},
		"result.message too long": {`{"type":"result",` + res + `,"result":{` + detail + `,"message":"` + strings.Repeat("m", 4097) + `"}}`, protocol.DecodeError{Type: "result", Field: "result.message", Reason: "must be at most 4096 bytes"}},

		// strategy_error
		"strategyId empty":     {`{"type":"strategy_error","strategyId":"","message":"m"}`, protocol.DecodeError{Type: "strategy_error", Field: "strategyId", Reason: "must not be empty"}},
		"strategyId missing":   {`{"type":"strategy_error","message":"m"}`, protocol.DecodeError{Type: "strategy_error", Field: "strategyId", Reason: "is required"}},
		"message missing":      {`{"type":"strategy_error","strategyId":"icmp"}`, protocol.DecodeError{Type: "strategy_error", Field: "message", Reason: "is required"}},
		"message too long":     {`{"type":"strategy_error","strategyId":"icmp","message":"` + strings.Repeat("m", 4097) + `"}`, protocol.DecodeError{Type: "strategy_error", Field: "message", Reason: "must be at most 4096 bytes"}},
		"message not a string": {`{"type":"strategy_error","strategyId":"icmp","message":false}`, protocol.DecodeError{Type: "strategy_error", Field: "message", Reason: "must be a string, not a boolean"}},
	})
}

// TestDecodeFromManagerErrors is TestDecodeFromSatelliteErrors for the frames the agent reads.
func TestDecodeFromManagerErrors(t *testing.T) {
	const a = `"configId":"c","systemId":"s","strategyId":"http","config":{"timeoutMs":1},"intervalSeconds":30`
	authenticated := func(assignments string) string {
		return `{"type":"authenticated","satelliteId":"sat","assignments":[` + assignments + `]}`
	}
	runErrorCases(t, protocol.DecodeFromManager, map[string]errorCase{
		"satellite's type": {`{"type":"authenticate","clientId":"uid","token":"` + secret + `"}`,
			protocol.DecodeError{Field: "type", Reason: `message type "authenticate" is sent by a satellite, not by the manager`}},
		"unknown type": {`{"type":"ping"}`, protocol.DecodeError{Field: "type", Reason: `unknown message type "ping"`}},
		"not JSON":     {`{type:"shutdown"}`, protocol.DecodeError{Reason: "not valid JSON: syntax error after 2 bytes"}},

		// authenticated
		"satelliteId missing":        {`{"type":"authenticated","assignments":[]}`, protocol.DecodeError{Type: "authenticated", Field: "satelliteId", Reason: "is required"}},
		"satelliteId too long":       {`{"type":"authenticated","satelliteId":"` + strings.Repeat("s", 129) + `","assignments":[]}`, protocol.DecodeError{Type: "authenticated", Field: "satelliteId", Reason: "must be at most 128 bytes"}},
		"assignments missing":        {`{"type":"authenticated","satelliteId":"sat"}`, protocol.DecodeError{Type: "authenticated", Field: "assignments", Reason: "is required"}},
		"assignments null":           {`{"type":"authenticated","satelliteId":"sat","assignments":null}`, protocol.DecodeError{Type: "authenticated", Field: "assignments", Reason: "is required"}},
		"assignments an object":      {`{"type":"authenticated","satelliteId":"sat","assignments":{}}`, protocol.DecodeError{Type: "authenticated", Field: "assignments", Reason: "must be an array, not an object"}},
		"too many assignments":       {authenticated(strings.TrimSuffix(strings.Repeat("{},", 10001), ",")), protocol.DecodeError{Type: "authenticated", Field: "assignments", Reason: "must have at most 10000 elements"}},
		"assignment not an object":   {authenticated(`{` + a + `},7`), protocol.DecodeError{Type: "authenticated", Field: "assignments[1]", Reason: "must be an object, not a number"}},
		"configId missing":           {authenticated(`{"systemId":"s","strategyId":"http","config":{},"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].configId", Reason: "is required"}},
		"configId empty":             {authenticated(`{` + a + `},{"configId":"","systemId":"s","strategyId":"http","config":{},"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[1].configId", Reason: "must not be empty"}},
		"systemId empty":             {authenticated(`{"configId":"c","systemId":"","strategyId":"http","config":{},"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].systemId", Reason: "must not be empty"}},
		"strategyId empty":           {authenticated(`{"configId":"c","systemId":"s","strategyId":"","config":{},"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].strategyId", Reason: "must not be empty"}},
		"strategyId too long":        {authenticated(`{"configId":"c","systemId":"s","strategyId":"` + strings.Repeat("h", 129) + `","config":{},"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].strategyId", Reason: "must be at most 128 bytes"}},
		"config missing":             {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].config", Reason: "is required"}},
		"config a string":            {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":"{}","intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].config", Reason: "must be an object, not a string"}},
		"config null":                {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":null,"intervalSeconds":30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].config", Reason: "must be an object, not null"}},
		"interval missing":           {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{}}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "is required"}},
		"interval zero":              {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":0}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "must be between 1 and 2147483647"}},
		"interval negative":          {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":-30}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "must be between 1 and 2147483647"}},
		"interval past int32":        {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":2147483648}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "must be between 1 and 2147483647"}},
		"interval a fraction":        {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":1.5}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "must be an integer"}},
		"interval past int64":        {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":-99999999999999999999}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "is out of range"}},
		"interval a string":          {authenticated(`{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":"30s"}`), protocol.DecodeError{Type: "authenticated", Field: "assignments[0].intervalSeconds", Reason: "must be an integer, not a string"}},
		"heartbeat interval < 0":     {`{"type":"authenticated","satelliteId":"sat","assignments":[],"heartbeatIntervalSeconds":-15}`, protocol.DecodeError{Type: "authenticated", Field: "heartbeatIntervalSeconds", Reason: "must not be negative"}},
		"heartbeat interval > int32": {`{"type":"authenticated","satelliteId":"sat","assignments":[],"heartbeatIntervalSeconds":2147483648}`, protocol.DecodeError{Type: "authenticated", Field: "heartbeatIntervalSeconds", Reason: "must be at most 2147483647"}},
		"heartbeat interval string":  {`{"type":"authenticated","satelliteId":"sat","assignments":[],"heartbeatIntervalSeconds":"15"}`, protocol.DecodeError{Type: "authenticated", Field: "heartbeatIntervalSeconds", Reason: "must be an integer, not a string"}},

		// auth_failed, shutdown
		"auth_failed reason missing":  {`{"type":"auth_failed"}`, protocol.DecodeError{Type: "auth_failed", Field: "reason", Reason: "is required"}},
		"auth_failed reason empty":    {`{"type":"auth_failed","reason":""}`, protocol.DecodeError{Type: "auth_failed", Field: "reason", Reason: "must not be empty"}},
		"auth_failed reason too long": {`{"type":"auth_failed","reason":"` + strings.Repeat("r", 4097) + `"}`, protocol.DecodeError{Type: "auth_failed", Field: "reason", Reason: "must be at most 4096 bytes"}},
		"shutdown reason a number":    {`{"type":"shutdown","reason":4002}`, protocol.DecodeError{Type: "shutdown", Field: "reason", Reason: "must be a string, not a number"}},
		"shutdown reason empty":       {`{"type":"shutdown","reason":""}`, protocol.DecodeError{Type: "shutdown", Field: "reason", Reason: "must not be empty"}},

		// config_updated
		"config_updated assignments missing": {`{"type":"config_updated"}`, protocol.DecodeError{Type: "config_updated", Field: "assignments", Reason: "is required"}},
		"config_updated bad assignment":      {`{"type":"config_updated","assignments":[{` + a + `},{"configId":"c","systemId":"` + strings.Repeat("s", 254) + `","strategyId":"http","config":{},"intervalSeconds":30}]}`, protocol.DecodeError{Type: "config_updated", Field: "assignments[1].systemId", Reason: "must be at most 253 bytes"}},
		"config_updated interval zero":       {`{"type":"config_updated","assignments":[{"configId":"c","systemId":"s","strategyId":"http","config":{},"intervalSeconds":0}]}`, protocol.DecodeError{Type: "config_updated", Field: "assignments[0].intervalSeconds", Reason: "must be between 1 and 2147483647"}},

		// config_patch
		"patch without removed":     {`{"type":"config_patch","assignments":[]}`, protocol.DecodeError{Type: "config_patch", Field: "removed", Reason: "is required"}},
		"patch without assignments": {`{"type":"config_patch","removed":[]}`, protocol.DecodeError{Type: "config_patch", Field: "assignments", Reason: "is required"}},
		"removed id empty":          {`{"type":"config_patch","assignments":[],"removed":["a",""]}`, protocol.DecodeError{Type: "config_patch", Field: "removed[1]", Reason: "must not be empty"}},
		"removed id too long":       {`{"type":"config_patch","assignments":[],"removed":["` + strings.Repeat("i", 129) + `"]}`, protocol.DecodeError{Type: "config_patch", Field: "removed[0]", Reason: "must be at most 128 bytes"}},
		"removed id a number":       {`{"type":"config_patch","assignments":[],"removed":[1]}`, protocol.DecodeError{Type: "config_patch", Field: "removed[0]", Reason: "must be a string, not a number"}},
		"patched assignment bad":    {`{"type":"config_patch","assignments":[{"configId":"c"}],"removed":[]}`, protocol.DecodeError{Type: "config_patch", Field: "assignments[0].systemId", Reason: "is required"}},
		// result_ack
		"ids missing":     {`{"type":"result_ack"}`, protocol.DecodeError{Type: "result_ack", Field: "ids", Reason: "is required"}},
		"ids a string":    {`{"type":"result_ack","ids":"a,b"}`, protocol.DecodeError{Type: "result_ack", Field: "ids", Reason: "must be an array, not a string"}},
		"too many ids":    {`{"type":"result_ack","ids":[` + strings.TrimSuffix(strings.Repeat(`"i",`, 1001), ",") + `]}`, protocol.DecodeError{Type: "result_ack", Field: "ids", Reason: "must have at most 1000 elements"}},
		"id empty":        {`{"type":"result_ack","ids":["a","b",""]}`, protocol.DecodeError{Type: "result_ack", Field: "ids[2]", Reason: "must not be empty"}},
		"id too long":     {`{"type":"result_ack","ids":["` + strings.Repeat("i", 129) + `"]}`, protocol.DecodeError{Type: "result_ack", Field: "ids[0]", Reason: "must be at most 128 bytes"}},
		"id not a string": {`{"type":"result_ack","ids":["a",2]}`, protocol.DecodeError{Type: "result_ack", Field: "ids[1]", Reason: "must be a string, not a number"}},
		"id null":         {`{"type":"result_ack","ids":[null]}`, protocol.DecodeError{Type: "result_ack", Field: "ids[0]", Reason: "must not be empty"}},
	})
}

// object returns a JSON object with n keys.
func object(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

func runErrorCases(t *testing.T, decode func([]byte) (protocol.Message, error), cases map[string]errorCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := decode([]byte(tc.in))
			if err == nil {
				t.Fatalf("decoded %#v, want an error", m)
			}
			if m != nil {
				t.Errorf("decode returned %#v with its error, want nil", m)
			}
			var got *protocol.DecodeError
			if !errors.As(err, &got) {
				t.Fatalf("error %v is a %T, want a *protocol.DecodeError", err, err)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the token", err)
			}
		})
	}
}

// TestDecodeIgnoresUnknownFields proves forward compatibility: fields a newer peer adds, at any
// level, do not stop an older one, and optional fields may be null. Keys match as encoding/json
// matches them.
func TestDecodeIgnoresUnknownFields(t *testing.T) {
	executedAt := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		in     string
		decode func([]byte) (protocol.Message, error)
		want   protocol.Message
	}{
		"authenticate with extras": {
			in:     `{"token":"t","future":{"nested":[1,{"x":"}"}]},"type":"authenticate","clientId":"uid"}`,
			decode: protocol.DecodeFromSatellite,
			want:   &protocol.Authenticate{ClientID: "uid", Token: "t"},
		},
		"keys match case-insensitively, and the last of a repeated key wins": {
			in:     `{"TYPE":"authenticate","ClientID":"uid","token":"other","Token":"t"}`,
			decode: protocol.DecodeFromSatellite,
			want:   &protocol.Authenticate{ClientID: "uid", Token: "t"},
		},
		"result with extras inside result": {
			in:     `{"type":"result","configId":"c","systemId":"s","status":"unhealthy","executedAt":"2026-11-27T10:00:00Z","result":{"status":"unhealthy","latencyMs":0,"metadata":{"k":"v"},"trace":"abc"},"region":"eu"}`,
			decode: protocol.DecodeFromSatellite,
			want: &protocol.Result{ConfigID: "c", SystemID: "s", Status: v1alpha1.ResultUnhealthy, ExecutedAt: executedAt,
				Result: &protocol.ResultDetail{Status: v1alpha1.ResultUnhealthy, Metadata: map[string]any{"k": "v"}}},
		},
		"optional fields null": {
			in:     `{"type":"result","id":null,"configId":"c","systemId":"s","status":"healthy","latencyMs":null,"result":null,"executedAt":"2026-11-27T10:00:00Z"}`,
			decode: protocol.DecodeFromSatellite,
			want:   &protocol.Result{ConfigID: "c", SystemID: "s", Status: v1alpha1.ResultHealthy, ExecutedAt: executedAt},
		},
		"escaped key and whitespace": {
			in:     " {\n\t\"typ\\u0065\" : \"heartbeat\" , \"version\":\"1\\u002e0\", \"uptimeSeconds\" : 0 }\r\n",
			decode: protocol.DecodeFromSatellite,
			want:   &protocol.Heartbeat{Version: "1.0"},
		},
		"assignment with extras and a spaced config": {
			in:     `{"type":"config_updated","assignments":[{"configId":"c","systemId":"s","strategyId":"http","config":{ "timeoutMs" : 1 , "http":{"url":"http://a b"}},"intervalSeconds":30,"paused":true}],"revision":7}`,
			decode: protocol.DecodeFromManager,
			want: &protocol.ConfigUpdated{Assignments: []protocol.Assignment{{ConfigID: "c", SystemID: "s", StrategyID: "http",
				Config: json.RawMessage(`{"timeoutMs":1,"http":{"url":"http://a b"}}`), IntervalSeconds: 30}}},
		},
		"authenticated without our optional field": {
			in:     `{"type":"authenticated","satelliteId":"sat","assignments":[],"heartbeatIntervalSeconds":null}`,
			decode: protocol.DecodeFromManager,
			want:   &protocol.Authenticated{SatelliteID: "sat", Assignments: []protocol.Assignment{}},
		},
		"empty ack": {
			in:     `{"type":"result_ack","ids":[]}`,
			decode: protocol.DecodeFromManager,
			want:   &protocol.ResultAck{IDs: []string{}},
		},
		"result with an offset time": {
			in:     `{"type":"result","configId":"c","systemId":"s","status":"healthy","executedAt":"2026-11-27T11:00:00.5+01:00"}`,
			decode: protocol.DecodeFromSatellite,
			want:   &protocol.Result{ConfigID: "c", SystemID: "s", Status: v1alpha1.ResultHealthy, ExecutedAt: executedAt.Add(500 * time.Millisecond)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDirectionMismatch proves that neither side accepts a frame only the other side sends, even
// when it is otherwise perfect.
func TestDirectionMismatch(t *testing.T) {
	for typ, m := range fixtures() {
		t.Run(string(typ), func(t *testing.T) {
			data, err := protocol.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			wrong := protocol.DecodeFromSatellite
			if sentBySatellite(typ) {
				wrong = protocol.DecodeFromManager
			}
			got, err := wrong(data)
			var de *protocol.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("decoded %#v by the wrong side, err %v", got, err)
			}
			if de.Type != "" || de.Field != "type" || !strings.Contains(de.Reason, `"`+string(typ)+`" is sent by`) {
				t.Errorf("error %#v, want one about the type's direction", de)
			}
		})
	}
}

// TestDecodeErrorString pins the text the hub relays to peers.
func TestDecodeErrorString(t *testing.T) {
	cases := map[string]struct {
		err  protocol.DecodeError
		want string
	}{
		"field of a type": {protocol.DecodeError{Type: "result", Field: "executedAt", Reason: "not an RFC 3339 time"}, `result: field "executedAt": not an RFC 3339 time`},
		"frame":           {protocol.DecodeError{Reason: "not valid UTF-8"}, `not valid UTF-8`},
		"type field":      {protocol.DecodeError{Field: "type", Reason: `unknown message type "foo"`}, `field "type": unknown message type "foo"`},
		"type only":       {protocol.DecodeError{Type: "heartbeat", Reason: "not valid JSON"}, `heartbeat: not valid JSON`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
				t.Errorf("Error() (-want +got):\n%s", diff)
			}
		})
	}
	wrapped := fmt.Errorf("session: %w", &protocol.DecodeError{Type: "heartbeat", Field: "version", Reason: "is required"})
	var de *protocol.DecodeError
	if !errors.As(wrapped, &de) || de.Field != "version" {
		t.Errorf("errors.As(%v) = %v, want the DecodeError", wrapped, de)
	}
}

// TestJoinedFramesEqualEncode proves that frames joined from assignments encoded once are the
// bytes Encode writes for the same message.
func TestJoinedFramesEqualEncode(t *testing.T) {
	lists := map[string][]protocol.Assignment{
		"none": nil,
		"one":  {{ConfigID: "c1", SystemID: "payments-api", StrategyID: "http", IntervalSeconds: 30, Config: json.RawMessage(`{"timeoutMs": 100}`)}},
		"several, with text JSON escapes": {
			{ConfigID: "c1", SystemID: "a<b>&\"c\"", StrategyID: "tcp", IntervalSeconds: 5},
			{ConfigID: "c2", SystemID: "ü", StrategyID: "dns", IntervalSeconds: 3600, Config: json.RawMessage(`{"dns":{"name":"x"}}`)},
		},
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			parts := make([]json.RawMessage, len(list))
			for i, a := range list {
				var err error
				if parts[i], err = protocol.EncodeAssignment(a); err != nil {
					t.Fatal(err)
				}
			}
			want, err := protocol.Encode(&protocol.ConfigUpdated{Assignments: list})
			if err != nil {
				t.Fatal(err)
			}
			if got := protocol.ConfigUpdatedFrame(parts); string(got) != string(want) {
				t.Errorf("config_updated:\n got %s\nwant %s", got, want)
			}
			removed := []string{"gone-1", "gone-\"2\"", "gone-<&>"}
			want, err = protocol.Encode(&protocol.ConfigPatch{Assignments: list, Removed: removed})
			if err != nil {
				t.Fatal(err)
			}
			if got := protocol.ConfigPatchFrame(parts, removed); string(got) != string(want) {
				t.Errorf("config_patch:\n got %s\nwant %s", got, want)
			}
			for _, hb := range []int{0, 15} {
				want, err := protocol.Encode(&protocol.Authenticated{SatelliteID: "uid-<1>", Assignments: list, HeartbeatIntervalSeconds: hb})
				if err != nil {
					t.Fatal(err)
				}
				if got := protocol.AuthenticatedFrame("uid-<1>", parts, hb); string(got) != string(want) {
					t.Errorf("authenticated (heartbeat %d):\n got %s\nwant %s", hb, got, want)
				}
			}
		})
	}
	if _, err := protocol.EncodeAssignment(protocol.Assignment{ConfigID: "c", Config: json.RawMessage(`[1]`)}); err == nil {
		t.Error("a config that is not an object encodes")
	}
}

// TestConfigPatchApply shows what a patch makes of a list: removed and replaced configIds go,
// the patch's assignments come in, and the result is sorted by configId.
func TestConfigPatchApply(t *testing.T) {
	a := func(id string, interval int) protocol.Assignment {
		return protocol.Assignment{ConfigID: id, SystemID: "s", StrategyID: "http", IntervalSeconds: interval}
	}
	list := []protocol.Assignment{a("a", 30), a("b", 30), a("c", 30)}
	for name, tc := range map[string]struct {
		patch protocol.ConfigPatch
		want  []protocol.Assignment
	}{
		"empty":               {patch: protocol.ConfigPatch{}, want: list},
		"add":                 {patch: protocol.ConfigPatch{Assignments: []protocol.Assignment{a("bb", 5)}}, want: []protocol.Assignment{a("a", 30), a("b", 30), a("bb", 5), a("c", 30)}},
		"replace":             {patch: protocol.ConfigPatch{Assignments: []protocol.Assignment{a("b", 5)}}, want: []protocol.Assignment{a("a", 30), a("b", 5), a("c", 30)}},
		"remove":              {patch: protocol.ConfigPatch{Removed: []string{"a", "c"}}, want: []protocol.Assignment{a("b", 30)}},
		"remove one not held": {patch: protocol.ConfigPatch{Removed: []string{"x"}}, want: list},
		"remove and add anew": {patch: protocol.ConfigPatch{Assignments: []protocol.Assignment{a("a", 5)}, Removed: []string{"a"}}, want: []protocol.Assignment{a("a", 5), a("b", 30), a("c", 30)}},
		"everything goes":     {patch: protocol.ConfigPatch{Removed: []string{"a", "b", "c"}}, want: []protocol.Assignment{}},
		"added out of order":  {patch: protocol.ConfigPatch{Assignments: []protocol.Assignment{a("d", 1), a("0", 1)}}, want: []protocol.Assignment{a("0", 1), a("a", 30), a("b", 30), a("c", 30), a("d", 1)}},
	} {
		t.Run(name, func(t *testing.T) {
			before := slices.Clone(list)
			got := tc.patch.Apply(list)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if !slices.EqualFunc(before, list, func(x, y protocol.Assignment) bool { return cmp.Equal(x, y) }) {
				t.Error("Apply modified its argument")
			}
		})
	}
}
