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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestDecodeCheckConfig proves that the agent gets a usable config or an error naming the field.
func TestDecodeCheckConfig(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    *protocol.CheckConfig
		wantErr *protocol.DecodeError
	}{
		"http": {
			in: `{"timeoutMs":10000,"degradedLatencyMs":500,"http":{"url":"https://a.example/healthz","method":"GET","expectedStatusCodes":[200]},"future":1}`,
			want: &protocol.CheckConfig{TimeoutMs: 10000, DegradedLatencyMs: 500,
				HTTP: &v1alpha1.HTTPCheck{URL: "https://a.example/healthz", Method: "GET", ExpectedStatusCodes: []int32{200}}},
		},
		"tcp with a null block beside it": {
			in:   `{"timeoutMs":1,"tcp":{"host":"db","port":5432},"http":null}`,
			want: &protocol.CheckConfig{TimeoutMs: 1, TCP: &v1alpha1.TCPCheck{Host: "db", Port: 5432}},
		},
		"empty":               {in: ``, wantErr: &protocol.DecodeError{Field: "config", Reason: "is required"}},
		"not JSON":            {in: `{"timeoutMs":}`, wantErr: &protocol.DecodeError{Field: "config", Reason: "not valid JSON: syntax error after 14 bytes"}},
		"an array":            {in: `[]`, wantErr: &protocol.DecodeError{Field: "config", Reason: "must be an object, not an array"}},
		"null":                {in: `null`, wantErr: &protocol.DecodeError{Field: "config", Reason: "must be an object, not null"}},
		"timeout missing":     {in: `{"icmp":{"host":"h"}}`, wantErr: &protocol.DecodeError{Field: "config.timeoutMs", Reason: "must be greater than 0"}},
		"timeout negative":    {in: `{"timeoutMs":-1,"icmp":{"host":"h"}}`, wantErr: &protocol.DecodeError{Field: "config.timeoutMs", Reason: "must be greater than 0"}},
		"timeout a string":    {in: `{"timeoutMs":"10s","icmp":{"host":"h"}}`, wantErr: &protocol.DecodeError{Field: "config.timeoutMs", Reason: "must be an integer, not a string"}},
		"degraded negative":   {in: `{"timeoutMs":1,"degradedLatencyMs":-5,"icmp":{"host":"h"}}`, wantErr: &protocol.DecodeError{Field: "config.degradedLatencyMs", Reason: "must not be negative"}},
		"no block":            {in: `{"timeoutMs":1}`, wantErr: &protocol.DecodeError{Field: "config", Reason: "must set exactly one of http, tcp, dns, tls, grpc and icmp, not 0"}},
		"two blocks":          {in: `{"timeoutMs":1,"dns":{"name":"a"},"tls":{"host":"a"}}`, wantErr: &protocol.DecodeError{Field: "config", Reason: "must set exactly one of http, tcp, dns, tls, grpc and icmp, not 2"}},
		"port out of range":   {in: `{"timeoutMs":1,"tcp":{"host":"db","port":99999999999}}`, wantErr: &protocol.DecodeError{Field: "config.tcp.port", Reason: "is out of range"}},
		"block not an object": {in: `{"timeoutMs":1,"grpc":"a:1"}`, wantErr: &protocol.DecodeError{Field: "config.grpc", Reason: "must be an object, not a string"}},
		"header value number": {in: `{"timeoutMs":1,"http":{"url":"http://a","headers":[{"name":"X","value":5}]}}`, wantErr: &protocol.DecodeError{Field: "config.http.headers.value", Reason: "must be a string, not a number"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := protocol.DecodeCheckConfig(json.RawMessage(tc.in))
			if tc.wantErr != nil {
				var de *protocol.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("DecodeCheckConfig = %+v, %v; want a *DecodeError", got, err)
				}
				if diff := cmp.Diff(tc.wantErr, de); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCheckConfig: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeCheckConfig (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAssignmentValidate proves that Validate, which the manager can run before a push, refuses
// what DecodeFromManager would refuse.
func TestAssignmentValidate(t *testing.T) {
	valid := func() protocol.Assignment {
		return protocol.Assignment{ConfigID: "c", SystemID: "s", StrategyID: "http", Config: json.RawMessage(`{"timeoutMs":1}`), IntervalSeconds: 30}
	}
	cases := map[string]struct {
		mutate    func(*protocol.Assignment)
		wantField string
	}{
		"valid":             {mutate: func(*protocol.Assignment) {}},
		"configId empty":    {mutate: func(a *protocol.Assignment) { a.ConfigID = "" }, wantField: "configId"},
		"configId too long": {mutate: func(a *protocol.Assignment) { a.ConfigID = strings.Repeat("c", 129) }, wantField: "configId"},
		"systemId empty":    {mutate: func(a *protocol.Assignment) { a.SystemID = "" }, wantField: "systemId"},
		"systemId of 253":   {mutate: func(a *protocol.Assignment) { a.SystemID = strings.Repeat("s", 253) }},
		"strategyId empty":  {mutate: func(a *protocol.Assignment) { a.StrategyID = "" }, wantField: "strategyId"},
		"interval zero":     {mutate: func(a *protocol.Assignment) { a.IntervalSeconds = 0 }, wantField: "intervalSeconds"},
		"interval negative": {mutate: func(a *protocol.Assignment) { a.IntervalSeconds = -30 }, wantField: "intervalSeconds"},
		"config nil":        {mutate: func(a *protocol.Assignment) { a.Config = nil }, wantField: "config"},
		"config an array":   {mutate: func(a *protocol.Assignment) { a.Config = json.RawMessage(`[]`) }, wantField: "config"},
		"config invalid":    {mutate: func(a *protocol.Assignment) { a.Config = json.RawMessage(`{"a"}`) }, wantField: "config"},
		"config not UTF-8":  {mutate: func(a *protocol.Assignment) { a.Config = json.RawMessage("{\"a\":\"\xff\"}") }, wantField: "config"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := valid()
			tc.mutate(&a)
			err := a.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var de *protocol.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Validate = %v, want a *DecodeError", err)
			}
			if de.Field != tc.wantField {
				t.Errorf("Validate refused field %q (%v), want %q", de.Field, err, tc.wantField)
			}
		})
	}
}
