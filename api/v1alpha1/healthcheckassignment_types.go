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

package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CheckType names the kind of probe a health check runs; on the wire it is the strategyId.
// +kubebuilder:validation:Enum=http;tcp;dns;tls;grpc;icmp
type CheckType string

// The check types.
const (
	CheckHTTP CheckType = "http"
	CheckTCP  CheckType = "tcp"
	CheckDNS  CheckType = "dns"
	CheckTLS  CheckType = "tls"
	CheckGRPC CheckType = "grpc"
	CheckICMP CheckType = "icmp"
)

// HealthCheckAssignmentSpec says which check to run for a system, and on which satellites.
// +kubebuilder:validation:XValidation:rule="has(self.satellites) || has(self.satelliteSelector) || has(self.regions)",message="spec must select satellites: set spec.satellites, spec.satelliteSelector or spec.regions"
type HealthCheckAssignmentSpec struct {
	// system is the name of the system the check watches, for example payments-api; 1 to 253
	// characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	System string `json:"system"`

	// check is the probe to run.
	// +required
	Check CheckSpec `json:"check"`

	// satellites selects satellites of the assignment's namespace by name; at most 256 names of
	// at most 63 characters.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	Satellites []string `json:"satellites,omitempty"`

	// satelliteSelector selects satellites of the assignment's namespace by label. The API server
	// refuses operators other than In, NotIn, Exists and DoesNotExist, In and NotIn without values,
	// and Exists and DoesNotExist with values, as a Deployment's selector does.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="spec.satelliteSelector.matchExpressions: operator must be one of In, NotIn, Exists, DoesNotExist",fieldPath=".matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, !(e.operator in ['In', 'NotIn']) || (has(e.values) && e.values.size() > 0))",message="spec.satelliteSelector.matchExpressions: operators In and NotIn need at least one value",fieldPath=".matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, !(e.operator in ['Exists', 'DoesNotExist']) || !has(e.values) || e.values.size() == 0)",message="spec.satelliteSelector.matchExpressions: operators Exists and DoesNotExist take no values",fieldPath=".matchExpressions"
	SatelliteSelector *metav1.LabelSelector `json:"satelliteSelector,omitempty"`

	// regions selects the satellites of the assignment's namespace whose spec.region is listed;
	// at most 64 regions of at most 63 characters.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	Regions []string `json:"regions,omitempty"`

	// thresholds turn the satellites' results into the assignment's state. Default: each of its
	// fields' defaults.
	// +optional
	// +kubebuilder:default={}
	Thresholds Thresholds `json:"thresholds,omitempty"`

	// paused stops relaying the check to satellites, without deleting it. Default false.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// CheckSpec is one probe: its type, its timing and the block of settings of that type.
// The timeout rule holds only between well-formed durations and an interval that is itself
// valid, so that a typo or a short interval yields one message, not a second one about a
// timeout the user may never have set.
// +kubebuilder:validation:XValidation:rule=`!has(self.timeout) || !has(self.interval) || !self.timeout.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || !self.interval.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self.interval) < duration('5s') || duration(self.timeout) < duration(self.interval)`,message="spec.check.timeout must be less than spec.check.interval",fieldPath=".timeout"
// Each block has two rules, so that the message names the block that is wrong: the type's
// block is missing, or another type's block is set.
// +kubebuilder:validation:XValidation:rule="self.type != 'http' || has(self.http)",message="spec.check.http must be set when spec.check.type is http",fieldPath=".http"
// +kubebuilder:validation:XValidation:rule="!has(self.http) || self.type == 'http'",messageExpression="'spec.check.http must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to http'",fieldPath=".http"
// +kubebuilder:validation:XValidation:rule="self.type != 'tcp' || has(self.tcp)",message="spec.check.tcp must be set when spec.check.type is tcp",fieldPath=".tcp"
// +kubebuilder:validation:XValidation:rule="!has(self.tcp) || self.type == 'tcp'",messageExpression="'spec.check.tcp must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to tcp'",fieldPath=".tcp"
// +kubebuilder:validation:XValidation:rule="self.type != 'dns' || has(self.dns)",message="spec.check.dns must be set when spec.check.type is dns",fieldPath=".dns"
// +kubebuilder:validation:XValidation:rule="!has(self.dns) || self.type == 'dns'",messageExpression="'spec.check.dns must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to dns'",fieldPath=".dns"
// +kubebuilder:validation:XValidation:rule="self.type != 'tls' || has(self.tls)",message="spec.check.tls must be set when spec.check.type is tls",fieldPath=".tls"
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || self.type == 'tls'",messageExpression="'spec.check.tls must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to tls'",fieldPath=".tls"
// +kubebuilder:validation:XValidation:rule="self.type != 'grpc' || has(self.grpc)",message="spec.check.grpc must be set when spec.check.type is grpc",fieldPath=".grpc"
// +kubebuilder:validation:XValidation:rule="!has(self.grpc) || self.type == 'grpc'",messageExpression="'spec.check.grpc must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to grpc'",fieldPath=".grpc"
// +kubebuilder:validation:XValidation:rule="self.type != 'icmp' || has(self.icmp)",message="spec.check.icmp must be set when spec.check.type is icmp",fieldPath=".icmp"
// +kubebuilder:validation:XValidation:rule="!has(self.icmp) || self.type == 'icmp'",messageExpression="'spec.check.icmp must not be set when spec.check.type is ' + self.type + ': remove it, or set spec.check.type to icmp'",fieldPath=".icmp"
type CheckSpec struct {
	// type is the kind of probe: http, tcp, dns, tls, grpc or icmp; exactly the block of the same
	// name must be set.
	// +required
	Type CheckType `json:"type"`

	// interval is how often each satellite runs the check, a duration such as 30s or 1m30s
	// (units ms, s, m, h). Default 30s; at least 5s.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$')`,message="must be a duration such as 30s"
	// +kubebuilder:validation:XValidation:rule=`!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('5s')`,message="spec.check.interval must be at least 5s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// timeout bounds one run of the check, a duration such as 10s. Default 10s; above 0 and
	// less than the interval.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$')`,message="must be a duration such as 30s"
	// +kubebuilder:validation:XValidation:rule=`!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) > duration('0s')`,message="spec.check.timeout must be positive"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// http is an HTTP(S) request and what its answer must be.
	// +optional
	HTTP *HTTPCheck `json:"http,omitempty"`
	// tcp is a TCP connection, optionally with a TLS handshake.
	// +optional
	TCP *TCPCheck `json:"tcp,omitempty"`
	// dns is a DNS query and the answers it must return.
	// +optional
	DNS *DNSCheck `json:"dns,omitempty"`
	// tls is a TLS handshake and the remaining validity of the certificate.
	// +optional
	TLS *TLSCheck `json:"tls,omitempty"`
	// grpc is a call of the standard gRPC health service.
	// +optional
	GRPC *GRPCCheck `json:"grpc,omitempty"`
	// icmp is an ICMP echo (ping).
	// +optional
	ICMP *ICMPCheck `json:"icmp,omitempty"`
}

// Defaults of a check's timing, as the API server applies them.
const (
	DefaultCheckInterval = 30 * time.Second
	DefaultCheckTimeout  = 10 * time.Second
)

// IntervalDuration returns spec.check.interval, or its default when unset.
func (c *CheckSpec) IntervalDuration() time.Duration {
	if c.Interval == nil {
		return DefaultCheckInterval
	}
	return c.Interval.Duration
}

// TimeoutDuration returns spec.check.timeout, or its default when unset.
func (c *CheckSpec) TimeoutDuration() time.Duration {
	if c.Timeout == nil {
		return DefaultCheckTimeout
	}
	return c.Timeout.Duration
}

// HTTPMethod is an HTTP request method.
// +kubebuilder:validation:Enum=GET;HEAD;POST;PUT;PATCH;DELETE;OPTIONS
type HTTPMethod string

// HTTPCheck is an HTTP(S) request and what its answer must be.
type HTTPCheck struct {
	// url is the address to request, http:// or https://; at most 2048 characters.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	URL string `json:"url"`

	// method is the request method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS. Default GET.
	// +optional
	// +kubebuilder:default=GET
	Method HTTPMethod `json:"method,omitempty"`

	// headers are added to the request; a value may come from a Secret. At most 32, with unique
	// names.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Headers []HTTPHeader `json:"headers,omitempty"`

	// body is sent with the request; at most 16384 bytes. Default empty.
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	Body string `json:"body,omitempty"`

	// expectedStatusCodes are the status codes that pass, each 100 to 599, at most 32; empty (the
	// default) means any 2xx.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Minimum=100
	// +kubebuilder:validation:items:Maximum=599
	ExpectedStatusCodes []int32 `json:"expectedStatusCodes,omitempty"`

	// bodyRegex is a regular expression (RE2) the response body must match; at most 1024
	// characters. Default empty: any body passes.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	BodyRegex string `json:"bodyRegex,omitempty"`

	// followRedirects follows 3xx answers. Default true.
	// +optional
	// +kubebuilder:default=true
	FollowRedirects *bool `json:"followRedirects,omitempty"`

	// insecureSkipTLSVerify turns off the verification of the server's certificate. Default false.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
}

// HTTPHeader is one request header, with a literal value or one from a Secret.
// +kubebuilder:validation:XValidation:rule="has(self.value) != has(self.valueFrom)",message="exactly one of value and valueFrom must be set"
type HTTPHeader struct {
	// name is the header name, 1 to 256 token characters (RFC 9110).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	Name string `json:"name"`

	// value is the literal header value, at most 4096 characters; exactly one of value and
	// valueFrom is set.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value *string `json:"value,omitempty"`

	// valueFrom takes the value from a Secret, resolved by the manager when it relays the check.
	// +optional
	ValueFrom *HeaderValueSource `json:"valueFrom,omitempty"`
}

// HeaderValueSource is where a header value comes from.
type HeaderValueSource struct {
	// secretKeyRef is a key of a Secret in the assignment's namespace. The Secret must carry the
	// label satellite.checkstack.io/check-secret: "true", its owner's consent to checks reading it,
	// and must not be a Satellite's token Secret; otherwise the check is not relayed (Ready is
	// False with reason SecretNotPermitted).
	// +required
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// SecretKeySelector names one key of a Secret in the same namespace.
type SecretKeySelector struct {
	// name is the name of the Secret, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key is the key in the Secret's data, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// TCPCheck is a TCP connection, optionally followed by a TLS handshake.
type TCPCheck struct {
	// host is the host name or IP address to connect to, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`
	// port is the TCP port, 1 to 65535.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// tls performs a TLS handshake after connecting, verifying the certificate. Default false.
	// +optional
	TLS bool `json:"tls,omitempty"`
}

// DNSRecordType is a DNS record type.
// +kubebuilder:validation:Enum=A;AAAA;CNAME;MX;NS;TXT;SRV;PTR;SOA
type DNSRecordType string

// DNSCheck is a DNS query and the answers it must return.
type DNSCheck struct {
	// name is the name to resolve, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// recordType is the type of record to ask for: A, AAAA, CNAME, MX, NS, TXT, SRV, PTR or SOA.
	// Default A.
	// +optional
	// +kubebuilder:default=A
	RecordType DNSRecordType `json:"recordType,omitempty"`
	// server is the resolver to ask, host:port, at most 261 characters; empty (the default) means
	// the satellite's system resolver.
	// +optional
	// +kubebuilder:validation:MaxLength=261
	Server string `json:"server,omitempty"`
	// expectedAnswers must each be among the answers, at most 32 of at most 512 characters; empty
	// (the default) means any answer passes.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=512
	ExpectedAnswers []string `json:"expectedAnswers,omitempty"`
}

// TLSCheck is a TLS handshake and the remaining validity of the server's certificate.
type TLSCheck struct {
	// host is the host name to connect to, 1 to 253 characters; it is also the server name
	// verified.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`
	// port is the TCP port, 1 to 65535. Default 443.
	// +optional
	// +kubebuilder:default=443
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// minDaysUntilExpiry: a certificate that expires sooner makes the check degraded; 0 to 3650
	// days. Default 14.
	// +optional
	// +kubebuilder:default=14
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3650
	MinDaysUntilExpiry int32 `json:"minDaysUntilExpiry,omitempty"`
}

// GRPCCheck is a call of the standard gRPC health service (grpc.health.v1.Health/Check).
type GRPCCheck struct {
	// address is host:port of the gRPC server, 1 to 261 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=261
	Address string `json:"address"`
	// service is the service name to ask about, at most 253 characters; empty (the default) asks
	// about the server as a whole.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Service string `json:"service,omitempty"`
	// tls connects with TLS, verifying the certificate. Default false.
	// +optional
	TLS bool `json:"tls,omitempty"`
}

// ICMPCheck is an ICMP echo request.
type ICMPCheck struct {
	// host is the host name or IP address to ping, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`
}

// Thresholds turn the satellites' results into the assignment's state.
type Thresholds struct {
	// degradedLatency: a successful check slower than this is degraded; a duration such as
	// 500ms. Unset: no check is degraded for its latency.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$')`,message="must be a duration such as 30s"
	DegradedLatency *metav1.Duration `json:"degradedLatency,omitempty"`

	// failureThreshold is how many failures in a row make a satellite see the check unhealthy;
	// 1 to 100. Default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	FailureThreshold int32 `json:"failureThreshold,omitempty"`

	// successThreshold is how many successes in a row make an unhealthy satellite see it healthy
	// again; 1 to 100. Default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	SuccessThreshold int32 `json:"successThreshold,omitempty"`

	// quorum is how many satellites must see the check unhealthy before the system is Unhealthy;
	// fewer make it Degraded. 1 to 256; default 1. Only reporting satellites count: a quorum above
	// their number means all of them.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=256
	Quorum int32 `json:"quorum,omitempty"`
}

// CheckState is the aggregate state of an assignment over its satellites.
// +kubebuilder:validation:Enum=Healthy;Degraded;Unhealthy;Unknown;Paused
type CheckState string

// The aggregate states.
const (
	CheckHealthy   CheckState = "Healthy"
	CheckDegraded  CheckState = "Degraded"
	CheckUnhealthy CheckState = "Unhealthy"
	CheckUnknown   CheckState = "Unknown"
	// CheckPaused is the state of an assignment whose spec.paused stops it: not "no data yet".
	CheckPaused CheckState = "Paused"
)

// ResultStatus is the outcome of one run of a check, as the wire protocol names it.
// +kubebuilder:validation:Enum=healthy;degraded;unhealthy
type ResultStatus string

// The result statuses.
const (
	ResultHealthy   ResultStatus = "healthy"
	ResultDegraded  ResultStatus = "degraded"
	ResultUnhealthy ResultStatus = "unhealthy"
)

// SatelliteCheckStatus is what one satellite last saw of the check.
type SatelliteCheckStatus struct {
	// name is the satellite's name.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// region is the satellite's spec.region.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Region string `json:"region,omitempty"`
	// status is the satellite's view after the failure and success thresholds; empty until it reports.
	// +optional
	Status ResultStatus `json:"status,omitempty"`
	// latencyMs is the latency of the last run, in milliseconds.
	// +optional
	LatencyMs int64 `json:"latencyMs,omitempty"`
	// message says what the last run saw.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// lastRunAt is when the satellite ran the check last, by the satellite's clock.
	// +optional
	LastRunAt *metav1.Time `json:"lastRunAt,omitempty"`
	// consecutiveFailures is how many runs in a row failed.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`
	// consecutiveSuccesses is how many runs in a row passed.
	// +optional
	ConsecutiveSuccesses int32 `json:"consecutiveSuccesses,omitempty"`
	// offline is true while the Satellite is Offline: its view does not count towards the state.
	// +optional
	Offline bool `json:"offline,omitempty"`
	// stale is true when the manager took the satellite's last result more than three intervals
	// ago (at least 2 minutes): its view does not count towards the state.
	// +optional
	Stale bool `json:"stale,omitempty"`
}

// CheckSummary counts satellites by their view of a check.
type CheckSummary struct {
	// healthy is how many satellites see the check healthy.
	// +optional
	Healthy int32 `json:"healthy"`
	// degraded is how many see it degraded.
	// +optional
	Degraded int32 `json:"degraded"`
	// unhealthy is how many see it unhealthy.
	// +optional
	Unhealthy int32 `json:"unhealthy"`
	// unknown is how many have not reported a result that decides their view.
	// +optional
	Unknown int32 `json:"unknown"`
	// offline is how many are Offline; they are in none of the counts above, and the quorum does
	// not count them.
	// +optional
	Offline int32 `json:"offline"`
	// stale is how many are Online but sent no result for three intervals (at least 2 minutes);
	// they are in none of the counts above, and the quorum does not count them.
	// +optional
	Stale int32 `json:"stale"`
}

// RegionCheckSummary counts the satellites of one region by their view of a check.
type RegionCheckSummary struct {
	// region is the satellites' spec.region.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Region       string `json:"region"`
	CheckSummary `json:",inline"`
}

// HealthCheckAssignmentStatus is the observed state of the check across its satellites.
type HealthCheckAssignmentStatus struct {
	// state aggregates the reporting satellites' views with the quorum; Paused while
	// spec.paused, Unknown while no satellite reports (the Ready condition says why).
	// +optional
	State CheckState `json:"state,omitempty"`
	// selectedSatellites is how many satellites the assignment selects.
	// +optional
	// +kubebuilder:default=0
	SelectedSatellites int32 `json:"selectedSatellites"`
	// reportingSatellites is how many of them count towards the state: the selected satellites
	// that are neither Offline nor stale.
	// +optional
	// +kubebuilder:default=0
	ReportingSatellites int32 `json:"reportingSatellites"`
	// summary counts the selected satellites by their view of the check, so that the status
	// stays small at any selection size. Every satellite's detail is in the manager's metrics.
	// +optional
	Summary *CheckSummary `json:"summary,omitempty"`
	// regions counts the selected satellites of each region by their view, sorted by region;
	// at most 256 regions are listed, see regionsTruncated.
	// +optional
	// +listType=map
	// +listMapKey=region
	// +kubebuilder:validation:MaxItems=256
	Regions []RegionCheckSummary `json:"regions,omitempty"`
	// regionsTruncated is true when the selected satellites span more regions than listed.
	// +optional
	RegionsTruncated bool `json:"regionsTruncated,omitempty"`
	// satellites holds the latest view of each selected satellite that does not see the check
	// healthy (unhealthy, degraded, or not reported yet), sorted by name, at most 100; healthy
	// satellites are only counted, in summary and regions. (Before v0.2 it listed every
	// selected satellite, up to 1024.)
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	Satellites []SatelliteCheckStatus `json:"satellites,omitempty"`
	// satellitesTruncated is true when more satellites than listed do not see the check healthy.
	// +optional
	SatellitesTruncated bool `json:"satellitesTruncated,omitempty"`
	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are the assignment's Ready condition.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hca,categories=checkstack
// +kubebuilder:printcolumn:name="System",type=string,JSONPath=`.spec.system`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.check.type`
// +kubebuilder:printcolumn:name="Interval",type=string,JSONPath=`.spec.check.interval`
// +kubebuilder:printcolumn:name="Satellites",type=integer,JSONPath=`.status.selectedSatellites`
// +kubebuilder:printcolumn:name="Reporting",type=integer,JSONPath=`.status.reportingSatellites`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// HealthCheckAssignment is one health check of one system, run by a chosen set of satellites.
type HealthCheckAssignment struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the check and the satellites that run it.
	// +required
	Spec HealthCheckAssignmentSpec `json:"spec"`
	// status is the check's observed state.
	// +optional
	Status HealthCheckAssignmentStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HealthCheckAssignmentList is a list of HealthCheckAssignments.
type HealthCheckAssignmentList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the HealthCheckAssignments.
	Items []HealthCheckAssignment `json:"items"`
}
