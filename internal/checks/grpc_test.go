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
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// serveGRPCHealth runs a real gRPC health server on 127.0.0.1, with TLS when cert is set, where
// the server as a whole and ok.svc are SERVING and down.svc is NOT_SERVING.
func serveGRPCHealth(t *testing.T, cert *tls.Certificate) string {
	t.Helper()
	var opts []grpc.ServerOption
	if cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cert}})))
	}
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	hs.SetServingStatus("ok.svc", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down.svc", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

// serveMute accepts connections and never says a word, until the test ends.
func serveMute(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

func TestRunGRPC(t *testing.T) {
	trusted, untrusted := trustedCA.serverCert(t, inDays(90)), untrustedCA.serverCert(t, inDays(90))
	plain := serveGRPCHealth(t, nil)
	secure := serveGRPCHealth(t, &trusted)
	bad := serveGRPCHealth(t, &untrusted)
	mute := serveMute(t)
	refused := closedPort(t)

	cases := map[string]struct {
		check   v1alpha1.GRPCCheck
		timeout time.Duration
		want    want
	}{
		"server SERVING": {
			check: v1alpha1.GRPCCheck{Address: plain},
			want:  want{v1alpha1.ResultHealthy, "SERVING"},
		},
		"service SERVING": {
			check: v1alpha1.GRPCCheck{Address: plain, Service: "ok.svc"},
			want:  want{v1alpha1.ResultHealthy, "SERVING"},
		},
		"service NOT_SERVING": {
			check: v1alpha1.GRPCCheck{Address: plain, Service: "down.svc"},
			want:  want{v1alpha1.ResultUnhealthy, `service "down.svc" is NOT_SERVING`},
		},
		"unknown service": {
			check: v1alpha1.GRPCCheck{Address: plain, Service: "nope.svc"},
			want:  want{v1alpha1.ResultUnhealthy, "NotFound"},
		},
		"TLS with a trusted certificate": {
			check: v1alpha1.GRPCCheck{Address: secure, Service: "ok.svc", TLS: true},
			want:  want{v1alpha1.ResultHealthy, "SERVING"},
		},
		"TLS with an untrusted certificate": {
			check: v1alpha1.GRPCCheck{Address: bad, TLS: true},
			want:  want{v1alpha1.ResultUnhealthy, "certificate signed by unknown authority"},
		},
		"connection refused": {
			check: v1alpha1.GRPCCheck{Address: refused},
			want:  want{v1alpha1.ResultUnhealthy, "connection refused"},
		},
		"server never answers": {
			check:   v1alpha1.GRPCCheck{Address: mute},
			timeout: 200 * time.Millisecond,
			want:    want{v1alpha1.ResultUnhealthy, "timed out after 200ms"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			check := tc.check
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			got := Run(context.Background(), "grpc", &protocol.CheckConfig{TimeoutMs: ms(timeout), GRPC: &check})
			checkOutcome(t, got, tc.want)
		})
	}
}
