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

package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Dialect is what the assignments of a session look like: our CheckConfig, or Checkstack's
// strategies and collectors. It is told from what the satellite advertises, never guessed.
type Dialect string

// The dialects, as Satellite status.agent.kind shows them.
const (
	// DialectOurs is the agent of this project (cmd/satellite).
	DialectOurs Dialect = "satellite-operator"
	// DialectCheckstack is Checkstack's own satellite agent, or any client that does not
	// advertise CapabilityCheckConfig.
	DialectCheckstack Dialect = "checkstack"
)

// DialectOf returns the dialect of a satellite that advertises caps.
func DialectOf(caps []string) Dialect {
	if slices.Contains(caps, CapabilityCheckConfig) {
		return DialectOurs
	}
	return DialectCheckstack
}

// Checkstack's registry keys, "<pluginId>.<strategyId>" and "<pluginId>.<collectorId>".
const (
	CheckstackHTTP = "healthcheck-http.http"
	CheckstackTCP  = "healthcheck-tcp.tcp"
	CheckstackDNS  = "healthcheck-dns.dns"
	CheckstackTLS  = "healthcheck-tls.tls"
	CheckstackGRPC = "healthcheck-grpc.grpc"
	CheckstackPing = "healthcheck-ping.ping"

	CheckstackHTTPRequest    = "healthcheck-http.request"
	CheckstackDNSLookup      = "healthcheck-dns.lookup"
	CheckstackTLSCertificate = "healthcheck-tls.certificate"
	CheckstackGRPCHealth     = "healthcheck-grpc.health"
	CheckstackPingCollector  = "healthcheck-ping.ping"
)

// The collector instance IDs the manager gives; results are keyed by them.
const (
	collectorRequest     = "request"
	collectorLookup      = "lookup"
	collectorCertificate = "certificate"
	collectorHealth      = "health"
	collectorPing        = "ping"
)

// revisionSeparator joins an assignment's configId and the revision of its Checkstack form.
const revisionSeparator = "@"

// checkstackMethods are the methods Checkstack's HTTP request collector accepts.
var checkstackMethods = []v1alpha1.HTTPMethod{"GET", "POST", "PUT", "DELETE", "HEAD"}

// checkstackRecordTypes are the record types relayed to Checkstack's DNS lookup collector.
var checkstackRecordTypes = []v1alpha1.DNSRecordType{"A", "AAAA", "CNAME", "MX", "NS", "TXT"}

// UnfitError says why a check cannot be relayed to a Checkstack satellite faithfully: run
// there, it would test something else than the spec says, or report healthy without testing.
type UnfitError struct {
	// Field is the spec field, such as "spec.check.http.followRedirects".
	Field string
	// Reason says what Checkstack's satellite cannot do.
	Reason string
}

func (e *UnfitError) Error() string { return e.Field + ": " + e.Reason }

func unfit(field, reason string) (Assignment, error) {
	return Assignment{}, &UnfitError{Field: field, Reason: reason}
}

// ToCheckstack returns a, whose config is cfg, as a Checkstack satellite runs it: the
// strategy ID of Checkstack's plugin, that strategy's config and, where the strategy takes
// them, collectors. Timeouts are in milliseconds, as Checkstack's are. Its configId is a's
// followed by "@" and a revision of the content: Checkstack's satellite keys its timers by
// configId and ignores an edit that keeps it, so every change must name a new one.
//
// It returns an *UnfitError for a check the Checkstack satellite cannot carry faithfully.
func ToCheckstack(a Assignment, cfg *CheckConfig) (Assignment, error) {
	timeout := cfg.TimeoutMs
	out := Assignment{SystemID: a.SystemID, IntervalSeconds: a.IntervalSeconds}
	var config map[string]any
	switch {
	case cfg.HTTP != nil:
		h := cfg.HTTP
		switch {
		case h.FollowRedirects != nil && !*h.FollowRedirects:
			return unfit("spec.check.http.followRedirects", "false is not supported: Checkstack's HTTP request collector always follows redirects")
		case h.InsecureSkipTLSVerify:
			return unfit("spec.check.http.insecureSkipTLSVerify", "not supported: Checkstack's HTTP request collector always verifies certificates")
		case h.Method != "" && !slices.Contains(checkstackMethods, h.Method):
			return unfit("spec.check.http.method", "method "+string(h.Method)+" is not supported by Checkstack's HTTP request collector (GET, POST, PUT, DELETE, HEAD)")
		}
		method := h.Method
		if method == "" {
			method = "GET"
		}
		headers := []map[string]any{}
		for _, hd := range h.Headers {
			if hd.Value == nil {
				return unfit("spec.check.http.headers", "header "+hd.Name+" has no resolved value")
			}
			headers = append(headers, map[string]any{"name": hd.Name, "value": *hd.Value})
		}
		req := map[string]any{"url": h.URL, "method": string(method), "headers": headers, "timeout": timeout}
		if h.Body != "" {
			req["body"] = h.Body
		}
		out.StrategyID, config = CheckstackHTTP, map[string]any{"timeout": timeout}
		out.Collectors = []Collector{{ID: collectorRequest, CollectorID: CheckstackHTTPRequest, Config: req}}
	case cfg.TCP != nil:
		if cfg.TCP.TLS {
			return unfit("spec.check.tcp.tls", "not supported: Checkstack's TCP strategy makes no TLS handshake (use a tls check)")
		}
		out.StrategyID = CheckstackTCP
		config = map[string]any{"timeout": timeout, "host": cfg.TCP.Host, "port": cfg.TCP.Port}
	case cfg.DNS != nil:
		d := cfg.DNS
		if len(d.ExpectedAnswers) > 0 {
			return unfit("spec.check.dns.expectedAnswers", "not supported: Checkstack's DNS lookup collector does not compare answers")
		}
		recordType := d.RecordType
		if recordType == "" {
			recordType = "A"
		}
		if !slices.Contains(checkstackRecordTypes, recordType) {
			return unfit("spec.check.dns.recordType", "record type "+string(recordType)+" is not relayed to Checkstack's DNS lookup collector (A, AAAA, CNAME, MX, NS, TXT)")
		}
		config = map[string]any{"timeout": timeout}
		lookup := map[string]any{"hostname": d.Name, "recordType": string(recordType)}
		if d.Server != "" {
			ns, err := nameserver(d.Server)
			if err != nil {
				return unfit("spec.check.dns.server", err.Error())
			}
			config["nameserver"], lookup["nameserver"] = ns, ns
		}
		out.StrategyID = CheckstackDNS
		out.Collectors = []Collector{{ID: collectorLookup, CollectorID: CheckstackDNSLookup, Config: lookup}}
	case cfg.TLS != nil:
		t := cfg.TLS
		port := t.Port
		if port == 0 {
			port = 443
		}
		out.StrategyID = CheckstackTLS
		config = map[string]any{"timeout": timeout, "host": t.Host, "port": port,
			"minDaysUntilExpiry": t.MinDaysUntilExpiry, "rejectUnauthorized": true}
		out.Collectors = []Collector{{ID: collectorCertificate, CollectorID: CheckstackTLSCertificate, Config: map[string]any{}}}
	case cfg.GRPC != nil:
		g := cfg.GRPC
		host, portText, err := net.SplitHostPort(g.Address)
		port, perr := strconv.Atoi(portText)
		if err != nil || perr != nil || port < 1 || port > 65535 {
			return unfit("spec.check.grpc.address", "Checkstack's gRPC strategy needs host:port with a numeric port")
		}
		out.StrategyID = CheckstackGRPC
		config = map[string]any{"timeout": timeout, "host": host, "port": port, "service": g.Service, "useTls": g.TLS}
		out.Collectors = []Collector{{ID: collectorHealth, CollectorID: CheckstackGRPCHealth, Config: map[string]any{}}}
	case cfg.ICMP != nil:
		out.StrategyID = CheckstackPing
		config = map[string]any{"timeout": timeout}
		out.Collectors = []Collector{{ID: collectorPing, CollectorID: CheckstackPingCollector,
			Config: map[string]any{"host": cfg.ICMP.Host, "count": 1, "timeout": timeout}}}
	default:
		return unfit("spec.check", "no check block")
	}
	raw, err := json.Marshal(config)
	if err != nil {
		return Assignment{}, fmt.Errorf("encoding the Checkstack config: %w", err)
	}
	out.Config = raw
	// The revision covers everything the satellite runs: a changed URL, header value from a
	// Secret, interval or system gives a new configId.
	content, err := json.Marshal(out)
	if err != nil {
		return Assignment{}, fmt.Errorf("encoding the Checkstack assignment: %w", err)
	}
	sum := sha256.Sum256(content)
	out.ConfigID = a.ConfigID + revisionSeparator + hex.EncodeToString(sum[:5])
	return out, nil
}

// nameserver returns the address Checkstack's DNS plugin takes for server (host or host:port),
// which has no port of its own.
func nameserver(server string) (string, error) {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return strings.Trim(server, "[]"), nil // no port: the DNS port
	}
	if port != "53" {
		return "", fmt.Errorf("port %s is not supported: Checkstack's DNS plugin asks nameservers on port 53", port)
	}
	return host, nil
}

// SplitRevision splits the configId of a Checkstack assignment into the assignment's configId
// and the revision; rev is empty for a configId without one.
func SplitRevision(configID string) (base, rev string) {
	base, rev, _ = strings.Cut(configID, revisionSeparator)
	return base, rev
}

// Judgement is the status a result stands for after the manager judged it, and why.
type Judgement struct {
	Status  v1alpha1.ResultStatus
	Message string
}

// JudgeCheckstack judges a result of a Checkstack satellite by the assignment's cfg: that
// satellite reports the raw outcome of its collectors (an HTTP status and body, a
// certificate's remaining days) and never degraded, so the manager applies what the spec asks
// (expectedStatusCodes, bodyRegex, minDaysUntilExpiry, degradedLatency), and the same
// assignment gives the same state from either kind of agent. A run that passed but whose result
// lacks what a condition needs is unhealthy: it must never look healthy untested.
func JudgeCheckstack(cfg *CheckConfig, r *Result) Judgement {
	j := Judgement{Status: r.Status}
	var meta map[string]any
	if r.Result != nil {
		j.Message, meta = r.Result.Message, r.Result.Metadata
	}
	if j.Status == v1alpha1.ResultUnhealthy {
		return j
	}
	switch {
	case cfg.HTTP != nil:
		msg, ok := judgeHTTP(cfg.HTTP, collectorResult(meta, collectorRequest, CheckstackHTTPRequest))
		if !ok {
			return Judgement{Status: v1alpha1.ResultUnhealthy, Message: msg}
		}
		j.Message = msg
	case cfg.TLS != nil:
		res := collectorResult(meta, collectorCertificate, CheckstackTLSCertificate)
		if days, ok := res["daysRemaining"].(float64); ok {
			switch {
			case days <= 0:
				return Judgement{Status: v1alpha1.ResultUnhealthy, Message: "the certificate has expired"}
			case days < float64(cfg.TLS.MinDaysUntilExpiry):
				j.Status = v1alpha1.ResultDegraded
				j.Message = fmt.Sprintf("the certificate expires in %.0f days, sooner than minDaysUntilExpiry (%d)", days, cfg.TLS.MinDaysUntilExpiry)
			}
		}
	}
	latency := 0.0
	if r.LatencyMs != nil {
		latency = *r.LatencyMs
	} else if r.Result != nil {
		latency = r.Result.LatencyMs
	}
	if j.Status == v1alpha1.ResultHealthy && cfg.DegradedLatencyMs > 0 && latency > float64(cfg.DegradedLatencyMs) {
		j.Status = v1alpha1.ResultDegraded
		j.Message = fmt.Sprintf("slower than degradedLatency: %.0f ms > %d ms", latency, cfg.DegradedLatencyMs)
	}
	return j
}

// judgeHTTP checks an HTTP request collector's result against the spec; it returns the outcome
// as a message, and false when the check failed.
func judgeHTTP(h *v1alpha1.HTTPCheck, res map[string]any) (string, bool) {
	code, ok := res["statusCode"].(float64)
	if !ok || code == 0 {
		return "the result carries no HTTP status code to judge", false
	}
	status := int32(code)
	expected := slices.Contains(h.ExpectedStatusCodes, status)
	if len(h.ExpectedStatusCodes) == 0 {
		expected = status >= 200 && status < 300
	}
	if !expected {
		want := "any 2xx"
		if len(h.ExpectedStatusCodes) > 0 {
			want = fmt.Sprint(h.ExpectedStatusCodes)
		}
		return fmt.Sprintf("HTTP %d, expected %s", status, want), false
	}
	if h.BodyRegex != "" {
		re, err := regexp.Compile(h.BodyRegex)
		if err != nil {
			return "bodyRegex does not compile: " + err.Error(), false
		}
		body, ok := res["body"].(string)
		if !ok {
			return fmt.Sprintf("HTTP %d, but the result carries no body to match bodyRegex", status), false
		}
		if !re.MatchString(body) {
			return fmt.Sprintf("HTTP %d, body does not match bodyRegex", status), false
		}
	}
	msg := "HTTP " + strconv.Itoa(int(status))
	if text, ok := res["statusText"].(string); ok && text != "" && len(text) <= 64 {
		msg += " " + text
	}
	return msg, true
}

// collectorResult finds a collector's result in a Checkstack run's metadata: under
// collectors[<instance id>], else the entry whose _collectorId is the collector's, else the
// metadata itself (a strategy that reports its fields flat).
func collectorResult(meta map[string]any, instance, collectorID string) map[string]any {
	collectors, _ := meta["collectors"].(map[string]any)
	if c, ok := collectors[instance].(map[string]any); ok {
		return c
	}
	for _, entry := range collectors {
		if c, ok := entry.(map[string]any); ok {
			if id, _ := c["_collectorId"].(string); id == collectorID || strings.HasSuffix(collectorID, "."+id) {
				return c
			}
		}
	}
	return meta
}
