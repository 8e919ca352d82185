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
	"fmt"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// fixtures returns one realistic message of every type, keyed by type: an authenticated with 20
// assignments, a result with metadata, and so on. Each call returns fresh values.
func fixtures() map[protocol.Type]protocol.Message {
	latency := 42.5
	return map[protocol.Type]protocol.Message{
		protocol.TypeAuthenticate: &protocol.Authenticate{
			ClientID: "4f6c2a7e-0d4b-4b8e-9a57-3f1d2c8b9e10",
			Token:    "csat_q8Jm3xZ0vT7pR2nK5wY1bH4cL9dF6gA0sE3uI8oP2rQ",
		},
		protocol.TypeHeartbeat: &protocol.Heartbeat{Version: "0.1.0", UptimeSeconds: 3725.25},
		protocol.TypeResult: &protocol.Result{
			ID:        "4f6c2a7e-0d4b-4b8e-9a57-3f1d2c8b9e10/1764237600123456789",
			ConfigID:  "8a1d7c3e-5b2f-4e6a-9c0d-1e2f3a4b5c6d",
			SystemID:  "payments-api",
			Status:    v1alpha1.ResultDegraded,
			LatencyMs: &latency,
			Result: &protocol.ResultDetail{
				Status:    v1alpha1.ResultDegraded,
				LatencyMs: 612,
				Message:   "200 OK, slower than 500ms",
				Metadata: map[string]any{
					"statusCode":    float64(200),
					"url":           "https://payments.example.com/healthz",
					"contentLength": float64(1532),
					"tlsVersion":    "TLS 1.3",
					"redirected":    false,
					"server":        "envoy",
					"addresses":     []any{"203.0.113.10", "203.0.113.11"},
				},
			},
			ExecutedAt: time.Date(2026, 11, 27, 10, 0, 0, 123000000, time.UTC),
		},
		protocol.TypeStrategyError: &protocol.StrategyError{
			StrategyID: "icmp",
			Message:    "raw sockets need CAP_NET_RAW; run the agent with it or drop icmp checks",
		},
		protocol.TypeAuthenticated: &protocol.Authenticated{
			SatelliteID:              "4f6c2a7e-0d4b-4b8e-9a57-3f1d2c8b9e10",
			Assignments:              assignments(20),
			HeartbeatIntervalSeconds: 15,
		},
		protocol.TypeAuthFailed:    &protocol.AuthFailed{Reason: "invalid credentials"},
		protocol.TypeConfigUpdated: &protocol.ConfigUpdated{Assignments: assignments(20)},
		protocol.TypeConfigPatch: &protocol.ConfigPatch{Assignments: assignments(1),
			Removed: []string{"8a1d7c3e-5b2f-4e6a-9c0d-000000000019"}},
		protocol.TypeShutdown:  &protocol.Shutdown{Reason: protocol.ShutdownReplaced},
		protocol.TypeResultAck: &protocol.ResultAck{IDs: ackIDs(16)},
	}
}

// assignments returns n assignments with configs as our manager relays them: compact JSON of
// a CheckConfig with its secrets resolved.
func assignments(n int) []protocol.Assignment {
	as := make([]protocol.Assignment, n)
	for i := range as {
		value := fmt.Sprintf("Bearer tok-%04d", i)
		cfg := protocol.CheckConfig{
			TimeoutMs:         10000,
			DegradedLatencyMs: 500,
			HTTP: &v1alpha1.HTTPCheck{
				URL:                 fmt.Sprintf("https://service-%d.example.com/healthz", i),
				Method:              "GET",
				Headers:             []v1alpha1.HTTPHeader{{Name: "Authorization", Value: &value}},
				ExpectedStatusCodes: []int32{200, 204},
			},
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			panic(err)
		}
		as[i] = protocol.Assignment{
			ConfigID:        fmt.Sprintf("8a1d7c3e-5b2f-4e6a-9c0d-%012d", i),
			SystemID:        fmt.Sprintf("service-%d", i),
			StrategyID:      "http",
			Config:          raw,
			IntervalSeconds: 30,
		}
	}
	return as
}

func ackIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("4f6c2a7e-0d4b-4b8e-9a57-3f1d2c8b9e10/17642376%010d", i)
	}
	return ids
}

// sentBySatellite tells the frames a satellite sends from those the manager sends.
func sentBySatellite(t protocol.Type) bool {
	switch t {
	case protocol.TypeAuthenticate, protocol.TypeHeartbeat, protocol.TypeResult, protocol.TypeStrategyError:
		return true
	}
	return false
}

// decoderFor returns the decoder of the side that receives frames of type t.
func decoderFor(t protocol.Type) func([]byte) (protocol.Message, error) {
	if sentBySatellite(t) {
		return protocol.DecodeFromSatellite
	}
	return protocol.DecodeFromManager
}
