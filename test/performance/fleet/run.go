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
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/test/performance/internal/procstat"
)

// offlineThreshold is the Satellites' spec.offlineThresholdSeconds: the benchmark leaves the
// default.
const offlineThreshold = time.Duration(v1alpha1.DefaultOfflineThresholdSeconds) * time.Second

var regions = []string{"eu-west", "us-east", "ap-south", "sa-east"}

// runEnv is what every size shares.
type runEnv struct {
	self, managerBin, logDir string
}

func run(ctx context.Context, o options) (err error) {
	facts := machineFacts()
	fmt.Println("fleet:", facts)
	limit := raiseNoFile()
	fmt.Println("fleet: orchestrator", limit)
	tmp, err := os.MkdirTemp("", "bench-fleet-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	env := &runEnv{logDir: o.logDir}
	if env.logDir == "" {
		env.logDir = tmp
	} else if err := os.MkdirAll(env.logDir, 0o755); err != nil {
		return err
	}
	if env.self, err = os.Executable(); err != nil {
		return err
	}
	// The manager is built once, so every size names the source of that one build.
	source := sourceState()
	fmt.Println("fleet: building cmd/manager from", source)
	if env.managerBin, err = buildManager(ctx, tmp); err != nil {
		return err
	}
	var reports []*report
	var errs []error
	for _, n := range o.sizes {
		r := newReport(n)
		r.bulk, r.patches = o.bulk, o.patches
		r.facts, r.limits["orchestrator"] = facts+"; manager built from "+source, limit
		reports = append(reports, r)
		fmt.Printf("\n=== N = %d ===\n", n)
		if err := runSize(ctx, o, env, r); err != nil {
			errs = append(errs, fmt.Errorf("size %d: %w", n, err))
			if !o.keepGoing || ctx.Err() != nil {
				break
			}
		}
	}
	fmt.Println()
	for _, r := range reports {
		r.print(os.Stdout)
	}
	if o.out != "" {
		if werr := writeMarkdown(o.out, reports); werr != nil {
			errs = append(errs, werr)
		} else {
			fmt.Println("fleet: wrote", o.out)
		}
	}
	return errors.Join(errs...)
}

func machineFacts() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %.1f GiB memory, %s, load average %s, %s",
		host, runtime.NumCPU(), runtime.GOMAXPROCS(0), procstat.MemTotalGiB(), runtime.Version(), procstat.LoadAvg(), time.Now().UTC().Format(time.RFC3339))
}

// sourceState names the commit the manager is built from and whether the working tree differs.
func sourceState() string {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "unknown source"
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown source"
	}
	dirty, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--", "cmd", "internal", "api", "controllers").Output()
	state := "commit " + strings.TrimSpace(string(head))
	if n := strings.Count(string(dirty), "\n"); n > 0 {
		state += fmt.Sprintf(" with %d uncommitted files in cmd, internal, api and controllers", n)
	}
	return state
}

// phase runs one named part of a size's run; with -keep-going a failure is recorded and the run
// goes on.
func phase(o options, r *report, name string, f func() error) error {
	start := time.Now()
	fmt.Printf("--- %s\n", name)
	err := f()
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("%s: %v", name, err))
		fmt.Printf("--- %s FAILED after %.1fs: %v\n", name, time.Since(start).Seconds(), err)
		if o.keepGoing {
			return nil
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("--- %s done in %.1fs\n", name, time.Since(start).Seconds())
	return nil
}

func runSize(ctx context.Context, o options, env *runEnv, r *report) error {
	dir := filepath.Join(env.logDir, fmt.Sprintf("n%d", r.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.logDir = dir
	creds, err := managerRun(ctx, o, env, r, dir)
	if err != nil {
		r.errs = append(r.errs, "manager: "+err.Error())
		if !o.keepGoing || creds == nil {
			return err
		}
	}
	if err := baselineRun(ctx, o, env, r, dir, creds); err != nil {
		r.errs = append(r.errs, "baseline: "+err.Error())
		return err
	}
	return nil
}

// managerRun is the manager's half of one size. It returns the credentials, for the baseline.
func managerRun(ctx context.Context, o options, env *runEnv, r *report, dir string) ([]credential, error) {
	n := r.n
	cl, err := startCluster(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = cl.stop() }()
	for name, pid := range procstat.ChildrenNamed("kube-apiserver", "etcd") {
		r.limits[name] = procstat.OpenFilesLimit(pid)
	}
	// The watch ends before the control plane stops (defers run last first), so that its
	// informers do not log the API server going away.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	w, err := startWatch(watchCtx, cl, o.namespace)
	if err != nil {
		return nil, err
	}
	m, err := newManager(env.managerBin, cl.kubeconfig, filepath.Join(dir, "manager.log"), o.leaderElect, o.managerFlags)
	if err != nil {
		return nil, err
	}
	r.managerArgs = m.args()
	if err := m.start(); err != nil {
		return nil, err
	}
	defer func() { m.proc.Stop(10 * time.Second) }()
	if err := m.waitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	r.limits["manager"] = procstat.OpenFilesLimit(m.proc.Pid())
	// The other replicas start once the first leads, so that the restart phase kills the leader.
	replicas := []*manager{m}
	for i := 1; i < o.replicas; i++ {
		other, err := newManager(env.managerBin, cl.kubeconfig, filepath.Join(dir, fmt.Sprintf("manager-%d.log", i+1)), true, o.managerFlags)
		if err != nil {
			return nil, err
		}
		if err := other.start(); err != nil {
			return nil, err
		}
		defer func() { other.proc.Stop(10 * time.Second) }()
		if err := other.waitReady(ctx, 2*time.Minute); err != nil {
			return nil, err
		}
		replicas = append(replicas, other)
	}
	r.replicas = len(replicas)
	if len(replicas) > 1 {
		r.notes = append(r.notes, fmt.Sprintf("RSS and CPU are the first replica's, which holds about 1/%d of the sessions: the figures per connection and per heartbeat divide it by all of them", len(replicas)))
	}
	targets := make([]string, len(replicas))
	for i, rep := range replicas {
		targets[i] = "ws://" + rep.hubAddr + protocol.Path
	}

	names := satelliteNames(n)
	var creds []credential
	err = phase(o, r, "create Satellites and wait for their tokens", func() error {
		if err := cl.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.namespace}}); err != nil {
			return err
		}
		start := time.Now()
		if err := forEach(ctx, o.workers, n, func(i int) error {
			return cl.client.Create(ctx, &v1alpha1.Satellite{
				ObjectMeta: metav1.ObjectMeta{Name: names[i], Namespace: o.namespace, Labels: map[string]string{"tier": "edge"}},
				Spec:       v1alpha1.SatelliteSpec{Region: regions[i%len(regions)]},
			})
		}); err != nil {
			return err
		}
		r.set("create", time.Since(start).Seconds())
		if err := w.waitTokens(ctx, n, 10*time.Minute); err != nil {
			return err
		}
		r.set("tokens", time.Since(start).Seconds())
		var err error
		if creds, err = w.credentials(ctx, o.namespace, names); err != nil {
			return err
		}
		// Idle means reconciled: every Satellite has its first status.
		if _, err := w.waitFor(ctx, names, 10*time.Minute, func(s *satRecord) bool { return s.state != "" }); err != nil {
			return err
		}
		r.set("reconciled", time.Since(start).Seconds())
		fmt.Printf("created %d Satellites in %.1fs; tokens after %.1fs; all reconciled after %.1fs\n", n, r.get("create"), r.get("tokens"), r.get("reconciled"))
		return nil
	})
	if err != nil || creds == nil {
		return nil, errors.Join(err, errors.New("no credentials"))
	}
	credsPath := filepath.Join(dir, "creds.json")
	if err := writeCredentials(credsPath, creds); err != nil {
		return nil, err
	}
	if err := phase(o, r, "manager idle RSS", func() error {
		if err := sleep(ctx, o.settle/2); err != nil {
			return err
		}
		kib, err := procstat.MeanRSSKiB(m.proc.Pid(), 10*time.Second)
		r.set("mgr.idleKiB", float64(kib))
		return err
	}); err != nil {
		return creds, err
	}

	sw, err := startSwarm(env.self, strings.Join(targets, ","), credsPath, o, filepath.Join(dir, "swarm-manager.log"))
	if err != nil {
		return creds, err
	}
	defer sw.stop()
	r.limits["swarm"] = procstat.OpenFilesLimit(sw.proc.Pid())

	if err := phase(o, r, "connect", func() error {
		start := time.Now()
		if _, err := sw.ctl.call(request{Op: opConnect}); err != nil {
			return err
		}
		resp, err := sw.ctl.call(request{Op: opAwaitAuth, Since: start.UnixNano(), Timeout: Duration(10 * time.Minute)})
		if resp != nil && resp.Counters != nil {
			r.set("mgr.dials", float64(resp.Counters.Dials))
			r.set("mgr.refused", float64(resp.Counters.Refused))
			r.set("mgr.dialErrors", float64(resp.Counters.DialErrors))
		}
		if err != nil {
			return err
		}
		r.set("mgr.connect", latest(resp.Times).Sub(start).Seconds())
		online, err := w.waitFor(ctx, names, 10*time.Minute, func(s *satRecord) bool { return s.state == v1alpha1.SatelliteOnline })
		if err != nil {
			return err
		}
		r.set("mgr.online", maxTime(online).Sub(start).Seconds())
		fmt.Printf("all authenticated after %.1fs (%d dials, %d answered 503), all Online after %.1fs\n",
			r.get("mgr.connect"), resp.Counters.Dials, resp.Counters.Refused, r.get("mgr.online"))
		if len(replicas) > 1 {
			spread, err := leaseHolders(ctx, cl, o.namespace)
			if err != nil {
				return err
			}
			r.notes = append(r.notes, "presence Leases by holder after the connect: "+spread)
			fmt.Println(r.notes[len(r.notes)-1])
		}
		return nil
	}); err != nil {
		return creds, err
	}

	if err := phase(o, r, "steady window (manager)", func() error {
		if err := sleep(ctx, o.settle); err != nil {
			return err
		}
		from := cl.audit.mark()
		win, err := measureWindow(ctx, m.proc.Pid(), sw.ctl, o.window, true)
		if err != nil {
			return err
		}
		writes, err := cl.audit.count(from, cl.audit.mark(), managerUser)
		if err != nil {
			return err
		}
		r.window(win, "mgr")
		r.steadyWrites = writes
		fmt.Printf("window %.0fs: %d heartbeats, manager CPU %.2fs, RSS %.1f MiB; kube-apiserver+etcd CPU %.2fs; manager writes: %s\n",
			win.seconds, win.beats, win.cpu.Seconds(), float64(win.rssKiB)/1024, win.controlPlaneCPU.Seconds(), writes)
		if win.reconnects > 0 {
			r.notes = append(r.notes, fmt.Sprintf("%d clients reconnected during the manager's steady window", win.reconnects))
		}
		return nil
	}); err != nil {
		return creds, err
	}

	var configID string
	if err := phase(o, r, "push", func() error {
		before, err := sw.ctl.call(request{Op: opCounters})
		if err != nil {
			return err
		}
		start := time.Now()
		configID, err = pushPhase(ctx, o, r, cl, sw.ctl)
		if after, cerr := sw.ctl.call(request{Op: opCounters}); cerr == nil {
			if lost := endsSince(before.Counters, after.Counters); lost != "" {
				r.notes = append(r.notes, fmt.Sprintf("sessions that ended during the push phase, by cause: %s; Online-to-Offline transitions watched in it: %d",
					lost, w.offlineSince(start)))
				fmt.Println(r.notes[len(r.notes)-1])
			}
		}
		return err
	}); err != nil {
		return creds, err
	}

	if configID != "" {
		if err := phase(o, r, "result ingest (manager)", func() error {
			r.mgrSteps, err = ramp(ctx, o, sw.ctl, configID)
			return err
		}); err != nil {
			return creds, err
		}
	}

	if err := phase(o, r, "offline detection", func() error { return offlinePhase(ctx, o, r, w, sw.ctl, names) }); err != nil {
		return creds, err
	}

	if len(replicas) > 1 {
		if err := phase(o, r, "restart of the leading replica", func() error { return replicaRestartPhase(ctx, o, r, cl, w, m, sw.ctl) }); err != nil {
			return creds, err
		}
	} else if err := phase(o, r, "restart", func() error { return restartPhase(ctx, o, r, cl, w, m, sw.ctl, names) }); err != nil {
		return creds, err
	}

	if o.outage > 0 {
		if err := phase(o, r, "API server outage", func() error { return outagePhase(ctx, o, r, cl, w, replicas, sw.ctl, names) }); err != nil {
			return creds, err
		}
	}

	// Last, as it adds a Satellite that the other phases do not expect.
	if err := phase(o, r, "flood", func() error { return floodPhase(ctx, o, r, cl, w, "ws://"+m.hubAddr+protocol.Path) }); err != nil {
		return creds, err
	}
	return creds, nil
}

// baselineRun is the baseline's half: the same swarm against a bare gorilla server.
func baselineRun(ctx context.Context, o options, env *runEnv, r *report, dir string, creds []credential) error {
	credsPath := filepath.Join(dir, "creds.json")
	if err := writeCredentials(credsPath, creds); err != nil {
		return err
	}
	addr, err := procstat.FreeAddr()
	if err != nil {
		return err
	}
	interval := heartbeatInterval(o.managerFlags)
	bl, err := procstat.Start(procstat.Spec{Name: "baseline", Path: env.self, Args: []string{"baseline", "-listen", addr, "-creds", credsPath, "-heartbeat-interval", interval.String()},
		Log: filepath.Join(dir, "baseline.log"), AppendLog: true})
	if err != nil {
		return err
	}
	defer bl.Stop(5 * time.Second)
	if err := waitListening(ctx, bl, addr, 30*time.Second); err != nil {
		return err
	}
	r.limits["baseline"] = procstat.OpenFilesLimit(bl.Pid())
	if err := phase(o, r, "baseline idle RSS", func() error {
		if err := sleep(ctx, o.settle/2); err != nil {
			return err
		}
		kib, err := procstat.MeanRSSKiB(bl.Pid(), 10*time.Second)
		r.set("base.idleKiB", float64(kib))
		return err
	}); err != nil {
		return err
	}
	sw, err := startSwarm(env.self, "ws://"+addr+"/api/ws/satellite", credsPath, o, filepath.Join(dir, "swarm-baseline.log"))
	if err != nil {
		return err
	}
	defer sw.stop()
	if err := phase(o, r, "connect (baseline)", func() error {
		start := time.Now()
		if _, err := sw.ctl.call(request{Op: opConnect}); err != nil {
			return err
		}
		resp, err := sw.ctl.call(request{Op: opAwaitAuth, Since: start.UnixNano(), Timeout: Duration(10 * time.Minute)})
		if err != nil {
			return err
		}
		r.set("base.connect", latest(resp.Times).Sub(start).Seconds())
		r.set("base.dials", float64(resp.Counters.Dials))
		fmt.Printf("all authenticated after %.1fs (%d dials)\n", r.get("base.connect"), resp.Counters.Dials)
		return nil
	}); err != nil {
		return err
	}
	if err := phase(o, r, "steady window (baseline)", func() error {
		if err := sleep(ctx, o.settle); err != nil {
			return err
		}
		win, err := measureWindow(ctx, bl.Pid(), sw.ctl, o.window, false)
		if err != nil {
			return err
		}
		r.window(win, "base")
		fmt.Printf("window %.0fs: %d heartbeats, baseline CPU %.2fs, RSS %.1f MiB\n", win.seconds, win.beats, win.cpu.Seconds(), float64(win.rssKiB)/1024)
		return nil
	}); err != nil {
		return err
	}
	return phase(o, r, "result ingest (baseline)", func() error {
		r.baseSteps, err = ramp(ctx, o, sw.ctl, baselineConfigID)
		return err
	})
}

// heartbeatInterval is the manager's --heartbeat-interval among flags, 15 s by default, so that
// the baseline tells the swarm the same.
func heartbeatInterval(flags []string) time.Duration {
	for i, f := range flags {
		v, ok := strings.CutPrefix(f, "--heartbeat-interval=")
		if !ok && f == "--heartbeat-interval" && i+1 < len(flags) {
			v, ok = flags[i+1], true
		}
		if d, err := time.ParseDuration(v); ok && err == nil {
			return d
		}
	}
	return 15 * time.Second
}

func waitListening(ctx context.Context, p *procstat.Child, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			return conn.Close()
		}
		if err := p.Exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s within %s", p.Name(), addr, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// windowResult is one steady-state window of one server.
type windowResult struct {
	seconds         float64
	cpu             time.Duration
	controlPlaneCPU time.Duration
	beats           int64
	rssKiB          int64
	reconnects      int64
}

// measureWindow measures pid's CPU and mean RSS, and the swarm's heartbeats, over d.
func measureWindow(ctx context.Context, pid int, ctl *controller, d time.Duration, controlPlane bool) (windowResult, error) {
	cp := procstat.ChildrenNamed("kube-apiserver", "etcd")
	cpCPU := func() time.Duration {
		var sum time.Duration
		if !controlPlane {
			return 0
		}
		for _, p := range cp {
			c, _ := procstat.CPUTime(p)
			sum += c
		}
		return sum
	}
	c0, err := ctl.call(request{Op: opCounters})
	if err != nil {
		return windowResult{}, err
	}
	cpu0, err := procstat.CPUTime(pid)
	if err != nil {
		return windowResult{}, err
	}
	cp0 := cpCPU()
	start := time.Now()
	rss, err := procstat.MeanRSSKiB(pid, d)
	if err != nil {
		return windowResult{}, err
	}
	if ctx.Err() != nil {
		return windowResult{}, ctx.Err()
	}
	cpu1, err := procstat.CPUTime(pid)
	if err != nil {
		return windowResult{}, err
	}
	c1, err := ctl.call(request{Op: opCounters})
	if err != nil {
		return windowResult{}, err
	}
	return windowResult{
		seconds:         time.Since(start).Seconds(),
		cpu:             cpu1 - cpu0,
		controlPlaneCPU: cpCPU() - cp0,
		beats:           c1.Counters.Heartbeats - c0.Counters.Heartbeats,
		rssKiB:          rss,
		reconnects:      c1.Counters.Auths - c0.Counters.Auths,
	}, nil
}

func newAssignment(namespace, name string) *v1alpha1.HealthCheckAssignment {
	return &v1alpha1.HealthCheckAssignment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.HealthCheckAssignmentSpec{
			System: "bench-" + name,
			Check: v1alpha1.CheckSpec{
				Type:     v1alpha1.CheckHTTP,
				Interval: &metav1.Duration{Duration: 30 * time.Second},
				Timeout:  &metav1.Duration{Duration: 5 * time.Second},
				// Nothing dials it: the swarm reports results without running checks.
				HTTP: &v1alpha1.HTTPCheck{URL: "http://127.0.0.1:9/healthz", ExpectedStatusCodes: []int32{200}},
			},
			SatelliteSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "edge"}},
		},
	}
}

// pushPhase measures config delivery and returns the configId results can carry.
// burstQuiet is longer than the manager holds a push of a burst after the last one (4 times
// its 1 s config interval), so that a change after it is pushed at once.
const burstQuiet = 5 * time.Second

func pushPhase(ctx context.Context, o options, r *report, cl *cluster, ctl *controller) (string, error) {
	ns := o.namespace
	push := func(name, key string) (string, error) {
		from, fromT := cl.audit.mark(), time.Now()
		hca := newAssignment(ns, name)
		if err := cl.client.Create(ctx, hca); err != nil {
			return "", err
		}
		created := time.Now()
		resp, err := ctl.call(request{Op: opAwaitConfig, Has: []string{string(hca.UID)}, Timeout: Duration(3 * time.Minute)})
		if resp == nil {
			return "", err
		}
		lat, missing := latencies(resp.Times, created)
		r.set(key+".missing", float64(missing))
		// A percentile over nobody is no latency: the figure stays unmeasured and the row says
		// how many never got it.
		if len(lat) > 0 {
			r.set(key+".p50", ms(percentile(lat, 50)))
			r.set(key+".p99", ms(percentile(lat, 99)))
			r.set(key+".max", ms(percentile(lat, 100)))
		}
		// Writes the change caused: everything the manager wrote until 5 s after the last
		// delivery.
		if serr := sleep(ctx, 5*time.Second); serr != nil {
			return "", serr
		}
		writes, werr := cl.audit.count(from, cl.audit.mark(), managerUser)
		if werr != nil {
			return "", werr
		}
		r.pushWrites[key] = writes
		r.set(key+".writeWindowS", time.Since(fromT).Seconds())
		fmt.Printf("%s: p50 %.0f ms, p99 %.0f ms, max %.0f ms, %d never; manager writes until 5 s after: %s\n",
			name, r.get(key+".p50"), r.get(key+".p99"), r.get(key+".max"), missing, writes)
		return string(hca.UID), err
	}
	first, err := push("push-0", "push")
	if err != nil {
		return first, err
	}

	bulk := make([]*v1alpha1.HealthCheckAssignment, o.bulk)
	start := time.Now()
	if err := forEach(ctx, min(o.workers, 16), o.bulk, func(i int) error {
		bulk[i] = newAssignment(ns, fmt.Sprintf("bulk-%03d", i))
		return cl.client.Create(ctx, bulk[i])
	}); err != nil {
		return first, err
	}
	uids := make([]string, len(bulk))
	for i, h := range bulk {
		uids[i] = string(h.UID)
	}
	resp, err := ctl.call(request{Op: opAwaitConfig, Has: uids, Timeout: Duration(5 * time.Minute)})
	if resp == nil {
		return first, err
	}
	r.set("bulkCreate", latest(resp.Times).Sub(start).Seconds())
	fmt.Printf("created %d assignments: every client had all of them after %.1fs\n", o.bulk, r.get("bulkCreate"))
	if err != nil {
		return first, err
	}

	// The manager coalesces a burst's pushes, holding each up to 4 s after the last (the
	// protocol's documented bound): one more assignment right after the burst would measure that
	// hold, not what 100 existing assignments cost a push. It comes after a quiet gap instead.
	if err := sleep(ctx, burstQuiet); err != nil {
		return first, err
	}
	if _, err := push("push-1", "push100"); err != nil {
		return first, err
	}

	start = time.Now()
	if err := forEach(ctx, min(o.workers, 16), o.bulk, func(i int) error { return cl.client.Delete(ctx, bulk[i]) }); err != nil {
		return first, err
	}
	resp, err = ctl.call(request{Op: opAwaitConfig, Lacks: uids, Timeout: Duration(5 * time.Minute)})
	if resp == nil {
		return first, err
	}
	r.set("bulkDelete", latest(resp.Times).Sub(start).Seconds())
	fmt.Printf("deleted them: every client's list was back after %.1fs\n", r.get("bulkDelete"))
	return first, err
}

// ramp steps the aggregate result rate up and stops after the first step whose ack p99 is over
// 100 ms or that the swarm could not send at 90 % of its rate.
func ramp(_ context.Context, o options, ctl *controller, configID string) ([]stepResult, error) {
	var steps []stepResult
	for _, rate := range o.rates {
		resp, err := ctl.call(request{Op: opResults, Rate: rate, Duration: Duration(o.stepDuration), ConfigID: configID})
		if err != nil {
			return steps, err
		}
		s := *resp.Step
		steps = append(steps, s)
		fmt.Printf("  %6.0f/s: written %d (%.0f/s), acked %d, skipped %d, ack p50 %.1f ms p99 %.1f ms max %.1f ms\n",
			rate, s.Written, s.Achieved, s.Acked, s.Skipped, s.P50Ms, s.P99Ms, s.MaxMs)
		if !stepPassed(s) {
			break
		}
	}
	return steps, nil
}

func stepPassed(s stepResult) bool {
	return s.Written > 0 && s.P99Ms <= 100 && s.Achieved >= 0.9*s.Rate
}

func offlinePhase(ctx context.Context, o options, r *report, w *fleetWatch, ctl *controller, names []string) error {
	k := min(o.offlineSample, len(names))
	sample := make([]string, k)
	for i := range sample {
		sample[i] = names[i*len(names)/k]
	}
	resp, err := ctl.call(request{Op: opStopBeats, Names: sample})
	if err != nil {
		return err
	}
	offline, werr := w.waitFor(ctx, sample, offlineThreshold+90*time.Second, func(s *satRecord) bool { return s.state == v1alpha1.SatelliteOffline })
	var lat []time.Duration
	for _, n := range sample {
		if at, ok := offline[n]; ok {
			lat = append(lat, at.Sub(time.Unix(0, resp.Beats[n]))-offlineThreshold)
		}
	}
	r.offline = lat
	r.set("offline.missing", float64(k-len(lat)))
	fmt.Printf("offline detection of %d Satellites, minus the %s threshold: p50 %.0f ms, max %.0f ms\n", len(lat), offlineThreshold, ms(percentile(lat, 50)), ms(percentile(lat, 100)))
	if _, err := ctl.call(request{Op: opResumeBeats, Names: sample}); err != nil {
		return errors.Join(werr, err)
	}
	back, err := w.waitFor(ctx, sample, 60*time.Second, func(s *satRecord) bool { return s.state == v1alpha1.SatelliteOnline })
	r.set("offline.recovered", float64(len(back)))
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("after heartbeats resumed on the open connections, %d of %d Satellites were Online again within 60 s", len(back), k))
	}
	return werr
}

func restartPhase(ctx context.Context, o options, r *report, cl *cluster, w *fleetWatch, m *manager, ctl *controller, names []string) error {
	// Events are counted by their creationTimestamp, which has whole seconds. The kill comes
	// just after a second begins and at least a second after the offline phase, whose last
	// Events the manager writes after the transitions that phase waits for: otherwise they land
	// in the kill's second, and were counted as the restart's (runs 10 to 13 counted 1 or 2).
	if err := sleep(ctx, time.Until(time.Now().Truncate(time.Second).Add(2*time.Second))); err != nil {
		return err
	}
	killed := time.Now()
	m.proc.Kill()
	if err := m.start(); err != nil {
		return err
	}
	resp, err := ctl.call(request{Op: opAwaitAuth, Since: killed.UnixNano(), Timeout: Duration(10 * time.Minute)})
	if resp != nil && resp.Counters != nil {
		r.notes = append(r.notes, fmt.Sprintf("swarm counters after the restart (cumulative): %d dials, %d answered 503, %d dial errors, session ends by cause %v",
			resp.Counters.Dials, resp.Counters.Refused, resp.Counters.DialErrors, resp.Counters.Ends))
		fmt.Println(r.notes[len(r.notes)-1])
	}
	if err != nil {
		return err
	}
	r.set("restart.auth", latest(resp.Times).Sub(killed).Seconds())
	since := killed.Truncate(time.Second)
	online, err := w.waitFor(ctx, names, 10*time.Minute, func(s *satRecord) bool {
		return s.state == v1alpha1.SatelliteOnline && !s.connectedSince.Before(since)
	})
	if err != nil {
		return err
	}
	r.set("restart.online", maxTime(online).Sub(killed).Seconds())
	fmt.Printf("restart: every client re-authenticated after %.1fs, every Satellite Online in a new session after %.1fs\n", r.get("restart.auth"), r.get("restart.online"))
	return countRestartOffline(ctx, o, r, cl, w, killed)
}

// countRestartOffline waits -restart-observe, then counts the SatelliteOffline Events and the
// Offline transitions since the kill.
func countRestartOffline(ctx context.Context, o options, r *report, cl *cluster, w *fleetWatch, killed time.Time) error {
	if err := sleep(ctx, o.observe); err != nil {
		return err
	}
	since := killed.Truncate(time.Second)
	list := &eventsv1.EventList{}
	if err := cl.client.List(ctx, list, client.InNamespace(o.namespace)); err != nil {
		return err
	}
	events, occurrences := 0, 0
	for _, e := range list.Items {
		if e.Reason != v1alpha1.EventSatelliteOffline || e.CreationTimestamp.Time.Before(since) {
			continue
		}
		events++
		occurrences++
		if e.Series != nil {
			occurrences += int(e.Series.Count) - 1
		}
	}
	r.set("restart.events", float64(events))
	r.set("restart.occurrences", float64(occurrences))
	r.set("restart.transitions", float64(w.offlineSince(killed)))
	fmt.Printf("restart: %d SatelliteOffline Events (%d occurrences), %d Online-to-Offline transitions seen, until %s after recovery\n",
		events, occurrences, w.offlineSince(killed), o.observe)
	return nil
}

// replicaRestartPhase SIGKILLs the leading replica, m, while the others run: its satellites
// must be connected to the others within 30 s, and none may go Offline. The replica starts
// again once they are.
func replicaRestartPhase(ctx context.Context, o options, r *report, cl *cluster, w *fleetWatch, m *manager, ctl *controller) error {
	// At the start of a second, as in restartPhase, for the Events' whole-second timestamps.
	if err := sleep(ctx, time.Until(time.Now().Truncate(time.Second).Add(2*time.Second))); err != nil {
		return err
	}
	killed := time.Now()
	m.proc.Kill()
	resp, err := ctl.call(request{Op: opAwaitLive, Timeout: Duration(10 * time.Minute)})
	if err != nil {
		return err
	}
	moved, last := 0, killed
	for _, at := range resp.Times {
		if t := time.Unix(0, at); !t.Before(killed) {
			moved++
			last = maxOf(last, t)
		}
	}
	r.set("restart.moved", float64(moved))
	r.set("restart.auth", last.Sub(killed).Seconds())
	fmt.Printf("restart: the killed leader's %d satellites were all connected to the other replicas %.1fs after the kill\n", moved, r.get("restart.auth"))
	if err := m.start(); err != nil {
		return err
	}
	if err := m.waitReady(ctx, 5*time.Minute); err != nil {
		return err
	}
	return countRestartOffline(ctx, o, r, cl, w, killed)
}

func maxOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// leaseHolders counts the presence Leases of the namespace by holder, for the report.
func leaseHolders(ctx context.Context, cl *cluster, namespace string) (string, error) {
	list := &coordinationv1.LeaseList{}
	if err := cl.client.List(ctx, list, client.InNamespace(namespace), client.HasLabels{v1alpha1.LabelPresenceSatellite}); err != nil {
		return "", err
	}
	byHolder := map[string]int{}
	for _, l := range list.Items {
		if l.Spec.HolderIdentity != nil {
			byHolder[*l.Spec.HolderIdentity]++
		}
	}
	counts := make([]int, 0, len(byHolder))
	for _, n := range byHolder {
		counts = append(counts, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	return fmt.Sprint(counts), nil
}

// leasesFresh waits until every presence Lease of the namespace was renewed at or after since,
// and returns when the last one was.
func leasesFresh(ctx context.Context, cl *cluster, namespace string, n int, since time.Time, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		list := &coordinationv1.LeaseList{}
		if err := cl.client.List(ctx, list, client.InNamespace(namespace), client.HasLabels{v1alpha1.LabelPresenceSatellite}); err != nil {
			return time.Time{}, err
		}
		fresh, last := 0, since
		for _, l := range list.Items {
			if rt := l.Spec.RenewTime; rt != nil && !rt.Time.Before(since) {
				fresh++
				last = maxOf(last, rt.Time)
			}
		}
		if fresh >= n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d presence Leases renewed since the API's return within %s", fresh, n, limit)
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return time.Time{}, err
		}
	}
}

// outagePhase stops kube-apiserver for -outage with every satellite connected, as the issue's
// measurement did: the manager must not exit nor close a session, no satellite may go Offline,
// and every lastHeartbeatAt must be fresh again within two report intervals of the API's return.
func outagePhase(ctx context.Context, o options, r *report, cl *cluster, w *fleetWatch, replicas []*manager, ctl *controller, names []string) error {
	// Events are counted by their whole-second creationTimestamp, as in the restart phase.
	if err := sleep(ctx, time.Until(time.Now().Truncate(time.Second).Add(2*time.Second))); err != nil {
		return err
	}
	before, err := ctl.call(request{Op: opCounters})
	if err != nil {
		return err
	}
	stopped := time.Now()
	resume, err := controlplane.PauseAPIServer(cl.cfg)
	if err != nil {
		return err
	}
	slept := sleep(ctx, o.outage)
	if err := resume(); err != nil {
		return fmt.Errorf("resuming kube-apiserver: %w", err)
	}
	if slept != nil {
		return slept
	}
	resumed := time.Now()
	for _, m := range replicas {
		if err := m.proc.Exited(); err != nil {
			r.set("outage.exited", 1)
			return fmt.Errorf("a manager exited during the outage: %w (log %s)", err, m.logPath)
		}
	}
	r.set("outage.exited", 0)
	for _, m := range replicas {
		if err := m.waitReady(ctx, 5*time.Minute); err != nil {
			return err
		}
	}
	r.set("outage.ready", time.Since(resumed).Seconds())
	// The presence Lease carries the heartbeats now; lastHeartbeatAt is refreshed every ten
	// report intervals only.
	fresh, err := leasesFresh(ctx, cl, o.namespace, len(names), resumed, 5*time.Minute)
	if err != nil {
		return err
	}
	r.set("outage.fresh", fresh.Sub(resumed).Seconds())
	after, err := ctl.call(request{Op: opCounters})
	if err != nil {
		return err
	}
	closed := int64(0)
	for cause, n := range after.Counters.Ends {
		closed += n - before.Counters.Ends[cause]
	}
	r.set("outage.closed", float64(closed))
	if lost := endsSince(before.Counters, after.Counters); lost != "" {
		r.notes = append(r.notes, "sessions that ended during the outage phase, by cause: "+lost)
	}
	list := &eventsv1.EventList{}
	if err := cl.client.List(ctx, list, client.InNamespace(o.namespace)); err != nil {
		return err
	}
	events := 0
	for _, e := range list.Items {
		if (e.Reason == v1alpha1.EventSatelliteOffline || e.Reason == v1alpha1.EventSatelliteOnline) && !e.CreationTimestamp.Time.Before(stopped.Truncate(time.Second)) {
			events++
		}
	}
	r.set("outage.events", float64(events))
	r.set("outage.transitions", float64(w.offlineSince(stopped)))
	fmt.Printf("outage of %s (leader election %t, %d replicas): no manager exited, all Ready %.1fs after the API's return, every presence Lease renewed after %.1fs; %d sessions ended, %d SatelliteOffline/Online Events, %d Offline transitions\n",
		o.outage, o.leaderElect, len(replicas), r.get("outage.ready"), r.get("outage.fresh"), closed, events, w.offlineSince(stopped))
	return nil
}

// endsSince lists the sessions that ended between two counter snapshots, by cause.
func endsSince(before, after *counters) string {
	var parts []string
	for cause, n := range after.Ends {
		if d := n - before.Ends[cause]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cause, d))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// swarmProc is a running swarm and its control channel.
type swarmProc struct {
	proc *procstat.Child
	ctl  *controller
}

func startSwarm(self, target, credsPath string, o options, logPath string) (*swarmProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := []string{"swarm", "-target", target, "-creds", credsPath, "-sources", fmt.Sprint(o.sources), "-patches=" + fmt.Sprint(o.patches)}
	p, err := procstat.Start(procstat.Spec{Name: "swarm", Path: self, Args: args, Log: logPath, AppendLog: true, Prepare: func(cmd *exec.Cmd) error {
		// Plain files, not exec's pipes: those are closed by Wait, which runs while the last
		// response may still be read.
		cmd.Stdin, cmd.Stdout = inR, outW
		return nil
	}})
	_ = inR.Close()
	_ = outW.Close()
	if err != nil {
		_ = inW.Close()
		_ = outR.Close()
		return nil, err
	}
	return &swarmProc{proc: p, ctl: newController(inW, outR, p.Done())}, nil
}

func (s *swarmProc) stop() {
	_ = s.ctl.in.Close()
	s.proc.Stop(5 * time.Second)
}

func satelliteNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("sat-%05d", i)
	}
	return out
}

// forEach runs f(0..n-1) on workers goroutines and returns the first error.
func forEach(ctx context.Context, workers, n int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func maxTime(m map[string]time.Time) time.Time {
	var t time.Time
	for _, v := range m {
		if v.After(t) {
			t = v
		}
	}
	return t
}

// sleep waits out a measurement window or a settling time, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
