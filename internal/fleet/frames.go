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

package fleet

import (
	"encoding/binary"
	"encoding/json"
	"sync"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// maxSharedFrameBytes bounds what the frame cache holds: past it, the cache starts again empty.
// A fleet whose lists are all different then builds one frame per session, as it would
// without the cache, and holds at most this much for it.
const maxSharedFrameBytes = 16 << 20

// frameCache shares one config_updated frame among the sessions whose lists are equal. Every
// config_updated carries the satellite's whole list: at 10,000 satellites that select the same
// 100 assignments, one change was 10,000 equal frames of 26 KB, each built by its session.
//
// A list is named by its dialect and the revisions of its assignments, in order. A revision
// is fleet-wide, and new whenever an assignment is added or its wire form changes, so an entry
// never goes stale: a changed list has a new name. Entries are dropped all at once, when an assignment changes (no
// list that held it will be asked for again) or when the cache holds too much.
type frameCache struct {
	entries map[string]*sharedFrame
	bytes   int
	key     []byte // the buffer a name is built in, under the fleet's lock
}

// sharedFrame is one list's frame, built once, outside the fleet's lock, by the first session
// that asks; the others wait for it.
type sharedFrame struct {
	once  sync.Once
	list  []json.RawMessage
	frame []byte
}

func (sf *sharedFrame) get() []byte {
	sf.once.Do(func() {
		sf.frame = protocol.ConfigUpdatedFrame(sf.list)
		sf.list = nil
	})
	return sf.frame
}

// reset drops every entry; sessions that hold one still send it.
func (c *frameCache) reset() {
	c.entries, c.bytes = nil, 0
}

// lookupLocked returns the shared frame of sat's list, adding it when it is new.
func (c *frameCache) lookupLocked(sat *satellite) *sharedFrame {
	dialect := string(sat.agent.dialect())
	key := append(append(c.key[:0], byte(len(dialect))), dialect...)
	for _, a := range sat.relayed {
		key = binary.LittleEndian.AppendUint64(key, a.revision)
	}
	c.key = key
	if sf, ok := c.entries[string(key)]; ok {
		return sf
	}
	list := sat.encoded()
	size := 0
	for _, it := range list {
		size += len(it) + 1
	}
	if c.bytes+size > maxSharedFrameBytes {
		c.reset()
	}
	if c.entries == nil {
		c.entries = map[string]*sharedFrame{}
	}
	sf := &sharedFrame{list: list}
	c.entries[string(key)] = sf
	c.bytes += size
	return sf
}
