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
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// testZone is what the test DNS server knows. big.example.test does not fit in a UDP answer.
func testZone(t *testing.T) []dns.RR {
	t.Helper()
	lines := []string{
		"example.test. 60 IN A 192.0.2.1",
		"example.test. 60 IN A 192.0.2.2",
		"example.test. 60 IN MX 10 mail.example.test.",
		`example.test. 60 IN TXT "v=spf1 " "-all"`,
		"example.test. 60 IN NS ns1.example.test.",
		"v6.example.test. 60 IN AAAA 2001:db8::1",
		"www.example.test. 60 IN CNAME example.test.",
		"1.2.0.192.in-addr.arpa. 60 IN PTR example.test.",
	}
	for i := range 20 {
		lines = append(lines, fmt.Sprintf(`big.example.test. 60 IN TXT "record %02d %s"`, i, strings.Repeat("x", 40)))
	}
	rrs := make([]dns.RR, 0, len(lines))
	for _, line := range lines {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// serveDNS runs an authoritative server for testZone on 127.0.0.1, over UDP and TCP on one port,
// and returns its address.
func serveDNS(t *testing.T) string {
	t.Helper()
	zone := testZone(t)
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		known := false
		for _, rr := range zone {
			if !strings.EqualFold(rr.Header().Name, q.Name) {
				continue
			}
			known = true
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		if !known {
			m.Rcode = dns.RcodeNameError
		}
		if w.LocalAddr().Network() == "udp" {
			// Sets TC when the answer does not fit, as a real server does.
			m.Truncate(dns.MinMsgSize)
		}
		_ = w.WriteMsg(m)
	})

	pc, l := listenUDPAndTCP(t)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// listenUDPAndTCP listens on one loopback port for UDP and TCP, as a DNS server does. A free UDP
// port may be another process's TCP port (the tests of other packages dial all the time), so a
// taken one is given up for another.
func listenUDPAndTCP(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		lastErr = err
		_ = pc.Close()
	}
	t.Fatalf("no loopback port free for both UDP and TCP: %v", lastErr)
	return nil, nil
}

func TestRunDNS(t *testing.T) {
	server := serveDNS(t)
	// A server that never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()

	cases := map[string]struct {
		check   v1alpha1.DNSCheck
		timeout time.Duration
		want    want
	}{
		"A, any answer": {
			check: v1alpha1.DNSCheck{Name: "example.test"},
			want:  want{v1alpha1.ResultHealthy, "A example.test: 192.0.2.1, 192.0.2.2"},
		},
		"A, expected answers present": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "A", ExpectedAnswers: []string{"192.0.2.2", "192.0.2.1"}},
			want:  want{v1alpha1.ResultHealthy, "192.0.2.1"},
		},
		"A, expected answer missing": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "A", ExpectedAnswers: []string{"192.0.2.1", "192.0.2.9"}},
			want:  want{v1alpha1.ResultUnhealthy, "missing [192.0.2.9] among answers [192.0.2.1 192.0.2.2]"},
		},
		"AAAA compared as addresses": {
			check: v1alpha1.DNSCheck{Name: "v6.example.test", RecordType: "AAAA", ExpectedAnswers: []string{"2001:0db8:0::1"}},
			want:  want{v1alpha1.ResultHealthy, "2001:db8::1"},
		},
		"CNAME without trailing dot": {
			check: v1alpha1.DNSCheck{Name: "www.example.test", RecordType: "CNAME", ExpectedAnswers: []string{"example.test"}},
			want:  want{v1alpha1.ResultHealthy, "example.test."},
		},
		"CNAME with trailing dot": {
			check: v1alpha1.DNSCheck{Name: "www.example.test.", RecordType: "CNAME", ExpectedAnswers: []string{"Example.Test."}},
			want:  want{v1alpha1.ResultHealthy, "example.test."},
		},
		"MX host": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "MX", ExpectedAnswers: []string{"mail.example.test"}},
			want:  want{v1alpha1.ResultHealthy, "mail.example.test."},
		},
		"NS": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "NS", ExpectedAnswers: []string{"ns1.example.test"}},
			want:  want{v1alpha1.ResultHealthy, "ns1.example.test."},
		},
		"PTR": {
			check: v1alpha1.DNSCheck{Name: "1.2.0.192.in-addr.arpa", RecordType: "PTR", ExpectedAnswers: []string{"example.test."}},
			want:  want{v1alpha1.ResultHealthy, "example.test."},
		},
		"TXT strings joined": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "TXT", ExpectedAnswers: []string{"v=spf1 -all"}},
			want:  want{v1alpha1.ResultHealthy, "v=spf1 -all"},
		},
		"TXT is case-sensitive": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "TXT", ExpectedAnswers: []string{"V=SPF1 -ALL"}},
			want:  want{v1alpha1.ResultUnhealthy, "missing [V=SPF1 -ALL]"},
		},
		"truncated answer retried over TCP": {
			check: v1alpha1.DNSCheck{Name: "big.example.test", RecordType: "TXT", ExpectedAnswers: []string{"record 19 " + strings.Repeat("x", 40)}},
			want:  want{v1alpha1.ResultHealthy, "record 00"},
		},
		"no answer": {
			check: v1alpha1.DNSCheck{Name: "v6.example.test", RecordType: "A"},
			want:  want{v1alpha1.ResultUnhealthy, "A v6.example.test: no answer"},
		},
		"NXDOMAIN": {
			check: v1alpha1.DNSCheck{Name: "nothing.example.test"},
			want:  want{v1alpha1.ResultUnhealthy, "A nothing.example.test: NXDOMAIN"},
		},
		"unknown record type": {
			check: v1alpha1.DNSCheck{Name: "example.test", RecordType: "BOGUS"},
			want:  want{v1alpha1.ResultUnhealthy, `unknown record type "BOGUS"`},
		},
		"server does not answer": {
			check:   v1alpha1.DNSCheck{Name: "example.test", Server: silent.LocalAddr().String()},
			timeout: 100 * time.Millisecond,
			want:    want{v1alpha1.ResultUnhealthy, "timed out after 100ms"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			check := tc.check
			if check.Server == "" {
				check.Server = server
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			got := Run(context.Background(), "dns", &protocol.CheckConfig{TimeoutMs: ms(timeout), DNS: &check})
			checkOutcome(t, got, tc.want)
		})
	}
}

func TestDNSServer(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("search example.test\nnameserver 127.0.0.9\nnameserver 127.0.0.10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v6conf := filepath.Join(dir, "resolv6.conf")
	if err := os.WriteFile(v6conf, []byte("nameserver ::1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(empty, []byte("search example.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := map[string]struct {
		configured string
		resolvConf string
		want       string
		wantErr    string
	}{
		"host and port":             {configured: "127.0.0.1:5353", want: "127.0.0.1:5353"},
		"host gets port 53":         {configured: "127.0.0.1", want: "127.0.0.1:53"},
		"IPv6 gets port 53":         {configured: "::1", want: "[::1]:53"},
		"bracketed IPv6":            {configured: "[::1]", want: "[::1]:53"},
		"IPv6 and port":             {configured: "[::1]:5353", want: "[::1]:5353"},
		"first system nameserver":   {resolvConf: conf, want: "127.0.0.9:53"},
		"IPv6 system nameserver":    {resolvConf: v6conf, want: "[::1]:53"},
		"no system nameserver":      {resolvConf: empty, wantErr: "no nameserver"},
		"no system resolver at all": {resolvConf: filepath.Join(dir, "missing"), wantErr: "no system resolver"},
	}
	saved := resolvConf
	defer func() { resolvConf = saved }()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resolvConf = tc.resolvConf
			got, err := dnsServer(tc.configured)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("dnsServer(%q) error = %v, want %q", tc.configured, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("dnsServer(%q) = %q, %v; want %q", tc.configured, got, err, tc.want)
			}
		})
	}
}
