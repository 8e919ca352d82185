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
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Validate reports, as a *DecodeError whose Field is relative to the assignment, why a peer
// would refuse a: configId, systemId and strategyId must be non-empty and within MaxIDBytes
// (MaxSystemIDBytes for systemId), config must be a JSON object, and intervalSeconds must be
// between 1 and MaxIntervalSeconds. DecodeFromManager applies the same rules to every assignment,
// so the manager can use Validate to keep a bad assignment from breaking a whole push.
func (a Assignment) Validate() error {
	var f fields
	a.check(&f)
	return f.done("")
}

func (a *Assignment) check(f *fields) {
	f.text("configId", &a.ConfigID, MaxIDBytes)
	f.text("systemId", &a.SystemID, MaxSystemIDBytes)
	f.text("strategyId", &a.StrategyID, MaxIDBytes)
	f.check("intervalSeconds", a.IntervalSeconds >= 1 && a.IntervalSeconds <= MaxIntervalSeconds,
		"must be between 1 and "+strconv.Itoa(MaxIntervalSeconds))
	if reason := configProblem(a.Config); reason != "" {
		f.fail("config", reason)
	}
}

// configProblem says why c cannot be an assignment's config, or "" if it can.
func configProblem(c json.RawMessage) string {
	switch {
	case len(bytes.TrimSpace(c)) == 0:
		return "is required"
	case !json.Valid(c):
		return "not valid JSON"
	case kindOf(c) != "an object":
		return "must be an object, not " + kindOf(c)
	case !utf8.Valid(c):
		return "not valid UTF-8"
	}
	return ""
}

// DecodeCheckConfig decodes the config of an assignment relayed by our manager, for the agent.
// Unknown fields are ignored, like in frames; the config must satisfy CheckConfig.Validate.
// Errors are *DecodeError with Field paths under "config", such as "config.http.url".
func DecodeCheckConfig(raw json.RawMessage) (*CheckConfig, error) {
	var c CheckConfig
	err := json.Unmarshal(raw, &c)
	var syntax *json.SyntaxError
	var p *DecodeError
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		p = &DecodeError{Reason: "is required"}
	case errors.As(err, &syntax):
		p = problem(err)
	case kindOf(raw) != "an object":
		p = &DecodeError{Reason: "must be an object, not " + kindOf(raw)}
	case err != nil:
		p = problem(err)
	default:
		if err := c.Validate(); err != nil {
			return nil, err
		}
		return &c, nil
	}
	p.Field = join("config", p.Field)
	return nil, p
}

// Validate reports, as a *DecodeError, why an agent would refuse c: timeoutMs must be positive,
// degradedLatencyMs not negative, and exactly one of the check blocks must be set, since the
// block is what tells the agent which probe to run.
func (c *CheckConfig) Validate() error {
	n := 0
	for _, set := range [...]bool{c.HTTP != nil, c.TCP != nil, c.DNS != nil, c.TLS != nil, c.GRPC != nil, c.ICMP != nil} {
		if set {
			n++
		}
	}
	var f fields
	f.check("config.timeoutMs", c.TimeoutMs > 0, "must be greater than 0")
	f.check("config.degradedLatencyMs", c.DegradedLatencyMs >= 0, "must not be negative")
	f.check("config", n == 1, "must set exactly one of http, tcp, dns, tls, grpc and icmp, not "+strconv.Itoa(n))
	return f.done("")
}

// fields checks the fields of a frame one after another and keeps only the first problem, so a
// check that follows a failed one needs no guard against the zero value the failed one returned.
// The decoders convert a frame's wire struct, whose pointers tell an absent (or null) field from
// an empty one, through it.
type fields struct {
	err *DecodeError
}

func (f *fields) fail(field, reason string) {
	if f.err == nil {
		f.err = &DecodeError{Field: field, Reason: reason}
	}
}

// failIn records p, a problem inside the value at path.
func (f *fields) failIn(path string, p *DecodeError) {
	f.fail(join(path, p.Field), p.Reason)
}

func (f *fields) check(field string, ok bool, reason string) {
	if !ok {
		f.fail(field, reason)
	}
}

// done returns the first problem as one of a frame of type t, or nil.
func (f *fields) done(t Type) error {
	if f.err == nil {
		return nil
	}
	f.err.Type = t
	return f.err
}

// given returns *p, or the zero value and a problem if the field is absent.
func given[T any](f *fields, field string, p *T) T {
	var v T
	if p == nil {
		f.fail(field, "is required")
	} else {
		v = *p
	}
	return v
}

// text returns a string that must be given, not empty, and at most max bytes long.
func (f *fields) text(field string, s *string, max int) string {
	v := given(f, field, s)
	f.check(field, v != "", "must not be empty")
	return f.bounded(field, v, max)
}

func (f *fields) bounded(field, s string, max int) string {
	f.check(field, len(s) <= max, "must be at most "+strconv.Itoa(max)+" bytes")
	return s
}

func (f *fields) nonNegative(field string, n *float64) float64 {
	v := given(f, field, n)
	f.check(field, v >= 0, "must not be negative")
	return v
}

func (f *fields) status(field string, s *v1alpha1.ResultStatus) v1alpha1.ResultStatus {
	v := given(f, field, s)
	f.check(field, v == v1alpha1.ResultHealthy || v == v1alpha1.ResultDegraded || v == v1alpha1.ResultUnhealthy,
		"must be one of healthy, degraded, unhealthy")
	return v
}

// timestamp parses an RFC 3339 time, as Checkstack's satellites write executedAt; time.Time's
// UnmarshalText is as strict as its UnmarshalJSON, minus the quotes.
func (f *fields) timestamp(field string, s *string) time.Time {
	var t time.Time
	v := given(f, field, s)
	f.check(field, t.UnmarshalText([]byte(v)) == nil, "not an RFC 3339 time")
	return t
}

// list checks that the list at field is given and not longer than max; the caller then decodes
// its elements one by one, so that a problem names the element's index.
func (f *fields) list(field string, l []json.RawMessage, max int) bool {
	f.check(field, l != nil, "is required")
	f.check(field, len(l) <= max, "must have at most "+strconv.Itoa(max)+" elements")
	return f.err == nil
}

// join appends field to the path of the value that holds it.
func join(path, field string) string {
	if field == "" {
		return path
	}
	return path + "." + field
}
