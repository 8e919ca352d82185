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

// frameCache shares one config_updated frame among the sessions whose lists are equal, and one
// config_patch among the sessions that go from one list to the same next one. Every
// config_updated carries the satellite's whole list: at 10,000 satellites that select the same
// 100 assignments, one change was 10,000 equal frames of 26 KB, each built by its session.
//
// A list is named by its dialect and the revisions of its assignments, in order. A revision
// is fleet-wide, and new whenever an assignment is added or its wire form changes, so an entry
// never goes stale: a changed list has a new name. Entries are dropped all at once, when an
// assignment changes (no list that held it will be asked for again) or when the cache holds
// too much.
type frameCache struct {
	entries map[string]*sharedFrame
	// patches are keyed by the list a session holds and the list it is to hold.
	patches map[[2]*sentList]*sharedFrame
	bytes   int
	key     []byte // the buffer a name is built in, under the fleet's lock
}

// sharedFrame is one frame, built once, outside the fleet's lock, by the first session that
// asks; the others wait for it.
type sharedFrame struct {
	once  sync.Once
	build func() []byte // set until the frame is built
	frame []byte
	// sent is the list a session holds once it has been sent this full list, for the patches
	// that start from it; nil until a session that takes patches asks.
	sent *sentList
}

func (sf *sharedFrame) get() []byte {
	sf.once.Do(func() {
		sf.frame = sf.build()
		sf.build = nil
	})
	return sf.frame
}

// sentList is a list as a session that takes patches was last sent it: the configIds, sorted,
// and the revision of each. Sessions sent equal lists share one.
type sentList struct {
	ids  []string
	revs []uint64
}

// sentLocked returns the list that sat, whose list this full frame is, holds once sent it.
func (sf *sharedFrame) sentLocked(sat *satellite) *sentList {
	if sf.sent == nil {
		l := &sentList{ids: make([]string, len(sat.relayed)), revs: make([]uint64, len(sat.relayed))}
		for i, a := range sat.relayed {
			l.ids[i], l.revs[i] = a.Wire.ConfigID, a.revision
		}
		sf.sent = l
	}
	return sf.sent
}

// reset drops every entry; sessions that hold one still send it.
func (c *frameCache) reset() {
	c.entries, c.patches, c.bytes = nil, nil, 0
}

// room makes room for size more bytes, starting again empty when the cache would hold too much.
func (c *frameCache) room(size int) {
	if c.bytes+size > maxSharedFrameBytes {
		c.reset()
	}
	c.bytes += size
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
	c.room(size)
	if c.entries == nil {
		c.entries = map[string]*sharedFrame{}
	}
	sf := &sharedFrame{build: func() []byte { return protocol.ConfigUpdatedFrame(list) }}
	c.entries[string(key)] = sf
	return sf
}

// patchLocked returns the config_patch that takes a session of sat from the list from to sat's
// list to (the sentList of its full frame), or nil when the patch would carry as many
// assignments as the full list: then the full list is sent. Both lists are sorted by configId,
// so one walk over them finds what was added, replaced (a new revision) and removed.
func (c *frameCache) patchLocked(from, to *sentList, sat *satellite) *sharedFrame {
	pair := [2]*sentList{from, to}
	if p, ok := c.patches[pair]; ok {
		return p
	}
	var changed []json.RawMessage
	var removed []string
	size := 0
	i, j := 0, 0
	for i < len(from.ids) || j < len(sat.relayed) {
		switch {
		case j == len(sat.relayed) || i < len(from.ids) && from.ids[i] < sat.relayed[j].Wire.ConfigID:
			removed = append(removed, from.ids[i])
			size += len(from.ids[i]) + 3
			i++
		case i == len(from.ids) || sat.relayed[j].Wire.ConfigID < from.ids[i]:
			changed = append(changed, sat.relayed[j].encoded)
			size += len(sat.relayed[j].encoded) + 1
			j++
		default:
			if from.revs[i] != sat.relayed[j].revision {
				changed = append(changed, sat.relayed[j].encoded)
				size += len(sat.relayed[j].encoded) + 1
			}
			i, j = i+1, j+1
		}
	}
	if len(changed) >= len(sat.relayed) {
		return nil
	}
	c.room(size)
	if c.patches == nil {
		c.patches = map[[2]*sentList]*sharedFrame{}
	}
	p := &sharedFrame{build: func() []byte { return protocol.ConfigPatchFrame(changed, removed) }}
	c.patches[pair] = p
	return p
}
