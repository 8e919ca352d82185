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

// The DNS probe is written by hand with miekg/dns rather than with blackbox_exporter's ProbeDNS:
// ProbeDNS matches regular expressions against whole records and returns only a bool, so it
// could neither compare answers by value (an IP, a name with or without its trailing dot, the
// joined strings of a TXT record) nor say which expected answer is missing and what came back.

package checks

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// resolvConf is where the system resolver is configured; a variable so that tests can point it
// at a file of their own.
var resolvConf = "/etc/resolv.conf"

// answer is one answer record reduced to the value a user writes in expectedAnswers.
type answer struct {
	rrtype uint16
	value  string
}

func probeDNS(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.DNS
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckDNS)
	}
	recordType := string(c.RecordType)
	if recordType == "" {
		recordType = "A"
	}
	qtype, ok := dns.StringToType[strings.ToUpper(recordType)]
	if !ok {
		return finding{}, fmt.Errorf("unknown record type %q", recordType)
	}
	server, err := dnsServer(c.Server)
	if err != nil {
		return finding{}, err
	}

	query := new(dns.Msg)
	query.SetQuestion(dns.Fqdn(c.Name), qtype)
	client := &dns.Client{Net: "udp"}
	// miekg/dns applies its own 2 s read timeout unless Timeout is set; the check's timeout is
	// the only limit the user chose.
	if deadline, ok := ctx.Deadline(); ok {
		client.Timeout = time.Until(deadline)
	}
	resp, _, err := client.ExchangeContext(ctx, query, server)
	if err == nil && resp.Truncated {
		// The full answer needs TCP, as a stub resolver would retry.
		client.Net = "tcp"
		resp, _, err = client.ExchangeContext(ctx, query, server)
	}
	if err != nil {
		return finding{}, fmt.Errorf("query %s %s at %s: %w", recordType, c.Name, server, err)
	}

	rcode := dns.RcodeToString[resp.Rcode]
	metadata := map[string]any{"rcode": rcode, "server": server}
	if resp.Rcode != dns.RcodeSuccess {
		return finding{metadata: metadata}, fmt.Errorf("%s %s: %s", recordType, c.Name, rcode)
	}
	answers := make([]answer, 0, len(resp.Answer))
	values := make([]string, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		a := answerOf(rr)
		answers = append(answers, a)
		values = append(values, a.value)
	}
	metadata["answers"] = values
	f := finding{message: fmt.Sprintf("%s %s: %s", recordType, c.Name, strings.Join(values, ", ")), metadata: metadata}
	if len(answers) == 0 {
		return f, fmt.Errorf("%s %s: no answer", recordType, c.Name)
	}
	var missing []string
	for _, want := range c.ExpectedAnswers {
		if !slices.ContainsFunc(answers, func(a answer) bool { return a.matches(want) }) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return f, fmt.Errorf("%s %s: missing %v among answers %v", recordType, c.Name, missing, values)
	}
	return f, nil
}

// dnsServer is host:port of the server to ask: the configured one, port 53 by default, or else
// the first nameserver of the system resolver.
func dnsServer(configured string) (string, error) {
	if configured == "" {
		rc, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return "", fmt.Errorf("no server set and no system resolver: %w", err)
		}
		if len(rc.Servers) == 0 {
			return "", fmt.Errorf("no server set and no nameserver in %s", resolvConf)
		}
		return net.JoinHostPort(rc.Servers[0], rc.Port), nil
	}
	if _, _, err := net.SplitHostPort(configured); err == nil {
		return configured, nil
	}
	// A bare host, or an IPv6 address without brackets.
	return net.JoinHostPort(strings.Trim(configured, "[]"), "53"), nil
}

// answerOf reduces rr to the value users expect to write: the address, the target name, the mail
// host, or the joined strings of a TXT record.
func answerOf(rr dns.RR) answer {
	a := answer{rrtype: rr.Header().Rrtype}
	switch r := rr.(type) {
	case *dns.A:
		a.value = r.A.String()
	case *dns.AAAA:
		a.value = r.AAAA.String()
	case *dns.CNAME:
		a.value = r.Target
	case *dns.NS:
		a.value = r.Ns
	case *dns.PTR:
		a.value = r.Ptr
	case *dns.MX:
		a.value = r.Mx
	case *dns.SRV:
		a.value = r.Target
	case *dns.SOA:
		a.value = r.Ns
	case *dns.TXT:
		a.value = strings.Join(r.Txt, "")
	default:
		// The record's data as in a zone file.
		a.value = strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	return a
}

// matches reports whether the user's expected value names this answer.
func (a answer) matches(want string) bool {
	switch a.rrtype {
	case dns.TypeA, dns.TypeAAAA:
		// Compare addresses, not spellings: "::1" and "0::1" are one address.
		got, exp := net.ParseIP(a.value), net.ParseIP(want)
		return got != nil && exp != nil && got.Equal(exp)
	case dns.TypeTXT:
		return a.value == want
	default:
		// Names are case-insensitive and the trailing dot of a fully qualified name is optional.
		return strings.EqualFold(strings.TrimSuffix(a.value, "."), strings.TrimSuffix(want, "."))
	}
}
