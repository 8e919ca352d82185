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
	"strconv"
	"testing"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// closedPort is host:port on 127.0.0.1 where nothing listens any more.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// serveTCP accepts connections on l, completes the TLS handshake of TLS listeners, and closes
// them, until l is closed.
func serveTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			if tc, ok := c.(*tls.Conn); ok {
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				_ = tc.Handshake()
			}
			_ = c.Close()
		}()
	}
}

func listenTCP(t *testing.T, cert *tls.Certificate) (host string, port int32) {
	t.Helper()
	return listenTCPOn(t, "127.0.0.1", cert)
}

// listenTCPOn serves on ip, with TLS when cert is set, until the test ends.
func listenTCPOn(t *testing.T, ip string, cert *tls.Certificate) (host string, port int32) {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	t.Cleanup(func() { _ = l.Close() })
	go serveTCP(l)
	return ip, int32(l.Addr().(*net.TCPAddr).Port)
}

func TestRunTCP(t *testing.T) {
	trusted, untrusted := trustedCA.serverCert(t, inDays(90)), untrustedCA.serverCert(t, inDays(90))
	plainHost, plainPort := listenTCP(t, nil)
	tlsHost, tlsPort := listenTCP(t, &trusted)
	badHost, badPort := listenTCP(t, &untrusted)
	refusedHost, refusedPortStr, _ := net.SplitHostPort(closedPort(t))
	refusedPort, _ := strconv.Atoi(refusedPortStr)

	cases := map[string]struct {
		check v1alpha1.TCPCheck
		want  want
	}{
		"open port": {
			check: v1alpha1.TCPCheck{Host: plainHost, Port: plainPort},
			want:  want{v1alpha1.ResultHealthy, "connected to 127.0.0.1:"},
		},
		"closed port": {
			check: v1alpha1.TCPCheck{Host: refusedHost, Port: int32(refusedPort)},
			want:  want{v1alpha1.ResultUnhealthy, "connection refused"},
		},
		"tls with a trusted certificate": {
			check: v1alpha1.TCPCheck{Host: tlsHost, Port: tlsPort, TLS: true},
			want:  want{v1alpha1.ResultHealthy, "with TLS"},
		},
		"tls with an untrusted certificate": {
			check: v1alpha1.TCPCheck{Host: badHost, Port: badPort, TLS: true},
			want:  want{v1alpha1.ResultUnhealthy, "certificate signed by unknown authority"},
		},
		"tls against a plain server": {
			check: v1alpha1.TCPCheck{Host: plainHost, Port: plainPort, TLS: true},
			want:  want{v1alpha1.ResultUnhealthy, "TLS handshake with 127.0.0.1:"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			check := tc.check
			got := Run(context.Background(), "tcp", &protocol.CheckConfig{TimeoutMs: 10000, TCP: &check})
			checkOutcome(t, got, tc.want)
		})
	}
}
