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

// Command fleet runs a swarm of real WebSocket satellites, in a process of their own, against the
// real manager, itself a process of its own on a real kube-apiserver and etcd (envtest), and the
// same swarm against a bare gorilla server doing the same per-connection work, and reports every
// figure beside the baseline's. `fleet swarm` and `fleet baseline` are the child processes it
// starts; they are not meant to be run by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// options are the benchmark's flags.
type options struct {
	sizes         []int
	keepGoing     bool
	out           string
	logDir        string
	namespace     string
	settle        time.Duration
	window        time.Duration
	stepDuration  time.Duration
	rates         []float64
	bulk          int
	offlineSample int
	observe       time.Duration
	outage        time.Duration
	leaderElect   bool
	replicas      int
	sources       int
	patches       bool
	workers       int
	timeout       time.Duration
	managerFlags  []string
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "swarm":
			os.Exit(swarmMain(os.Args[2:]))
		case "baseline":
			os.Exit(baselineMain(os.Args[2:]))
		}
	}
	os.Exit(benchMain())
}

// raiseNoFile sets RLIMIT_NOFILE's soft limit to its hard limit and says what it set: N=10,000
// needs about 10,000 descriptors in the manager and as many in the swarm.
func raiseNoFile() string {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "getrlimit: " + err.Error()
	}
	before := l.Cur
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Sprintf("RLIMIT_NOFILE soft %d hard %d; raising failed: %v", before, l.Max, err)
	}
	return fmt.Sprintf("RLIMIT_NOFILE soft %d -> %d (hard %d)", before, l.Cur, l.Max)
}

// benchMain returns the exit code, so that every deferred cleanup has run when main exits.
func benchMain() int {
	var o options
	var sizes, rates, mflags string
	flag.StringVar(&sizes, "n", "1000,10000", "Fleet sizes to run, one after the other.")
	flag.BoolVar(&o.keepGoing, "keep-going", false, "On a failed phase, record it and go on with the next phase and size instead of stopping.")
	flag.StringVar(&o.out, "out", "", "Write the summary as markdown to this file too.")
	flag.StringVar(&o.logDir, "log-dir", "", "Keep the logs (manager, swarm, baseline, audit) here; empty uses a temporary directory, removed at the end.")
	flag.StringVar(&o.namespace, "namespace", "fleet", "Namespace of the Satellites and assignments.")
	flag.DurationVar(&o.settle, "settle", 20*time.Second, "Wait after everyone is connected before measuring RSS and the steady window.")
	flag.DurationVar(&o.window, "window", 180*time.Second, "Steady-state window for CPU per heartbeat, RSS and API writes; at least 60s. The manager writes a Satellite's status about once per --status-report-interval, at a phase set by its connection, so a window of a few intervals counts those writes without aliasing.")
	flag.DurationVar(&o.stepDuration, "result-step", 10*time.Second, "Duration of each step of the result-ingest ramp.")
	flag.StringVar(&rates, "result-rates", "100,200,500,1000,2000,4000,8000", "Aggregate result rates per second of the ramp; it stops after the first step whose ack p99 exceeds 100 ms.")
	flag.IntVar(&o.bulk, "bulk", 100, "Assignments created and deleted together in the bulk phase.")
	flag.IntVar(&o.offlineSample, "offline-sample", 20, "Satellites whose heartbeats stop, to measure offline detection.")
	flag.DurationVar(&o.observe, "restart-observe", 30*time.Second, "How long to keep counting Offline transitions and Events after the restarted manager has everyone back.")
	flag.DurationVar(&o.outage, "outage", 45*time.Second, "How long the outage phase stops kube-apiserver (SIGSTOP, etcd runs on); 0 skips the phase.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Run the manager with --leader-elect, as the chart does. A SIGKILLed leader's Lease then holds the restarted manager back for its lease duration (15 s), so the restart phase's figures are not those of a run without.")
	flag.IntVar(&o.replicas, "replicas", 1, "Manager replicas, each with --leader-elect; the swarm spreads the clients over them as a Service does, and the restart phase kills the first (the leader) and counts what moves.")
	flag.BoolVar(&o.patches, "patches", true, "Have the swarm advertise config_patch, as our agent does; false sends every client its whole list on each change, as a Checkstack satellite gets it.")
	flag.IntVar(&o.sources, "sources", 199, "Loopback source addresses the swarm spreads its clients over (127.0.0.2 and up).")
	flag.IntVar(&o.workers, "workers", 64, "Concurrent creations of Satellites and assignments.")
	flag.DurationVar(&o.timeout, "timeout", 0, "Bound of the whole run; 0 means 20 minutes per size plus 10 per 1,000 satellites.")
	flag.StringVar(&mflags, "manager-flags", "", "Extra flags for the manager, space-separated (the defaults are used otherwise).")
	flag.Parse()
	var err error
	if o.sizes, err = parseInts(sizes); err == nil {
		o.rates, err = parseFloats(rates)
	}
	if err == nil {
		err = o.validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 2
	}
	o.managerFlags = strings.Fields(mflags)
	if o.timeout == 0 {
		for _, n := range o.sizes {
			o.timeout += 20*time.Minute + time.Duration(n/1000)*10*time.Minute
		}
	}
	// The tool's informers log through controller-runtime; their messages (a watch ending) are
	// not the benchmark's output.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 1
	}
	return 0
}

func (o *options) validate() error {
	var errs []error
	for _, n := range o.sizes {
		if n < 1 || n > 99999 {
			errs = append(errs, errors.New("-n sizes must be 1 to 99999"))
		}
	}
	if o.window < 60*time.Second {
		errs = append(errs, errors.New("-window must be at least 60s"))
	}
	if o.sources < 1 || o.sources > 250 {
		errs = append(errs, errors.New("-sources must be 1 to 250"))
	}
	if o.outage < 0 {
		errs = append(errs, errors.New("-outage must not be negative"))
	}
	if o.replicas < 1 || o.replicas > 9 {
		errs = append(errs, errors.New("-replicas must be 1 to 9"))
	}
	// Replicas elect their leader, as the chart's do.
	o.leaderElect = o.leaderElect || o.replicas > 1
	if o.bulk < 1 || o.offlineSample < 1 || o.workers < 1 {
		errs = append(errs, errors.New("-bulk, -offline-sample and -workers must be at least 1"))
	}
	return errors.Join(errs...)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("rate %q must be a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}
