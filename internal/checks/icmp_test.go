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
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/net/icmp"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestRunICMP pings the loopback addresses. Whether the kernel lets this process open an
// unprivileged ICMP socket depends on net.ipv4.ping_group_range, which the test cannot change,
// so it asks the kernel first and then asserts the branch that applies: an echo reply, or the
// explanation that names the sysctl.
func TestRunICMP(t *testing.T) {
	cases := map[string]struct {
		network string
		host    string
	}{
		"IPv4": {"udp4", "127.0.0.1"},
		"IPv6": {"udp6", "::1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Run(context.Background(), "icmp", &protocol.CheckConfig{TimeoutMs: 5000, ICMP: &v1alpha1.ICMPCheck{Host: tc.host}})

			conn, err := icmp.ListenPacket(tc.network, tc.host)
			switch {
			case err == nil:
				_ = conn.Close()
				checkOutcome(t, got, want{v1alpha1.ResultHealthy, "echo reply from " + tc.host})
				if got.Metadata["ip"] != tc.host {
					t.Errorf("Metadata[ip] = %v, want %s", got.Metadata["ip"], tc.host)
				}
			case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
				t.Logf("unprivileged ICMP is forbidden here (%v): asserting the explanation", err)
				checkOutcome(t, got, want{v1alpha1.ResultUnhealthy, "outside net.ipv4.ping_group_range"})
			case errors.Is(err, syscall.EAFNOSUPPORT), errors.Is(err, syscall.EADDRNOTAVAIL):
				// No IPv6 on this machine at all: the probe must still fail with a message.
				t.Logf("no %s here (%v)", tc.network, err)
				checkOutcome(t, got, want{v1alpha1.ResultUnhealthy, ""})
			default:
				t.Fatalf("icmp.ListenPacket(%s) = %v, an error the test does not expect", tc.network, err)
			}
		})
	}
}

func TestPingSocketError(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"group outside the range": {
			err:  &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("socket", syscall.EACCES)},
			want: "group " + strconv.Itoa(os.Getegid()) + " is outside net.ipv4.ping_group_range",
		},
		"not permitted": {
			err:  &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("socket", syscall.EPERM)},
			want: `sysctl net.ipv4.ping_group_range="0 2147483647"`,
		},
		"no ping sockets in the kernel": {
			err:  &net.OpError{Op: "listen", Net: "udp6", Err: os.NewSyscallError("socket", syscall.EPROTONOSUPPORT)},
			want: "unprivileged ICMP not supported by this kernel",
		},
		"anything else": {
			err:  &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("socket", syscall.EMFILE)},
			want: "open ICMP socket: listen udp4: socket: too many open files",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := pingSocketError(tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("pingSocketError(%v) does not wrap the cause", tc.err)
			}
			if msg := got.Error(); !strings.Contains(msg, tc.want) {
				t.Errorf("pingSocketError(%v) = %q, want it to contain %q", tc.err, msg, tc.want)
			}
		})
	}
}
