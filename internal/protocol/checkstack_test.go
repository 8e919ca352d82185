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
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

func TestDialectOf(t *testing.T) {
	cases := map[string]struct {
		caps []string
		want Dialect
	}{
		"none, as Checkstack's agent 0.5 sends": {nil, DialectCheckstack},
		"Checkstack's own capabilities":         {[]string{"telemetry", "scrape"}, DialectCheckstack},
		"ours among others":                     {[]string{"telemetry", CapabilityCheckConfig}, DialectOurs},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DialectOf(tc.caps); got != tc.want {
				t.Errorf("DialectOf(%q) = %q, want %q", tc.caps, got, tc.want)
			}
		})
	}
}

// checkstackShape is the part of a translated assignment the tests compare.
type checkstackShape struct {
	StrategyID string
	Config     map[string]any
	Collectors []Collector
}

func TestToCheckstack(t *testing.T) {
	v := "Bearer s3cr3t"
	cases := map[string]struct {
		cfg  CheckConfig
		want checkstackShape
	}{
		"http: the request travels in the collector": {
			cfg: CheckConfig{TimeoutMs: 5000, HTTP: &v1alpha1.HTTPCheck{URL: "https://example.com/healthz", Method: "POST",
				Body: "{}", Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", Value: &v}}, FollowRedirects: ptr.To(true),
				ExpectedStatusCodes: []int32{204}}},
			want: checkstackShape{StrategyID: "healthcheck-http.http", Config: map[string]any{"timeout": 5000.0},
				Collectors: []Collector{{ID: "request", CollectorID: "healthcheck-http.request", Config: map[string]any{
					"url": "https://example.com/healthz", "method": "POST", "body": "{}", "timeout": 5000.0,
					"headers": []any{map[string]any{"name": "Authorization", "value": "Bearer s3cr3t"}}}}}},
		},
		"tcp": {
			cfg:  CheckConfig{TimeoutMs: 2000, TCP: &v1alpha1.TCPCheck{Host: "db", Port: 5432}},
			want: checkstackShape{StrategyID: "healthcheck-tcp.tcp", Config: map[string]any{"timeout": 2000.0, "host": "db", "port": 5432.0}},
		},
		"dns with a nameserver": {
			cfg: CheckConfig{TimeoutMs: 1000, DNS: &v1alpha1.DNSCheck{Name: "example.com", RecordType: "AAAA", Server: "10.0.0.53:53"}},
			want: checkstackShape{StrategyID: "healthcheck-dns.dns", Config: map[string]any{"timeout": 1000.0, "nameserver": "10.0.0.53"},
				Collectors: []Collector{{ID: "lookup", CollectorID: "healthcheck-dns.lookup",
					Config: map[string]any{"hostname": "example.com", "recordType": "AAAA", "nameserver": "10.0.0.53"}}}},
		},
		"tls": {
			cfg: CheckConfig{TimeoutMs: 3000, TLS: &v1alpha1.TLSCheck{Host: "example.com", Port: 8443, MinDaysUntilExpiry: 14}},
			want: checkstackShape{StrategyID: "healthcheck-tls.tls", Config: map[string]any{"timeout": 3000.0, "host": "example.com",
				"port": 8443.0, "minDaysUntilExpiry": 14.0, "rejectUnauthorized": true},
				Collectors: []Collector{{ID: "certificate", CollectorID: "healthcheck-tls.certificate", Config: map[string]any{}}}},
		},
		"grpc": {
			cfg: CheckConfig{TimeoutMs: 3000, GRPC: &v1alpha1.GRPCCheck{Address: "api:9090", Service: "pay.v1", TLS: true}},
			want: checkstackShape{StrategyID: "healthcheck-grpc.grpc", Config: map[string]any{"timeout": 3000.0, "host": "api",
				"port": 9090.0, "service": "pay.v1", "useTls": true},
				Collectors: []Collector{{ID: "health", CollectorID: "healthcheck-grpc.health", Config: map[string]any{}}}},
		},
		"icmp becomes ping": {
			cfg: CheckConfig{TimeoutMs: 1000, ICMP: &v1alpha1.ICMPCheck{Host: "10.0.0.1"}},
			want: checkstackShape{StrategyID: "healthcheck-ping.ping", Config: map[string]any{"timeout": 1000.0},
				Collectors: []Collector{{ID: "ping", CollectorID: "healthcheck-ping.ping",
					Config: map[string]any{"host": "10.0.0.1", "count": 1.0, "timeout": 1000.0}}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := Assignment{ConfigID: "uid-1", SystemID: "payments", IntervalSeconds: 30}
			got, err := ToCheckstack(a, &tc.cfg)
			if err != nil {
				t.Fatalf("ToCheckstack: %v", err)
			}
			// Compare as the satellite decodes it: through JSON.
			raw, err := EncodeAssignment(got)
			if err != nil {
				t.Fatal(err)
			}
			var decoded checkstackShape
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, decoded); diff != "" {
				t.Errorf("wire form (-want +got):\n%s", diff)
			}
			base, rev := SplitRevision(got.ConfigID)
			if base != "uid-1" || rev == "" {
				t.Errorf("configId %q: want uid-1 with a revision", got.ConfigID)
			}
			if got.SystemID != "payments" || got.IntervalSeconds != 30 {
				t.Errorf("systemId %q, interval %d: want payments and 30", got.SystemID, got.IntervalSeconds)
			}
		})
	}
}

func TestToCheckstackRevision(t *testing.T) {
	a := Assignment{ConfigID: "uid-1", SystemID: "payments", IntervalSeconds: 30}
	cfg := func(url string) *CheckConfig {
		return &CheckConfig{TimeoutMs: 1000, HTTP: &v1alpha1.HTTPCheck{URL: url}}
	}
	first, _ := ToCheckstack(a, cfg("https://a.example/"))
	again, _ := ToCheckstack(a, cfg("https://a.example/"))
	edited, _ := ToCheckstack(a, cfg("https://b.example/"))
	if first.ConfigID != again.ConfigID {
		t.Errorf("the same spec gave configIds %q and %q", first.ConfigID, again.ConfigID)
	}
	if first.ConfigID == edited.ConfigID {
		t.Errorf("an edited URL kept configId %q: Checkstack's satellite would ignore the edit", first.ConfigID)
	}
}

func TestToCheckstackUnfit(t *testing.T) {
	cases := map[string]struct {
		cfg   CheckConfig
		field string
	}{
		"http followRedirects false": {CheckConfig{HTTP: &v1alpha1.HTTPCheck{URL: "http://x", FollowRedirects: ptr.To(false)}}, "spec.check.http.followRedirects"},
		"http insecureSkipTLSVerify": {CheckConfig{HTTP: &v1alpha1.HTTPCheck{URL: "http://x", InsecureSkipTLSVerify: true}}, "spec.check.http.insecureSkipTLSVerify"},
		"http PATCH":                 {CheckConfig{HTTP: &v1alpha1.HTTPCheck{URL: "http://x", Method: "PATCH"}}, "spec.check.http.method"},
		"tcp with tls":               {CheckConfig{TCP: &v1alpha1.TCPCheck{Host: "x", Port: 1, TLS: true}}, "spec.check.tcp.tls"},
		"dns expectedAnswers":        {CheckConfig{DNS: &v1alpha1.DNSCheck{Name: "x", ExpectedAnswers: []string{"1.2.3.4"}}}, "spec.check.dns.expectedAnswers"},
		"dns SRV":                    {CheckConfig{DNS: &v1alpha1.DNSCheck{Name: "x", RecordType: "SRV"}}, "spec.check.dns.recordType"},
		"dns server on port 5353":    {CheckConfig{DNS: &v1alpha1.DNSCheck{Name: "x", Server: "10.0.0.1:5353"}}, "spec.check.dns.server"},
		"grpc without port":          {CheckConfig{GRPC: &v1alpha1.GRPCCheck{Address: "api"}}, "spec.check.grpc.address"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ToCheckstack(Assignment{ConfigID: "u"}, &tc.cfg)
			var u *UnfitError
			if !errors.As(err, &u) {
				t.Fatalf("err = %v, want an *UnfitError", err)
			}
			if u.Field != tc.field || u.Reason == "" {
				t.Errorf("UnfitError{%q, %q}: want field %q and a reason", u.Field, u.Reason, tc.field)
			}
		})
	}
}

func TestJudgeCheckstack(t *testing.T) {
	httpResult := func(status v1alpha1.ResultStatus, latency float64, collector map[string]any) *Result {
		return &Result{Status: status, Result: &ResultDetail{Status: status, LatencyMs: latency,
			Metadata: map[string]any{"collectors": map[string]any{"request": collector}}}}
	}
	http := func(codes []int32, regex string) *CheckConfig {
		return &CheckConfig{DegradedLatencyMs: 500, HTTP: &v1alpha1.HTTPCheck{URL: "http://x", ExpectedStatusCodes: codes, BodyRegex: regex}}
	}
	tls := &CheckConfig{TLS: &v1alpha1.TLSCheck{Host: "x", MinDaysUntilExpiry: 14}}
	tlsResult := func(days float64) *Result {
		return &Result{Status: v1alpha1.ResultHealthy, Result: &ResultDetail{Status: v1alpha1.ResultHealthy,
			Metadata: map[string]any{"collectors": map[string]any{"c1": map[string]any{"_collectorId": "certificate", "daysRemaining": days}}}}}
	}
	cases := map[string]struct {
		cfg  *CheckConfig
		r    *Result
		want v1alpha1.ResultStatus
		msg  string
	}{
		"200 where 204 is expected": {http([]int32{204}, ""), httpResult("healthy", 10, map[string]any{"statusCode": 200.0}), "unhealthy", "HTTP 200, expected [204]"},
		"204 where 204 is expected": {http([]int32{204}, ""), httpResult("healthy", 10, map[string]any{"statusCode": 204.0}), "healthy", "HTTP 204"},
		"301 where any 2xx is":      {http(nil, ""), httpResult("healthy", 10, map[string]any{"statusCode": 301.0}), "unhealthy", "HTTP 301, expected any 2xx"},
		"no status code":            {http(nil, ""), httpResult("healthy", 10, map[string]any{}), "unhealthy", "no HTTP status code"},
		"body matches":              {http(nil, "ok"), httpResult("healthy", 10, map[string]any{"statusCode": 200.0, "body": "all ok"}), "healthy", "HTTP 200"},
		"body does not match":       {http(nil, "ok"), httpResult("healthy", 10, map[string]any{"statusCode": 200.0, "body": "down"}), "unhealthy", "does not match bodyRegex"},
		"body missing":              {http(nil, "ok"), httpResult("healthy", 10, map[string]any{"statusCode": 200.0}), "unhealthy", "no body"},
		"slow":                      {http(nil, ""), httpResult("healthy", 800, map[string]any{"statusCode": 200.0}), "degraded", "slower than degradedLatency"},
		"reported unhealthy stays":  {http(nil, ""), httpResult("unhealthy", 10, map[string]any{"statusCode": 200.0}), "unhealthy", ""},
		"certificate fine":          {tls, tlsResult(90), "healthy", ""},
		"certificate expiring":      {tls, tlsResult(3), "degraded", "expires in 3 days"},
		"certificate expired":       {tls, tlsResult(0), "unhealthy", "expired"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := JudgeCheckstack(tc.cfg, tc.r)
			if got.Status != tc.want || !strings.Contains(got.Message, tc.msg) {
				t.Errorf("JudgeCheckstack = {%s, %q}, want {%s, containing %q}", got.Status, got.Message, tc.want, tc.msg)
			}
		})
	}
}

func TestUnknownType(t *testing.T) {
	frame := []byte(`{"type":"telemetry_batch","batchId":"1","kind":"logs","payload":{}}`)
	_, err := DecodeFromSatellite(frame)
	if typ, ok := UnknownType(frame, err); !ok || typ != "telemetry_batch" {
		t.Errorf("UnknownType(%v) = %q, %v; want telemetry_batch, true", err, typ, ok)
	}
	frame = []byte(`{"type":"authenticated","satelliteId":"x","assignments":[]}`)
	_, err = DecodeFromSatellite(frame)
	if _, ok := UnknownType(frame, err); ok {
		t.Errorf("a frame of the manager's type is not unknown: %v", err)
	}
	frame = []byte(`{"type":"heartbeat","version":"1"}`)
	_, err = DecodeFromSatellite(frame)
	if _, ok := UnknownType(frame, err); ok {
		t.Errorf("an invalid heartbeat is not of an unknown type: %v", err)
	}
}

func TestCapabilities(t *testing.T) {
	m, err := DecodeFromSatellite([]byte(`{"type":"heartbeat","version":"1","uptimeSeconds":1,"capabilities":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, m.(*Heartbeat).Capabilities); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	if _, err := DecodeFromSatellite([]byte(`{"type":"authenticate","clientId":"c","token":"t","capabilities":[1]}`)); err == nil {
		t.Error("a capability that is not a string was accepted")
	}
}
