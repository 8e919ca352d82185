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

// Command bench-agent measures the satellite agent running many HTTP checks against a local
// server, and Prometheus's blackbox_exporter probing the same targets at the same rate in the
// same run, and prints the agent's CPU, RSS and schedule drift as ratios to the exporter's: the
// machine is shared and noisy, so only a baseline measured beside it means anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/checkstack/satellite-operator/test/performance/internal/procstat"
)

// options are the benchmark's flags.
type options struct {
	targets      int
	interval     time.Duration
	checkTimeout time.Duration
	warmup       time.Duration
	window       time.Duration
	timeout      time.Duration
	workers      int
	agentBin     string
	exporterBin  string
	logDir       string
}

func main() {
	os.Exit(benchMain())
}

// benchMain returns the exit code, so that every deferred cleanup has run when main exits.
func benchMain() int {
	var o options
	flag.IntVar(&o.targets, "targets", 1000, "HTTP checks, one per target path.")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "Interval of every check and every scrape.")
	flag.DurationVar(&o.checkTimeout, "check-timeout", 5*time.Second, "Timeout of one check, the same for both probers.")
	flag.DurationVar(&o.warmup, "warmup", 20*time.Second, "Time each prober runs before its measurement window.")
	flag.DurationVar(&o.window, "window", 60*time.Second, "Measurement window of each prober.")
	flag.DurationVar(&o.timeout, "timeout", 0, "Bound of the whole run; 0 means 2×(warmup+window)+2m20s.")
	flag.IntVar(&o.workers, "workers", 8, "Concurrent creations of HealthCheckAssignments.")
	flag.StringVar(&o.agentBin, "agent-binary", "", "A built cmd/satellite to measure; empty builds one into a temporary directory.")
	flag.StringVar(&o.exporterBin, "blackbox-exporter", DefaultExporter, "The blackbox_exporter binary of the baseline.")
	flag.StringVar(&o.logDir, "log-dir", "", "Keep the agent's, the exporter's and the manager's logs here; empty uses a temporary directory, removed at the end.")
	flag.Parse()
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-agent:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-agent:", err)
		return 1
	}
	return 0
}

func (o *options) validate() error {
	var errs []error
	if o.targets < 1 {
		errs = append(errs, errors.New("--targets must be at least 1"))
	}
	if o.interval < 5*time.Second {
		errs = append(errs, errors.New("--interval must be at least 5s, the API's minimum"))
	}
	if o.checkTimeout <= 0 || o.checkTimeout >= o.interval {
		errs = append(errs, errors.New("--check-timeout must be positive and less than --interval"))
	}
	if o.warmup < o.interval {
		errs = append(errs, errors.New("--warmup must be at least --interval, so that every check has run before the window"))
	}
	if o.window < 3*o.interval {
		errs = append(errs, errors.New("--window must be at least 3×--interval, so that every target has gaps to measure"))
	}
	if o.workers < 1 {
		errs = append(errs, errors.New("--workers must be at least 1"))
	}
	if o.timeout == 0 {
		o.timeout = 2*(o.warmup+o.window) + 140*time.Second
	}
	if o.timeout < 2*(o.warmup+o.window) {
		errs = append(errs, errors.New("--timeout is shorter than both phases"))
	}
	return errors.Join(errs...)
}

// run is the whole benchmark: setup, the agent's phase, the exporter's phase, the table. Every
// process and directory it creates is gone when it returns, on error too.
func run(ctx context.Context, o options) (err error) {
	startLoad := procstat.LoadAvg()
	fmt.Printf("bench-agent: %d HTTP checks every %s (timeout %s); warm-up %s, window %s; GOMAXPROCS %d, %d CPUs\n",
		o.targets, o.interval, o.checkTimeout, o.warmup, o.window, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("load average at start: %s\n", startLoad)

	haveExporter := true
	if _, statErr := os.Stat(o.exporterBin); statErr != nil {
		haveExporter = false
		fmt.Printf("blackbox_exporter not found at %s, so there is no baseline and no ratio; %s\n", o.exporterBin, installHint)
	} else {
		fmt.Printf("baseline: %s (%s)\n", o.exporterBin, exporterVersion(o.exporterBin))
	}

	tmp, err := os.MkdirTemp("", "bench-agent-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	logDir := o.logDir
	if logDir == "" {
		logDir = tmp
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	// On failure the logs say why; they are shown before the temporary directory goes. An
	// interrupt is no failure.
	defer func() {
		if err != nil && !errors.Is(err, context.Canceled) {
			showLogs(logDir)
		}
	}()

	bin := o.agentBin
	if bin == "" {
		fmt.Println("building cmd/satellite")
		if bin, err = buildAgent(ctx, tmp); err != nil {
			return err
		}
	}

	t, err := newTarget(o.targets)
	if err != nil {
		return err
	}
	defer t.close()
	fmt.Printf("target server on %s\n", t.ln.Addr())

	setup := time.Now()
	managerLog, err := os.Create(filepath.Join(logDir, "manager.log"))
	if err != nil {
		return err
	}
	defer func() { _ = managerLog.Close() }()
	running, err := startManager(managerLog)
	if err != nil {
		return fmt.Errorf("starting the manager: %w", err)
	}
	defer func() {
		if stopErr := running.Stop(); stopErr != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("stopping the manager: %w", stopErr)
		}
	}()
	c, err := newClient(running.Config)
	if err != nil {
		return err
	}
	cred, err := createSatellite(ctx, c)
	if err != nil {
		return err
	}
	fmt.Printf("manager up, Satellite %s/%s created in %.1fs\n", cred.namespace, satelliteName, time.Since(setup).Seconds())
	created := time.Now()
	if err := createAssignments(ctx, c, cred.namespace, t, o); err != nil {
		return fmt.Errorf("creating the HealthCheckAssignments: %w", err)
	}
	fmt.Printf("created %d HealthCheckAssignments in %.1fs\n", o.targets, time.Since(created).Seconds())
	if err := waitRelayed(ctx, c, cred.namespace, o.targets); err != nil {
		return fmt.Errorf("waiting for the manager to reconcile the HealthCheckAssignments: %w", err)
	}
	fmt.Printf("manager reconciled all of them %.1fs after the first was created\n", time.Since(created).Seconds())

	fmt.Println("phase 1: satellite agent")
	ours, err := runOurs(ctx, o, t, bin, "http://"+running.HubAddr, cred, logDir)
	if err != nil {
		return fmt.Errorf("agent phase: %w", err)
	}
	var base *phaseResult
	if haveExporter {
		fmt.Println("phase 2: blackbox_exporter")
		bb, err := runBlackbox(ctx, o, t, o.exporterBin, logDir)
		if err != nil {
			return fmt.Errorf("blackbox_exporter phase: %w", err)
		}
		base = &bb
	}

	fmt.Println()
	printTable(os.Stdout, o, ours, base)
	for _, n := range ours.notes {
		fmt.Printf("ours at window end (cumulative): %s\n", n)
	}
	fmt.Printf("\nstray requests (unknown path or between phases): %d\n", t.stray.Load())
	fmt.Printf("load average at start: %s; at end: %s\n", startLoad, procstat.LoadAvg())
	if !haveExporter {
		fmt.Printf("no baseline: blackbox_exporter not found at %s; %s\n", o.exporterBin, installHint)
	}
	return nil
}

// phaseResult is one prober's figures over its measurement window.
type phaseResult struct {
	window          time.Duration
	cpu             time.Duration
	rssMax, rssMean float64 // MiB
	sched           scheduleStats
	failed          float64
	delivered       float64
	machineBusyPct  float64
	// notes are the prober's own counters, printed under the table.
	notes []string
}

// measure waits out the warm-up, then measures process p and the arrivals of rec over the
// window. counters returns the prober's cumulative failed checks and delivered results.
func measure(ctx context.Context, o options, p *procstat.Child, rec *recorder, counters func() (failed, delivered float64, err error)) (phaseResult, error) {
	if err := sleep(ctx, o.warmup); err != nil {
		return phaseResult{}, err
	}
	if err := p.Exited(); err != nil {
		return phaseResult{}, err
	}
	failed0, delivered0, err := counters()
	if err != nil {
		return phaseResult{}, err
	}
	cpu0, err := procstat.CPUTime(p.Pid())
	if err != nil {
		return phaseResult{}, err
	}
	m0, err := procstat.ReadMachineCPU()
	if err != nil {
		return phaseResult{}, err
	}
	rss := procstat.SampleRSS(p.Pid())
	from := time.Now()

	sleepErr := sleep(ctx, o.window)
	to := time.Now()
	cpu1, cpuErr := procstat.CPUTime(p.Pid())
	m1, machineErr := procstat.ReadMachineCPU()
	rssMaxKiB, rssMeanKiB, rssErr := rss.Stop()
	failed1, delivered1, countErr := counters()
	if err := errors.Join(sleepErr, p.Exited(), cpuErr, machineErr, rssErr, countErr); err != nil {
		return phaseResult{}, err
	}
	r := phaseResult{
		window:         to.Sub(from),
		cpu:            cpu1 - cpu0,
		rssMax:         float64(rssMaxKiB) / 1024,
		rssMean:        rssMeanKiB / 1024,
		sched:          analyse(rec.snapshot(), from, to, o.interval),
		failed:         failed1 - failed0,
		delivered:      delivered1 - delivered0,
		machineBusyPct: m0.BusyPercent(m1),
	}
	fmt.Printf("  window %.1fs: CPU %.2fs, %d requests, %d gaps\n", r.window.Seconds(), r.cpu.Seconds(), r.sched.Requests, len(r.sched.Drifts))
	return r, nil
}

// printTable prints the figures of both probers and their ratio; base is nil without a baseline.
func printTable(w *os.File, o options, ours phaseResult, base *phaseResult) {
	perMin := func(r phaseResult, v float64) float64 { return v / r.window.Minutes() }
	perTargetMin := func(r phaseResult, v float64) float64 { return perMin(r, v) / float64(o.targets) }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rows := []struct {
		name   string
		ratio  bool
		value  func(phaseResult) float64
		format string
	}{
		{"CPU seconds per minute", true, func(r phaseResult) float64 { return perMin(r, r.cpu.Seconds()) }, "%.3f"},
		{"RSS max MiB", true, func(r phaseResult) float64 { return r.rssMax }, "%.1f"},
		{"RSS mean MiB", true, func(r phaseResult) float64 { return r.rssMean }, "%.1f"},
		{"drift p50 ms", true, func(r phaseResult) float64 { return ms(percentile(r.sched.Drifts, 50)) }, "%.2f"},
		{"drift p99 ms", true, func(r phaseResult) float64 { return ms(percentile(r.sched.Drifts, 99)) }, "%.2f"},
		{"requests per target per minute", true, func(r phaseResult) float64 { return perTargetMin(r, float64(r.sched.Requests)) }, "%.2f"},
		{"results delivered per target per minute", false, func(r phaseResult) float64 { return perTargetMin(r, r.delivered) }, "%.2f"},
		{"failed checks in window", false, func(r phaseResult) float64 { return r.failed }, "%.0f"},
		{"targets seen in window", false, func(r phaseResult) float64 { return float64(r.sched.PathsSeen) }, "%.0f"},
		{"gaps measured", false, func(r phaseResult) float64 { return float64(len(r.sched.Drifts)) }, "%.0f"},
		{"machine CPU busy % (all processes)", false, func(r phaseResult) float64 { return r.machineBusyPct }, "%.1f"},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	_, _ = fmt.Fprintln(tw, "metric\tours (satellite)\tblackbox_exporter\tours/blackbox")
	for _, row := range rows {
		v := row.value(ours)
		cells := []string{row.name, fmt.Sprintf(row.format, v), "n/a", "n/a"}
		if base != nil {
			b := row.value(*base)
			cells[2] = fmt.Sprintf(row.format, b)
			switch {
			case !row.ratio:
				cells[3] = "-"
			case b == 0:
				cells[3] = "inf"
			default:
				cells[3] = fmt.Sprintf("%.2f", v/b)
			}
		}
		_, _ = fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	_, _ = fmt.Fprintln(w, "results delivered: ours = ingested by the manager; blackbox = /probe scrapes answered to the driver")
}

// showLogs prints the end of every log of a failed run.
func showLogs(dir string) {
	for _, name := range []string{"agent.log", "blackbox_exporter.log", "manager.log"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(os.Stderr, "--- last lines of %s ---\n%s\n", name, strings.Join(lines[max(0, len(lines)-20):], "\n"))
	}
}

// sleep waits for d or until ctx ends.
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

// poll calls cond every `every` until it is true, it fails, ctx ends or limit has passed.
func poll(ctx context.Context, limit, every time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %s: %w", limit, ctx.Err())
		case <-tick.C:
		}
	}
}
