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

package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// The fuzz targets check, for any input: decoding never panics; a refusal is a *DecodeError
// and comes without a message; and whatever decodes re-encodes to a frame that decodes to an
// equal message, so the manager and the agent never disagree about a frame one of them wrote.
// Seeds live in testdata/fuzz/<target>/.

func FuzzDecodeFromSatellite(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRoundTrip(t, protocol.DecodeFromSatellite, data)
	})
}

func FuzzDecodeFromManager(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m := checkRoundTrip(t, protocol.DecodeFromManager, data)
		var as []protocol.Assignment
		switch m := m.(type) {
		case *protocol.Authenticated:
			as = m.Assignments
		case *protocol.ConfigUpdated:
			as = m.Assignments
		case *protocol.ConfigPatch:
			as = m.Assignments
		}
		for i, a := range as {
			if err := a.Validate(); err != nil {
				t.Fatalf("decoded assignment %d fails Validate: %v", i, err)
			}
		}
	})
}

func FuzzDecodeCheckConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := protocol.DecodeCheckConfig(data)
		if err != nil {
			requireDecodeError(t, err)
			if c != nil {
				t.Fatalf("DecodeCheckConfig returned %+v with error %v", c, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded config fails Validate: %v", err)
		}
		// The manager writes configs with encoding/json, which leaves out empty lists.
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("cannot marshal decoded config %+v: %v", c, err)
		}
		c2, err := protocol.DecodeCheckConfig(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("config changed through marshal and decode (-first +second):\n%s", diff)
		}
	})
}

// checkRoundTrip runs the round-trip property of a frame decoder on data and returns what it
// decoded, nil if it refused data.
func checkRoundTrip(t *testing.T, decode func([]byte) (protocol.Message, error), data []byte) protocol.Message {
	t.Helper()
	m, err := decode(data)
	if err != nil {
		requireDecodeError(t, err)
		if m != nil {
			t.Fatalf("decode returned %#v with error %v", m, err)
		}
		return nil
	}
	enc, err := protocol.Encode(m)
	if err != nil {
		t.Fatalf("cannot encode decoded %#v: %v", m, err)
	}
	m2, err := decode(enc)
	if err != nil {
		t.Fatalf("re-decoding %s: %v", enc, err)
	}
	if diff := cmp.Diff(m, m2); diff != "" {
		t.Fatalf("message changed through encode and decode (-first +second):\n%s", diff)
	}
	if enc2, err := protocol.Encode(m2); err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: %s then %s (%v)", enc, enc2, err)
	}
	return m
}

func requireDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *protocol.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is a %T, want a *protocol.DecodeError", err, err)
	}
	if de.Reason == "" {
		t.Fatalf("error %#v has no reason", de)
	}
}
