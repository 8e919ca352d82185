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

import "strconv"

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
	n := len(e.Type) + len(e.Field) + len(e.Reason) + 12
	b := make([]byte, 0, n)
	if e.Type != "" {
		b = append(b, e.Type...)
		b = append(b, ": "...)
	}
	if e.Field != "" {
		b = append(b, "field "...)
		b = strconv.AppendQuote(b, e.Field)
		b = append(b, ": "...)
	}
	b = append(b, e.Reason...)
	return string(b)
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
