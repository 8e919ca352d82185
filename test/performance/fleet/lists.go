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

package main

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"sync"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// maxParsedLists bounds the lists a listCache keeps; past it, it starts again empty.
const maxParsedLists = 64

// listCache parses each distinct config_updated frame once for the whole swarm. The manager
// sends equal lists to many satellites (10,000 frames of 26 KB for one change of the bench's
// 100 assignments), and parsing each again cost the swarm more CPU than the manager spent
// sending them, on the same cores as the manager and the API server. A real fleet parses on
// its own machines, so this keeps the swarm's cost out of what is measured. Every frame is
// still read whole from its connection, and compared byte for byte with the one parsed.
type listCache struct {
	seed    maphash.Seed
	mu      sync.Mutex
	entries map[uint64]parsedList
}

type parsedList struct {
	frame []byte
	list  []protocol.Assignment // configId and systemId only: what applyList reads
}

func newListCache() *listCache { return &listCache{seed: maphash.MakeSeed()} }

// parse returns the assignments of a config_updated frame, or ok false for another frame or one
// that does not decode.
func (lc *listCache) parse(frame []byte) (list []protocol.Assignment, ok bool) {
	sum := maphash.Bytes(lc.seed, frame)
	lc.mu.Lock()
	e, hit := lc.entries[sum]
	lc.mu.Unlock()
	if hit && bytes.Equal(e.frame, frame) {
		return e.list, true
	}
	var m struct {
		Type        protocol.Type `json:"type"`
		Assignments []struct {
			ConfigID string `json:"configId"`
			SystemID string `json:"systemId"`
		} `json:"assignments"`
	}
	if json.Unmarshal(frame, &m) != nil || m.Type != protocol.TypeConfigUpdated {
		return nil, false
	}
	list = make([]protocol.Assignment, len(m.Assignments))
	for i, a := range m.Assignments {
		list[i] = protocol.Assignment{ConfigID: a.ConfigID, SystemID: a.SystemID}
	}
	lc.mu.Lock()
	if len(lc.entries) >= maxParsedLists || lc.entries == nil {
		lc.entries = map[uint64]parsedList{}
	}
	lc.entries[sum] = parsedList{frame: bytes.Clone(frame), list: list}
	lc.mu.Unlock()
	return list, true
}
