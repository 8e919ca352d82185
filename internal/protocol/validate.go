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
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Validate reports, as a *DecodeError whose Field is relative to the assignment, why a peer
// would refuse a: configId, systemId and strategyId must be non-empty and within MaxIDBytes
// (MaxSystemIDBytes for systemId), config must be a JSON object, and intervalSeconds must be
// between 1 and MaxIntervalSeconds. DecodeFromManager applies the same rules to every assignment,
// so the manager can use Validate to keep a bad assignment from breaking a whole push.
func (a Assignment) Validate() error {
	if err := a.check(); err != nil {
		return err
	}
	if !validJSON(a.Config) {
		return &DecodeError{Field: "config", Reason: "not valid JSON"}
	}
	if !utf8.Valid(a.Config) {
		return &DecodeError{Field: "config", Reason: "not valid UTF-8"}
	}
	return nil
}

// intervalRange is why an assignment's intervalSeconds is refused.
var intervalRange = "must be between 1 and " + strconv.Itoa(MaxIntervalSeconds)

// check is Validate without the scans of the config that a decoded assignment has already had.
func (a *Assignment) check() *DecodeError {
	switch {
	case a.ConfigID == "":
		return &DecodeError{Field: "configId", Reason: "must not be empty"}
	case len(a.ConfigID) > MaxIDBytes:
		return &DecodeError{Field: "configId", Reason: tooLong(MaxIDBytes)}
	case a.SystemID == "":
		return &DecodeError{Field: "systemId", Reason: "must not be empty"}
	case len(a.SystemID) > MaxSystemIDBytes:
		return &DecodeError{Field: "systemId", Reason: tooLong(MaxSystemIDBytes)}
	case a.StrategyID == "":
		return &DecodeError{Field: "strategyId", Reason: "must not be empty"}
	case len(a.StrategyID) > MaxIDBytes:
		return &DecodeError{Field: "strategyId", Reason: tooLong(MaxIDBytes)}
	case a.IntervalSeconds < 1 || a.IntervalSeconds > MaxIntervalSeconds:
		return &DecodeError{Field: "intervalSeconds", Reason: intervalRange}
	}
	if c := bytes.TrimSpace(a.Config); len(c) == 0 {
		return &DecodeError{Field: "config", Reason: "is required"}
	} else if c[0] != '{' {
		return &DecodeError{Field: "config", Reason: "must be a JSON object"}
	}
	return nil
}

// DecodeCheckConfig decodes the config of an assignment relayed by our manager, for the agent.
// Unknown fields are ignored, like in frames; the config must satisfy CheckConfig.Validate.
// Errors are *DecodeError with Field paths under "config", such as "config.http.url". Field
// names match as encoding/json matches them, case-insensitively: our manager writes configs
// with encoding/json, and the check blocks are the API's types.
func DecodeCheckConfig(raw json.RawMessage) (*CheckConfig, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, &DecodeError{Field: "config", Reason: "is required"}
	}
	if !json.Valid(trimmed) {
		e := syntaxError(trimmed)
		e.Field = "config"
		return nil, e
	}
	if k := kindOf(trimmed); k != kindObject {
		return nil, &DecodeError{Field: "config", Reason: "must be an object, not " + k.String()}
	}
	var c CheckConfig
	if err := json.Unmarshal(trimmed, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := "config"
			if te.Field != "" {
				field += "." + te.Field
			}
			return nil, &DecodeError{Field: field, Reason: "must be " + describe(te.Type)}
		}
		return nil, &DecodeError{Field: "config", Reason: "cannot be decoded"}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// describe names the JSON a Go type takes, for "must be ..." reasons: the type error of
// encoding/json names Go types and quotes the offending value, neither of which a peer needs.
func describe(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return "an integer that fits " + t.Kind().String()
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return "of another type"
}

// Validate reports, as a *DecodeError, why an agent would refuse c: timeoutMs must be positive,
// degradedLatencyMs not negative, and exactly one of the check blocks must be set, since the
// block is what tells the agent which probe to run.
func (c *CheckConfig) Validate() error {
	if c.TimeoutMs <= 0 {
		return &DecodeError{Field: "config.timeoutMs", Reason: "must be greater than 0"}
	}
	if c.DegradedLatencyMs < 0 {
		return &DecodeError{Field: "config.degradedLatencyMs", Reason: "must not be negative"}
	}
	n := 0
	for _, set := range [...]bool{c.HTTP != nil, c.TCP != nil, c.DNS != nil, c.TLS != nil, c.GRPC != nil, c.ICMP != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return &DecodeError{Field: "config", Reason: "must set exactly one of http, tcp, dns, tls, grpc and icmp, not " + strconv.Itoa(n)}
	}
	return nil
}
