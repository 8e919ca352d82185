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

package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// want is what a test expects of an Outcome: its status and a part of its message.
type want struct {
	status  v1alpha1.ResultStatus
	message string
}

func checkOutcome(t *testing.T, got Outcome, w want) {
	t.Helper()
	t.Logf("Run() = %s in %v: %q %v", got.Status, got.Latency, got.Message, got.Metadata)
	if got.Status != w.status || !strings.Contains(got.Message, w.message) {
		t.Errorf("Run() = %s %q, want %s with %q", got.Status, got.Message, w.status, w.message)
	}
	if got.Metadata == nil {
		t.Errorf("Run() Metadata = nil, want a map")
	}
	if len(got.Message) > maxMessageLen {
		t.Errorf("Run() Message has %d bytes, want at most %d", len(got.Message), maxMessageLen)
	}
}

func TestSupported(t *testing.T) {
	for _, id := range []string{"http", "tcp", "dns", "tls", "grpc", "icmp"} {
		if !Supported(id) {
			t.Errorf("Supported(%q) = false, want true", id)
		}
	}
	for _, id := range []string{"", "HTTP", "script", "smtp"} {
		if Supported(id) {
			t.Errorf("Supported(%q) = true, want false", id)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		strategy string
		cfg      *protocol.CheckConfig
		want     want
	}{
		"unknown strategy":   {"smtp", &protocol.CheckConfig{TimeoutMs: 1000}, want{v1alpha1.ResultUnhealthy, `unsupported strategy "smtp"`}},
		"nil config":         {"http", nil, want{v1alpha1.ResultUnhealthy, "missing check config"}},
		"missing http block": {"http", &protocol.CheckConfig{TimeoutMs: 1000}, want{v1alpha1.ResultUnhealthy, "missing http block"}},
		"missing tcp block": {"tcp", &protocol.CheckConfig{
			TimeoutMs: 1000, HTTP: &v1alpha1.HTTPCheck{URL: "http://127.0.0.1"},
		}, want{v1alpha1.ResultUnhealthy, "missing tcp block"}},
		"missing dns block":  {"dns", &protocol.CheckConfig{TimeoutMs: 1000}, want{v1alpha1.ResultUnhealthy, "missing dns block"}},
		"missing tls block":  {"tls", &protocol.CheckConfig{TimeoutMs: 1000}, want{v1alpha1.ResultUnhealthy, "missing tls block"}},
		"missing grpc block": {"grpc", &protocol.CheckConfig{TimeoutMs: 1000}, want{v1alpha1.ResultUnhealthy, "missing grpc block"}},
		"missing icmp block": {"icmp", &protocol.CheckConfig{}, want{v1alpha1.ResultUnhealthy, "missing icmp block"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			checkOutcome(t, Run(context.Background(), tc.strategy, tc.cfg), tc.want)
		})
	}
}

func TestRunHonoursParentContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := Run(ctx, "tcp", &protocol.CheckConfig{TimeoutMs: 5000, TCP: &v1alpha1.TCPCheck{Host: "127.0.0.1", Port: 1}})
	checkOutcome(t, got, want{v1alpha1.ResultUnhealthy, ""})
}

func TestTruncate(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"short":          {"abc", 10, "abc"},
		"exact":          {"abcdef", 6, "abcdef"},
		"cut":            {"abcdefghij", 8, "abcde..."},
		"multibyte kept": {"ééééé", 8, "éé..."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := truncate(tc.in, tc.n); got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

// ms is a number of milliseconds for CheckConfig.TimeoutMs and DegradedLatencyMs.
func ms(d time.Duration) int64 { return d.Milliseconds() }
