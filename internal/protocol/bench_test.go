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
	"slices"
	"testing"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// benchTypes orders the sub-benchmarks as the protocol table does.
var benchTypes = []protocol.Type{
	protocol.TypeAuthenticate, protocol.TypeHeartbeat, protocol.TypeResult, protocol.TypeStrategyError,
	protocol.TypeAuthenticated, protocol.TypeAuthFailed, protocol.TypeConfigUpdated, protocol.TypeConfigPatch,
	protocol.TypeShutdown, protocol.TypeResultAck,
}

func BenchmarkEncode(b *testing.B) {
	msgs := fixtures()
	for _, typ := range benchTypes {
		m := msgs[typ]
		b.Run(string(typ), func(b *testing.B) {
			b.ReportAllocs()
			data, err := protocol.Encode(m)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := protocol.Encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	msgs := fixtures()
	for _, typ := range benchTypes {
		data, err := protocol.Encode(msgs[typ])
		if err != nil {
			b.Fatal(err)
		}
		decode := decoderFor(typ)
		b.Run(string(typ), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchTypesCoverAll keeps the benchmarks honest when a message type is added.
func TestBenchTypesCoverAll(t *testing.T) {
	for typ := range fixtures() {
		if !slices.Contains(benchTypes, typ) {
			t.Errorf("type %q has no benchmark", typ)
		}
	}
}
