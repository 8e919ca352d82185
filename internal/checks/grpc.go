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

// The gRPC probe is written by hand rather than with blackbox_exporter's ProbeGRPC: ProbeGRPC
// calls Check with context.Background(), so the check's timeout would not bound a server that
// accepts the connection but never answers, and it reports a NOT_SERVING answer only as a gauge,
// while the result's message must name the status.

package checks

import (
	"context"
	"crypto/tls"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

func probeGRPC(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.GRPC
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckGRPC)
	}
	creds := insecure.NewCredentials()
	if c.TLS {
		// grpc sets the server name from the address's host and verifies against the system roots.
		creds = credentials.NewTLS(&tls.Config{})
	}
	// A connection per run, like the other probes: the check then also proves that the server
	// still accepts new connections.
	conn, err := grpc.NewClient(c.Address, grpc.WithTransportCredentials(creds))
	if err != nil {
		return finding{}, fmt.Errorf("grpc client for %s: %w", c.Address, err)
	}
	defer func() { _ = conn.Close() }()

	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service})
	if err != nil {
		st := status.Convert(err)
		return finding{metadata: map[string]any{"code": st.Code().String()}},
			fmt.Errorf("health check %s: %s: %s", describeService(c.Service), st.Code(), st.Message())
	}
	serving := resp.GetStatus().String()
	f := finding{message: serving, metadata: map[string]any{"servingStatus": serving}}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return f, fmt.Errorf("%s is %s", describeService(c.Service), serving)
	}
	return f, nil
}

// describeService names the service a health check asked about, for messages.
func describeService(service string) string {
	if service == "" {
		return "server"
	}
	return fmt.Sprintf("service %q", service)
}
