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
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkstack/satellite-operator/test/performance/internal/procstat"
)

// DefaultExporter is where Debian's prometheus-blackbox-exporter package installs the exporter.
const DefaultExporter = "/usr/bin/prometheus-blackbox-exporter"

// installHint says how to get the baseline; the tool never installs software itself.
const installHint = "install it with: sudo apt-get update && sudo apt-get install -y prometheus-blackbox-exporter"

// exporterConfig is the exporter's configuration: one module equal to the agent's check (GET, any
// 2xx, 5 s timeout). IPv4 is preferred because the targets are on 127.0.0.1.
const exporterConfig = `modules:
  http_2xx:
    prober: http
    timeout: %s
    http:
      preferred_ip_protocol: ip4
`

// exporterVersion returns the first line of the exporter's --version, for the report.
func exporterVersion(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// driver stands in for Prometheus: it scrapes the exporter's /probe for every target on its own
// schedule, the work a Prometheus server with a 10 s scrape interval would give the exporter.
type driver struct {
	exporter string
	interval time.Duration
	client   *http.Client
	// scrapes and failed count answered scrapes and those that did not report probe_success 1.
	scrapes, failed atomic.Int64
}

func newDriver(exporter string, interval time.Duration) *driver {
	// The pool sizes are Prometheus's (prometheus/common's NewRoundTripperFromConfig): every
	// target keeps its connection to the exporter, as a Prometheus server's scrape pool does.
	transport := &http.Transport{
		MaxIdleConns:        20000,
		MaxIdleConnsPerHost: 1000,
		IdleConnTimeout:     5 * time.Minute,
	}
	// Prometheus's default scrape timeout is the interval, up to 10 s.
	return &driver{exporter: exporter, interval: interval,
		client: &http.Client{Transport: transport, Timeout: min(interval, 10*time.Second)}}
}

// run scrapes every target until ctx ends: each at its own random phase in [0, interval), then
// on a ticker, as Prometheus's scrape loop does. It returns when every scrape has ended.
func (d *driver) run(ctx context.Context, targets []string) {
	var wg sync.WaitGroup
	for _, target := range targets {
		wg.Go(func() {
			first := time.NewTimer(rand.N(d.interval))
			defer first.Stop()
			select {
			case <-ctx.Done():
				return
			case <-first.C:
			}
			tick := time.NewTicker(d.interval)
			defer tick.Stop()
			for {
				d.scrape(ctx, target)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		})
	}
	wg.Wait()
	d.client.CloseIdleConnections()
}

// scrape asks the exporter to probe target once and reads the answer, as Prometheus would
// before parsing it.
func (d *driver) scrape(ctx context.Context, target string) {
	q := url.Values{"target": {target}, "module": {"http_2xx"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.exporter+"/probe?"+q.Encode(), nil)
	if err != nil {
		d.failed.Add(1)
		return
	}
	// The exporter bounds the probe by this header minus its offset, as with Prometheus.
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(d.client.Timeout.Seconds(), 'f', -1, 64))
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			d.failed.Add(1)
		}
		return
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		d.failed.Add(1)
		return
	}
	d.scrapes.Add(1)
	if !bytes.Contains(body, []byte("\nprobe_success 1\n")) {
		d.failed.Add(1)
	}
}

// runBlackbox is the baseline's phase: the exporter runs as its own process, driven by the
// driver, until the window has been measured.
func runBlackbox(ctx context.Context, o options, t *target, bin, logDir string) (phaseResult, error) {
	cfg := filepath.Join(logDir, "blackbox.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, exporterConfig, o.checkTimeout), 0o600); err != nil {
		return phaseResult{}, err
	}
	addr, err := procstat.FreeAddr()
	if err != nil {
		return phaseResult{}, err
	}
	rec := t.record()
	defer t.pause()
	p, err := procstat.Start(procstat.Spec{Name: "blackbox_exporter", Path: bin,
		Args: []string{"--config.file=" + cfg, "--web.listen-address=" + addr}, Log: filepath.Join(logDir, "blackbox_exporter.log")})
	if err != nil {
		return phaseResult{}, err
	}
	defer p.Stop(10 * time.Second)
	if err := poll(ctx, 15*time.Second, 250*time.Millisecond, func() (bool, error) {
		if err := p.Exited(); err != nil {
			return false, err
		}
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		return phaseResult{}, fmt.Errorf("waiting for blackbox_exporter to listen: %w", err)
	}
	fmt.Printf("  blackbox_exporter pid %d listening on %s\n", p.Pid(), addr)

	targets := make([]string, o.targets)
	for i := range targets {
		targets[i] = t.url(i)
	}
	d := newDriver(addr, o.interval)
	driveCtx, stopDriving := context.WithCancel(ctx)
	driving := make(chan struct{})
	go func() {
		defer close(driving)
		d.run(driveCtx, targets)
	}()
	// The driver stops before the exporter, so that its last scrapes are not counted as failures.
	defer func() {
		stopDriving()
		<-driving
	}()

	counters := func() (failed, delivered float64, err error) {
		return float64(d.failed.Load()), float64(d.scrapes.Load()), nil
	}
	return measure(ctx, o, p, rec, counters)
}
