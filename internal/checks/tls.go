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

// The TLS probe is written by hand: blackbox_exporter has no TLS prober of its own (ProbeTCP
// with tls only records the expiry as a gauge) and its bool result would lose the expiry date
// and the days left, which the result must carry and which can make the check degraded.

package checks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// defaultTLSPort is the CRD's default spec.check.tls.port.
const defaultTLSPort = 443

const day = 24 * time.Hour

func probeTLS(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.TLS
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckTLS)
	}
	port := int(c.Port)
	if port == 0 {
		port = defaultTLSPort
	}
	dialer := &tls.Dialer{Config: &tls.Config{ServerName: c.Host}}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if !isDialError(err) {
			err = fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		return finding{}, err
	}
	defer func() { _ = conn.Close() }()

	state := conn.(*tls.Conn).ConnectionState()
	if len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		// Cannot happen with verification on; guard rather than index an empty chain.
		return finding{}, fmt.Errorf("no verified certificate chain from %s", c.Host)
	}
	// The chain stops working when its first certificate expires, be it the leaf or a CA.
	chain := state.VerifiedChains[0]
	expiring := chain[0]
	for _, cert := range chain[1:] {
		if cert.NotAfter.Before(expiring.NotAfter) {
			expiring = cert
		}
	}
	left := time.Until(expiring.NotAfter)
	days := int(left / day)
	f := finding{
		message: fmt.Sprintf("certificate valid until %s (%d days left)",
			expiring.NotAfter.UTC().Format(time.RFC3339), days),
		metadata: map[string]any{
			"notAfter":        expiring.NotAfter.UTC().Format(time.RFC3339),
			"daysUntilExpiry": days,
			"subject":         expiring.Subject.String(),
			"tlsVersion":      tls.VersionName(state.Version),
		},
	}
	if minDays := int(c.MinDaysUntilExpiry); minDays > 0 && left < time.Duration(minDays)*day {
		f.degraded = fmt.Sprintf("fewer than the minimum of %d days", minDays)
	}
	return f, nil
}
