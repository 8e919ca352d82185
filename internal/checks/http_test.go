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
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// slowDelay is how long /slow takes, well past the degraded threshold of the test that uses it.
const slowDelay = 50 * time.Millisecond

func testHTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello world")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	// /header and /echo assert on the server side what the probe sent.
	mux.HandleFunc("/header", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Check") != "yes" || r.Header.Get("User-Agent") != userAgent {
			http.Error(w, "missing header", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(body) != "ping" {
			http.Error(w, "want POST ping", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "pong")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, _ *http.Request) {
		<-time.After(slowDelay)
	})
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		// Answers only when the client gives up.
		<-r.Context().Done()
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		// The marker lies past the 1 MiB the probe reads.
		_, _ = w.Write([]byte(strings.Repeat("a", maxBodyBytes+1024)))
		_, _ = io.WriteString(w, "MARKER")
	})
	return mux
}

func TestRunHTTP(t *testing.T) {
	plain := httptest.NewServer(testHTTPHandler())
	defer plain.Close()
	trusted := httptest.NewUnstartedServer(testHTTPHandler())
	trusted.TLS = &tls.Config{Certificates: []tls.Certificate{trustedCA.serverCert(t, inDays(90))}}
	trusted.StartTLS()
	defer trusted.Close()
	untrusted := httptest.NewUnstartedServer(testHTTPHandler())
	untrusted.TLS = &tls.Config{Certificates: []tls.Certificate{untrustedCA.serverCert(t, inDays(90))}}
	untrusted.StartTLS()
	defer untrusted.Close()
	servers := map[string]string{"plain": plain.URL, "tls": trusted.URL, "untrusted": untrusted.URL}

	yes, no := true, false
	value := func(s string) *string { return &s }
	cases := map[string]struct {
		server     string
		path       string
		check      v1alpha1.HTTPCheck
		timeout    time.Duration
		degradedMs int64
		want       want
	}{
		"200 is healthy by default": {
			server: "plain", path: "/ok",
			want: want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"any 2xx is healthy by default": {
			server: "plain", path: "/status/204",
			want: want{v1alpha1.ResultHealthy, "204 No Content"},
		},
		"5xx is unhealthy by default": {
			server: "plain", path: "/status/503",
			want: want{v1alpha1.ResultUnhealthy, "status 503, want 2xx"},
		},
		"expected status code": {
			server: "plain", path: "/status/503",
			check: v1alpha1.HTTPCheck{ExpectedStatusCodes: []int32{503}},
			want:  want{v1alpha1.ResultHealthy, "503 Service Unavailable"},
		},
		"unexpected status code": {
			server: "plain", path: "/status/503",
			check: v1alpha1.HTTPCheck{ExpectedStatusCodes: []int32{200}},
			want:  want{v1alpha1.ResultUnhealthy, "status 503, want one of [200]"},
		},
		"2xx outside the expected codes": {
			server: "plain", path: "/ok",
			check: v1alpha1.HTTPCheck{ExpectedStatusCodes: []int32{201, 202}},
			want:  want{v1alpha1.ResultUnhealthy, "status 200, want one of [201 202]"},
		},
		"body matches regex": {
			server: "plain", path: "/ok",
			check: v1alpha1.HTTPCheck{BodyRegex: `^hello\s+w.rld$`},
			want:  want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"body does not match regex": {
			server: "plain", path: "/ok",
			check: v1alpha1.HTTPCheck{BodyRegex: `goodbye`},
			want:  want{v1alpha1.ResultUnhealthy, `body does not match "goodbye"`},
		},
		"regex sees only the first MiB": {
			server: "plain", path: "/big",
			check: v1alpha1.HTTPCheck{BodyRegex: `MARKER`},
			want:  want{v1alpha1.ResultUnhealthy, `body does not match "MARKER"`},
		},
		"invalid regex": {
			server: "plain", path: "/ok",
			check: v1alpha1.HTTPCheck{BodyRegex: `(`},
			want:  want{v1alpha1.ResultUnhealthy, "invalid bodyRegex"},
		},
		"header is sent": {
			server: "plain", path: "/header",
			check: v1alpha1.HTTPCheck{Headers: []v1alpha1.HTTPHeader{{Name: "X-Check", Value: value("yes")}}},
			want:  want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"server sees a missing header": {
			server: "plain", path: "/header",
			want: want{v1alpha1.ResultUnhealthy, "status 400, want 2xx"},
		},
		"unresolved header value": {
			server: "plain", path: "/header",
			check: v1alpha1.HTTPCheck{Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: &v1alpha1.HeaderValueSource{}}}},
			want:  want{v1alpha1.ResultUnhealthy, "header Authorization has no value"},
		},
		"method and body are sent": {
			server: "plain", path: "/echo",
			check: v1alpha1.HTTPCheck{Method: http.MethodPost, Body: "ping", ExpectedStatusCodes: []int32{201}, BodyRegex: "pong"},
			want:  want{v1alpha1.ResultHealthy, "201 Created"},
		},
		"redirects are followed by default": {
			server: "plain", path: "/redirect",
			check: v1alpha1.HTTPCheck{BodyRegex: "hello"},
			want:  want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"redirects are followed when asked": {
			server: "plain", path: "/redirect",
			check: v1alpha1.HTTPCheck{FollowRedirects: &yes, ExpectedStatusCodes: []int32{200}},
			want:  want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"redirect not followed fails 2xx": {
			server: "plain", path: "/redirect",
			check: v1alpha1.HTTPCheck{FollowRedirects: &no},
			want:  want{v1alpha1.ResultUnhealthy, "status 302, want 2xx"},
		},
		"redirect not followed is the answer": {
			server: "plain", path: "/redirect",
			check: v1alpha1.HTTPCheck{FollowRedirects: &no, ExpectedStatusCodes: []int32{302}},
			want:  want{v1alpha1.ResultHealthy, "302 Found"},
		},
		"slower than the degraded latency": {
			server: "plain", path: "/slow", degradedMs: 5,
			want: want{v1alpha1.ResultDegraded, "200 OK; latency"},
		},
		"faster than the degraded latency": {
			server: "plain", path: "/ok", degradedMs: ms(time.Minute),
			want: want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"timeout": {
			server: "plain", path: "/hang", timeout: 100 * time.Millisecond,
			want: want{v1alpha1.ResultUnhealthy, "timed out after 100ms"},
		},
		"connection refused": {
			server: "refused", path: "/",
			want: want{v1alpha1.ResultUnhealthy, "connection refused"},
		},
		"trusted certificate": {
			server: "tls", path: "/ok",
			want: want{v1alpha1.ResultHealthy, "200 OK"},
		},
		"untrusted certificate": {
			server: "untrusted", path: "/ok",
			want: want{v1alpha1.ResultUnhealthy, "certificate signed by unknown authority"},
		},
		"untrusted certificate, verification off": {
			server: "untrusted", path: "/ok",
			check: v1alpha1.HTTPCheck{InsecureSkipTLSVerify: true},
			want:  want{v1alpha1.ResultHealthy, "200 OK"},
		},
	}
	servers["refused"] = "http://" + closedPort(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			check := tc.check
			check.URL = servers[tc.server] + tc.path
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			got := Run(context.Background(), "http", &protocol.CheckConfig{
				TimeoutMs: ms(timeout), DegradedLatencyMs: tc.degradedMs, HTTP: &check,
			})
			checkOutcome(t, got, tc.want)
		})
	}
}

func TestRunHTTPReportsStatusCode(t *testing.T) {
	srv := httptest.NewServer(testHTTPHandler())
	defer srv.Close()
	got := Run(context.Background(), "http", &protocol.CheckConfig{
		TimeoutMs: 10000, HTTP: &v1alpha1.HTTPCheck{URL: srv.URL + "/status/503"},
	})
	if got.Metadata["statusCode"] != 503 {
		t.Errorf("Metadata[statusCode] = %v, want 503", got.Metadata["statusCode"])
	}
	if got.Latency <= 0 {
		t.Errorf("Latency = %v, want > 0", got.Latency)
	}
}

func TestRunHTTPCallerDeadlineFirst(t *testing.T) {
	srv := httptest.NewServer(testHTTPHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	got := Run(ctx, "http", &protocol.CheckConfig{
		TimeoutMs: ms(time.Minute), HTTP: &v1alpha1.HTTPCheck{URL: srv.URL + "/hang"},
	})
	// The message names the limit that ended the run, not the check's own minute.
	checkOutcome(t, got, want{v1alpha1.ResultUnhealthy, "timed out after 100ms"})
}

func BenchmarkRunHTTP(b *testing.B) {
	srv := httptest.NewServer(testHTTPHandler())
	defer srv.Close()
	defer CloseIdleConnections()
	cfg := &protocol.CheckConfig{TimeoutMs: 10000, HTTP: &v1alpha1.HTTPCheck{URL: srv.URL + "/ok"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if got := Run(ctx, "http", cfg); got.Status != v1alpha1.ResultHealthy {
			b.Fatalf("Run() = %s %q, want healthy", got.Status, got.Message)
		}
	}
}
