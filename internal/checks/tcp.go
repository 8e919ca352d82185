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

// The TCP probe uses blackbox_exporter's ProbeTCP: connecting, with an optional verified TLS
// handshake whose server name is the host, is exactly what it does, bounded by the context; the
// reason of a failure, which it only logs, is recovered through failureLog, and latency is
// measured by Run.

package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/prometheus/blackbox_exporter/config"
	"github.com/prometheus/blackbox_exporter/prober"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

func probeTCP(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.TCP
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckTCP)
	}
	target := net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	module := config.Module{
		Prober: "tcp",
		TCP: config.TCPProbe{
			// Prefer IPv4 like most clients, but still reach IPv6-only hosts.
			IPProtocol:         "ip4",
			IPProtocolFallback: true,
			TLS:                c.TLS,
		},
	}
	log := &failureLog{}
	// The prober registers its gauges on the registry; a fresh one per run keeps them from
	// colliding, and nothing reads them.
	if !prober.ProbeTCP(ctx, target, module, prometheus.NewRegistry(), slog.New(log)) {
		err := log.failure("connection to " + target + " failed")
		if c.TLS && !isDialError(err) {
			// A bare "EOF" or "remote error" does not say that the handshake failed.
			err = fmt.Errorf("TLS handshake with %s: %w", target, err)
		}
		return finding{}, err
	}
	f := finding{message: "connected to " + target, metadata: map[string]any{"tls": c.TLS}}
	if c.TLS {
		f.message += " with TLS"
	}
	return f, nil
}

// isDialError reports whether err came from resolving or connecting, before any TLS handshake;
// a read or write error during the handshake is a *net.OpError too, but not of op "dial".
func isDialError(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return (errors.As(err, &opErr) && opErr.Op == "dial") || errors.As(err, &dnsErr)
}
