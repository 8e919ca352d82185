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

// The ICMP probe is written by hand rather than with blackbox_exporter's ProbeICMP: ProbeICMP
// falls back to a raw socket when the unprivileged one is refused, so it would quietly depend on
// root or CAP_NET_RAW, and the refusal would then be reported as the raw socket's error instead
// of naming the sysctl to change. It also reports only a bool, while the result carries the
// address that answered.

package checks

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// pingGroupRange is the sysctl that lets groups open unprivileged ICMP sockets, for both IPv4
// and IPv6.
const pingGroupRange = "/proc/sys/net/ipv4/ping_group_range"

// icmpSeq numbers echo requests, so that a late reply to an earlier run is not taken for this
// run's.
var icmpSeq atomic.Uint32

func probeICMP(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.ICMP
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckICMP)
	}
	ip, err := resolveIP(ctx, c.Host)
	if err != nil {
		return finding{}, err
	}

	// "udp4"/"udp6" are the kernel's unprivileged ping sockets, not UDP: the kernel picks the
	// echo ID and delivers to this socket only the replies to it.
	network, listen, proto := "udp4", "0.0.0.0", 1
	var request, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if ip.IP.To4() == nil {
		network, listen, proto = "udp6", "::", 58
		request, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	conn, err := icmp.ListenPacket(network, listen)
	if err != nil {
		return finding{}, pingSocketError(err)
	}
	defer func() { _ = conn.Close() }()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// A cancelled parent context ends the wait too, not only the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	payload := make([]byte, 16)
	_, _ = rand.Read(payload)
	echo := &icmp.Echo{Seq: int(uint16(icmpSeq.Add(1))), Data: payload}
	wire, err := (&icmp.Message{Type: request, Body: echo}).Marshal(nil)
	if err != nil {
		return finding{}, fmt.Errorf("build echo request: %w", err)
	}
	start := time.Now()
	if _, err := conn.WriteTo(wire, &net.UDPAddr{IP: ip.IP, Zone: ip.Zone}); err != nil {
		return finding{}, fmt.Errorf("send echo request to %s: %w", ip, err)
	}

	buf := make([]byte, 1500)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return finding{}, fmt.Errorf("no echo reply from %s: %w", ip, err)
		}
		msg, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || msg.Type != reply {
			continue
		}
		if got, ok := msg.Body.(*icmp.Echo); ok && got.Seq == echo.Seq && bytes.Equal(got.Data, payload) {
			rtt := time.Since(start)
			return finding{
				message:  fmt.Sprintf("echo reply from %s in %v", ip, rtt.Round(time.Microsecond)),
				metadata: map[string]any{"ip": ip.String(), "rttMs": float64(rtt.Microseconds()) / 1000},
			}, nil
		}
	}
}

// resolveIP picks the address to ping, IPv4 first like the other probes.
func resolveIP(ctx context.Context, host string) (*net.IPAddr, error) {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		if addrs[i].IP.To4() != nil {
			return &addrs[i], nil
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no address", host)
	}
	return &addrs[0], nil
}

// pingSocketError explains a refused unprivileged ICMP socket: the kernel's own error
// ("socket: permission denied") does not say that a sysctl decides it.
func pingSocketError(err error) error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		current := "unknown"
		if b, rerr := os.ReadFile(pingGroupRange); rerr == nil {
			current = strings.Join(strings.Fields(string(b)), " ")
		}
		return fmt.Errorf("unprivileged ICMP not permitted: group %d is outside net.ipv4.ping_group_range (%q); "+
			"widen it, e.g. sysctl net.ipv4.ping_group_range=\"0 2147483647\" (%w)", os.Getegid(), current, err)
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.EAFNOSUPPORT):
		return fmt.Errorf("unprivileged ICMP not supported by this kernel (%w)", err)
	default:
		return fmt.Errorf("open ICMP socket: %w", err)
	}
}
