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
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// The swarm is driven over its stdin and stdout, one JSON object a line each way: the
// orchestrator sends a request and reads exactly one response before it sends the next.

// Swarm operations.
const (
	opConnect     = "connect"      // every client starts dialling at once
	opAwaitAuth   = "await_auth"   // wait until every client has authenticated since Since
	opAwaitLive   = "await_live"   // wait until every client is connected now
	opAwaitConfig = "await_config" // wait until every client's list holds Has and lacks Lacks
	opCounters    = "counters"     // a snapshot of the swarm's counters
	opStopBeats   = "stop_beats"   // the clients named stop heartbeating, and keep reading
	opResumeBeats = "resume_beats" // they heartbeat again, the first one at once
	opResults     = "results"      // send results at an aggregate rate for a while
	opQuit        = "quit"
)

// request is one line to the swarm.
type request struct {
	Op string `json:"op"`
	// Since is a wall-clock time in Unix nanoseconds; both processes share the machine's clock.
	Since   int64    `json:"since,omitempty"`
	Timeout Duration `json:"timeout,omitempty"`
	Has     []string `json:"has,omitempty"`
	Lacks   []string `json:"lacks,omitempty"`
	Names   []string `json:"names,omitempty"`
	// Rate is results a second over all clients, for Duration; ConfigID is what they carry.
	Rate     float64  `json:"rate,omitempty"`
	Duration Duration `json:"duration,omitempty"`
	ConfigID string   `json:"configId,omitempty"`
}

// response is the swarm's answer to one request.
type response struct {
	Err string `json:"err,omitempty"`
	// Times holds one Unix-nanosecond time per client, in the order of the credentials file:
	// when it authenticated (await_auth) or when its list became what was awaited (await_config;
	// 0 for a client that never got there).
	Times []int64 `json:"times,omitempty"`
	// Beats maps a satellite's name to when its last heartbeat was written (stop_beats).
	Beats    map[string]int64 `json:"beats,omitempty"`
	Counters *counters        `json:"counters,omitempty"`
	Step     *stepResult      `json:"step,omitempty"`
}

// counters are the swarm's cumulative figures.
type counters struct {
	Clients int `json:"clients"`
	// Live is how many clients hold an authenticated session now.
	Live        int64 `json:"live"`
	Dials       int64 `json:"dials"`
	Refused     int64 `json:"refused"` // HTTP 503 answers to an upgrade
	DialErrors  int64 `json:"dialErrors"`
	Auths       int64 `json:"auths"`
	AuthFailed  int64 `json:"authFailed"`
	Replaced    int64 `json:"replaced"`
	Heartbeats  int64 `json:"heartbeats"`
	ConfigFrame int64 `json:"configFrames"`
	Results     int64 `json:"results"`
	Acks        int64 `json:"acks"`
	// Ends counts ended sessions by cause (endCause).
	Ends map[string]int64 `json:"ends"`
}

// stepResult is one step of the result-ingest ramp.
type stepResult struct {
	Rate     float64 `json:"rate"`
	Queued   int64   `json:"queued"`
	Written  int64   `json:"written"`
	Acked    int64   `json:"acked"`
	Skipped  int64   `json:"skipped"` // no live session or a full queue when its turn came
	Seconds  float64 `json:"seconds"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
	MaxMs    float64 `json:"maxMs"`
	Achieved float64 `json:"achieved"` // written results a second
}

// Duration is a time.Duration that reads and writes as Go's duration text.
type Duration time.Duration

// MarshalJSON writes d as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1m30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// credential is one satellite's identity, read from the Secret the operator generated.
type credential struct {
	Name     string `json:"name"`
	ClientID string `json:"clientId"`
	Token    string `json:"token"`
}

func writeCredentials(path string, creds []credential) error {
	data, err := json.Marshal(creds)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func readCredentials(path string) ([]credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var creds []credential
	if err := json.Unmarshal(data, &creds); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("%s holds no credentials", path)
	}
	return creds, nil
}

// controller is the orchestrator's end of a swarm.
type controller struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
	// dead is closed when the swarm process ends, so that a call never waits on a dead pipe.
	dead <-chan struct{}
}

func newController(in io.WriteCloser, out io.Reader, dead <-chan struct{}) *controller {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &controller{in: in, out: sc, dead: dead}
}

// call sends req and returns the response; an error in it is returned as an error, with the
// response too (await_config answers what it has on a timeout).
func (c *controller) call(req request) (*response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.in.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("swarm %s: %w", req.Op, err)
	}
	type read struct {
		resp *response
		err  error
	}
	got := make(chan read, 1)
	go func() {
		if !c.out.Scan() {
			err := c.out.Err()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			got <- read{err: err}
			return
		}
		var r response
		if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
			got <- read{err: err}
			return
		}
		got <- read{resp: &r}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			return nil, fmt.Errorf("swarm %s: %w", req.Op, r.err)
		}
		if r.resp.Err != "" {
			return r.resp, fmt.Errorf("swarm %s: %s", req.Op, r.resp.Err)
		}
		return r.resp, nil
	case <-c.dead:
		return nil, errors.New("swarm " + req.Op + ": the swarm process ended")
	}
}
