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
	"strings"
)

// DecodeError is why a frame or a check config was refused. The hub relays its text to the peer
// and matches it with errors.As, so Reason never contains a field's value: a token must not be
// echoed into logs or back over the wire.
type DecodeError struct {
	// Type is the frame's type; empty when the frame has no usable type, or the type itself is
	// what is wrong (unknown, or sent in the wrong direction).
	Type Type
	// Field is the path of the offending field, such as "executedAt", "result.status" or
	// "assignments[3].intervalSeconds"; empty when the frame as a whole is at fault.
	Field string
	// Reason says what is wrong, for example "is required" or "not an RFC 3339 time".
	Reason string
}

// Error reads like `result: field "executedAt": not an RFC 3339 time`.
func (e *DecodeError) Error() string {
	s := e.Reason
	if e.Field != "" {
		s = "field " + strconv.Quote(e.Field) + ": " + s
	}
	if e.Type != "" {
		s = string(e.Type) + ": " + s
	}
	return s
}

// maxEchoedTypeBytes bounds how much of an unknown type an error repeats.
const maxEchoedTypeBytes = 64

// quoteType quotes a type name that came off the wire for an error, cut to a length that keeps
// logs readable; %q-style quoting also neutralises control characters.
func quoteType(t string) string {
	if len(t) > maxEchoedTypeBytes {
		return strconv.Quote(t[:maxEchoedTypeBytes]) + "..."
	}
	return strconv.Quote(t)
}

// problem turns an error of json.Unmarshal into a DecodeError. encoding/json's own texts quote
// values and name Go types, neither of which a peer should see, so only the offset of a syntax
// error and the path of a type error are kept.
func problem(err error) *DecodeError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &DecodeError{Reason: "not valid JSON: syntax error after " + strconv.FormatInt(se.Offset, 10) + " bytes"}
	case errors.As(err, &te):
		return &DecodeError{Field: te.Field, Reason: typeReason(te)}
	}
	return &DecodeError{Reason: "cannot be decoded"}
}

// typeReason says why encoding/json refused a value: it has another JSON type than the field,
// or it is a number the field cannot hold, which te.Value gives as "number 1.5".
func typeReason(te *json.UnmarshalTypeError) string {
	want := jsonType(te.Type)
	got, number, _ := strings.Cut(te.Value, " ")
	switch {
	case number == "":
		return "must be " + want + ", not " + jsonTypes[got]
	case want == "an integer" && strings.ContainsAny(number, ".eE"):
		return "must be an integer"
	}
	return "is out of range"
}

// jsonTypes names the JSON types, as UnmarshalTypeError.Value gives them, for reasons.
var jsonTypes = map[string]string{
	"object": "an object", "array": "an array", "string": "a string", "number": "a number", "bool": "a boolean",
}

// jsonType names the JSON type that values of the Go type t take.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "an integer" // the remaining kinds of our messages' fields are the integer ones
}

// kindOf names the JSON type of the JSON text v.
func kindOf(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	switch {
	case len(v) == 0:
		return "nothing"
	case v[0] == '{':
		return "an object"
	case v[0] == '[':
		return "an array"
	case v[0] == '"':
		return "a string"
	case v[0] == 't' || v[0] == 'f':
		return "a boolean"
	case v[0] == 'n':
		return "null"
	}
	return "a number"
}
