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
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

func TestRunTLS(t *testing.T) {
	expiresSoon := inDays(3)
	soon, later := trustedCA.serverCert(t, expiresSoon), trustedCA.serverCert(t, inDays(90))
	expired := trustedCA.serverCert(t, time.Now().Add(-time.Minute))
	untrusted := untrustedCA.serverCert(t, inDays(90))
	soonHost, soonPort := listenTCP(t, &soon)
	laterHost, laterPort := listenTCP(t, &later)
	expiredHost, expiredPort := listenTCP(t, &expired)
	badHost, badPort := listenTCP(t, &untrusted)
	// The certificates name 127.0.0.1, not 127.0.0.2.
	otherHost, otherPort := listenTCPOn(t, "127.0.0.2", &later)
	plainHost, plainPort := listenTCP(t, nil)
	refusedHost, refusedPortStr, _ := net.SplitHostPort(closedPort(t))
	refusedPort, _ := strconv.Atoi(refusedPortStr)

	cases := map[string]struct {
		check v1alpha1.TLSCheck
		want  want
		days  int
	}{
		"expires within minDaysUntilExpiry": {
			check: v1alpha1.TLSCheck{Host: soonHost, Port: soonPort, MinDaysUntilExpiry: 14},
			want:  want{v1alpha1.ResultDegraded, "(3 days left); fewer than the minimum of 14 days"},
			days:  3,
		},
		"expires after minDaysUntilExpiry": {
			check: v1alpha1.TLSCheck{Host: soonHost, Port: soonPort, MinDaysUntilExpiry: 1},
			want:  want{v1alpha1.ResultHealthy, "(3 days left)"},
			days:  3,
		},
		"no minimum": {
			check: v1alpha1.TLSCheck{Host: soonHost, Port: soonPort},
			want:  want{v1alpha1.ResultHealthy, "(3 days left)"},
			days:  3,
		},
		"long-lived certificate": {
			check: v1alpha1.TLSCheck{Host: laterHost, Port: laterPort, MinDaysUntilExpiry: 14},
			want:  want{v1alpha1.ResultHealthy, "(90 days left)"},
			days:  90,
		},
		"expired certificate": {
			check: v1alpha1.TLSCheck{Host: expiredHost, Port: expiredPort, MinDaysUntilExpiry: 14},
			want:  want{v1alpha1.ResultUnhealthy, "expired"},
		},
		"untrusted certificate": {
			check: v1alpha1.TLSCheck{Host: badHost, Port: badPort, MinDaysUntilExpiry: 14},
			want:  want{v1alpha1.ResultUnhealthy, "certificate signed by unknown authority"},
		},
		"certificate for another name": {
			check: v1alpha1.TLSCheck{Host: otherHost, Port: otherPort},
			want:  want{v1alpha1.ResultUnhealthy, "not 127.0.0.2"},
		},
		"plain server": {
			check: v1alpha1.TLSCheck{Host: plainHost, Port: plainPort},
			want:  want{v1alpha1.ResultUnhealthy, "TLS handshake with 127.0.0.1:"},
		},
		"closed port": {
			check: v1alpha1.TLSCheck{Host: refusedHost, Port: int32(refusedPort)},
			want:  want{v1alpha1.ResultUnhealthy, "connection refused"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			check := tc.check
			got := Run(context.Background(), "tls", &protocol.CheckConfig{TimeoutMs: 10000, TLS: &check})
			checkOutcome(t, got, tc.want)
			if tc.days == 0 {
				return
			}
			if got.Metadata["daysUntilExpiry"] != tc.days {
				t.Errorf("Metadata[daysUntilExpiry] = %v, want %d", got.Metadata["daysUntilExpiry"], tc.days)
			}
			if tc.days == 3 {
				want := expiresSoon.UTC().Truncate(time.Second).Format(time.RFC3339)
				if got.Metadata["notAfter"] != want {
					t.Errorf("Metadata[notAfter] = %v, want %s", got.Metadata["notAfter"], want)
				}
			}
		})
	}
}
