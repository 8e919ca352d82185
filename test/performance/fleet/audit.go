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
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// auditLog reads the API server's audit log (JSON lines, one per completed write) between two
// marks.
type auditLog struct{ path string }

// mark is the log's size now: every event logged later starts at or after it.
func (a *auditLog) mark() int64 {
	st, err := os.Stat(a.path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// auditEvent is the part of an audit.k8s.io/v1 Event that the benchmark reads.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// leaderLeaseName is the manager's leader Lease; leaderElectionLeases is the key its writes are
// counted under, apart from the presence Leases.
const (
	leaderLeaseName      = "satellite-operator.checkstack.io"
	leaderElectionLeases = "leases (leader election)"
)

// writeCounts counts writes by resource ("satellites/status", "secrets", ...); failed writes
// (a conflict, say) are counted apart under the resource's name with " failed".
type writeCounts map[string]int

// count returns the writes of user among the events that start in [from, to).
func (a *auditLog) count(from, to int64, user string) (writeCounts, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, err
	}
	// Events that started before to may end after it: read to the end of the last one.
	data, err := io.ReadAll(io.LimitReader(f, to-from+1<<20))
	if err != nil {
		return nil, err
	}
	return countWrites(data, to-from, user), nil
}

// countWrites counts the writes of user among the lines of data that start before limit.
func countWrites(data []byte, limit int64, user string) writeCounts {
	out := writeCounts{}
	for start := int64(0); start < limit && start < int64(len(data)); {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			break
		}
		line := data[start : start+int64(end)]
		start += int64(end) + 1
		var ev auditEvent
		if json.Unmarshal(line, &ev) != nil || ev.User.Username != user || ev.ObjectRef == nil {
			continue
		}
		key := ev.ObjectRef.Resource
		if ev.ObjectRef.Subresource != "" {
			key += "/" + ev.ObjectRef.Subresource
		}
		if key == "leases" && ev.ObjectRef.Name == leaderLeaseName {
			// The replicas' election, not a satellite's presence.
			key = leaderElectionLeases
		}
		if ev.ResponseStatus != nil && ev.ResponseStatus.Code >= 400 {
			key += " failed"
		}
		out[key]++
	}
	return out
}

// String lists the counts, largest first.
func (w writeCounts) String() string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return w[keys[i]] > w[keys[j]] || w[keys[i]] == w[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+strconv.Itoa(w[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
