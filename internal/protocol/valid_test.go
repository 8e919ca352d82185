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
	"encoding/json"
	"strings"
	"testing"
)

// FuzzValidJSON checks that validJSON, which Encode trusts to keep invalid configs off the wire,
// agrees with json.Valid on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`{"timeoutMs":1,"http":{"url":"https://a","headers":[{"name":"X","value":"\u00e9\n"}]}}`,
		` [1, -0.5e+10, true, false, null, "", {}, []] `,
		`{"a":01}`, `{"a":1.}`, `{"a":"\x"}`, `{"a" 1}`, `[1,]`, `"\ud800"`, "\"\x01\"",
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// TestValidJSONDepth pins the nesting limit to encoding/json's.
func TestValidJSONDepth(t *testing.T) {
	for _, depth := range []int{maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			end := "]"
			if open != "[" {
				end = "}"
			}
			b := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(end, depth))
			if got, want := validJSON(b), json.Valid(b); got != want {
				t.Errorf("depth %d of %s: validJSON = %v, json.Valid = %v", depth, open, got, want)
			}
		}
	}
}
