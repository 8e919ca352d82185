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
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything measured for one fleet size.
type report struct {
	n            int
	replicas     int // manager replicas, the swarm spread over them
	bulk         int
	patches      bool // the swarm advertised config_patch
	facts        string
	logDir       string
	limits       map[string]string
	managerArgs  []string
	figures      map[string]float64
	steadyWrites writeCounts
	pushWrites   map[string]writeCounts
	mgrSteps     []stepResult
	baseSteps    []stepResult
	offline      []time.Duration
	notes, errs  []string
}

func newReport(n int) *report {
	return &report{n: n, limits: map[string]string{}, figures: map[string]float64{}, pushWrites: map[string]writeCounts{}}
}

func (r *report) set(k string, v float64) { r.figures[k] = v }

// get returns a figure, NaN when it was not measured.
func (r *report) get(k string) float64 {
	if v, ok := r.figures[k]; ok {
		return v
	}
	return math.NaN()
}

func (r *report) window(w windowResult, who string) {
	r.set(who+".windowS", w.seconds)
	r.set(who+".beats", float64(w.beats))
	r.set(who+".cpuS", w.cpu.Seconds())
	r.set(who+".connKiB", float64(w.rssKiB))
	if w.beats > 0 {
		r.set(who+".cpuPerBeatUs", float64(w.cpu.Microseconds())/float64(w.beats))
		if w.controlPlaneCPU > 0 {
			r.set(who+".cpCPUPerBeatUs", float64(w.controlPlaneCPU.Microseconds())/float64(w.beats))
		}
	}
}

// row is one line of the summary.
type row struct {
	name, mgr, base, ratio, goal, met string
}

func num(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func met(ok bool, v float64) string {
	if math.IsNaN(v) && !ok {
		return "not measured"
	}
	if ok {
		return "yes"
	}
	return "**no**"
}

// bestRate is the highest rate of steps that passed.
func bestRate(steps []stepResult) float64 {
	best := math.NaN()
	for _, s := range steps {
		if stepPassed(s) {
			best = s.Rate
		}
	}
	return best
}

// writeRows are the resources reported apart; the rest is summed as "other".
var writeRows = []struct{ key, name string }{
	{"satellites/status", "Satellite status"},
	{"healthcheckassignments/status", "HealthCheckAssignment status"},
	{"secrets", "Secrets"},
	{"events", "Events"},
	{"leases", "presence Leases"},
	{leaderElectionLeases, "the leader Lease (all replicas)"},
}

func (r *report) rows() []row {
	n := float64(r.n)
	g := r.get
	var rows []row
	add := func(x row) { rows = append(rows, x) }

	add(row{name: "all authenticated after dialling at once (s)", mgr: num(g("mgr.connect"), "%.1f"), base: num(g("base.connect"), "%.1f"), ratio: ratio(g("mgr.connect"), g("base.connect"))})
	add(row{name: "dials / of them answered 503", mgr: num(g("mgr.dials"), "%.0f") + " / " + num(g("mgr.refused"), "%.0f"), base: num(g("base.dials"), "%.0f") + " / 0"})
	online := g("mgr.online")
	add(row{name: "all Satellites Online (s)", mgr: num(online, "%.1f"), goal: "≤ 60 s", met: met(online <= 60, online)})

	mPer := (g("mgr.connKiB") - g("mgr.idleKiB")) / n
	bPer := (g("base.connKiB") - g("base.idleKiB")) / n
	add(row{name: "RSS, none connected (MiB)", mgr: num(g("mgr.idleKiB")/1024, "%.1f"), base: num(g("base.idleKiB")/1024, "%.1f")})
	add(row{name: "RSS, all connected (MiB)", mgr: num(g("mgr.connKiB")/1024, "%.1f"), base: num(g("base.connKiB")/1024, "%.1f")})
	add(row{name: "RSS per connection (KiB)", mgr: num(mPer, "%.1f"), base: num(bPer, "%.1f"), ratio: ratio(mPer, bPer), goal: "≤ 1.5x baseline",
		met: met(mPer/bPer <= 1.5, mPer/bPer)})
	add(row{name: "RSS per Satellite never connected (KiB)", mgr: num(g("mgr.idleKiB")/n, "%.1f"), goal: "(whole process ÷ N; an upper bound)"})
	add(row{name: "CPU per heartbeat (µs)", mgr: num(g("mgr.cpuPerBeatUs"), "%.0f"), base: num(g("base.cpuPerBeatUs"), "%.0f"), ratio: ratio(g("mgr.cpuPerBeatUs"), g("base.cpuPerBeatUs"))})
	add(row{name: "kube-apiserver+etcd CPU per heartbeat (µs)", mgr: num(g("mgr.cpCPUPerBeatUs"), "%.0f")})

	minutes := g("mgr.windowS") / 60
	other := 0
	for k, v := range r.steadyWrites {
		known := false
		for _, w := range writeRows {
			known = known || k == w.key
		}
		if !known {
			other += v
		}
	}
	for _, w := range writeRows {
		v := float64(r.steadyWrites[w.key]) / n / minutes
		x := row{name: "writes/satellite/min: " + w.name, mgr: num(v, "%.3f")}
		if r.steadyWrites == nil {
			x.mgr = "n/a"
		}
		add(x)
	}
	add(row{name: "writes/satellite/min: other (incl. failed)", mgr: num(float64(other)/n/minutes, "%.3f")})
	// A satellite's steady writes: its presence Lease's renewals and its status's refreshes.
	perInterval := float64(r.steadyWrites["satellites/status"]+r.steadyWrites["leases"]) / n / g("mgr.windowS") * statusReportInterval(r.managerArgs).Seconds()
	if r.steadyWrites == nil {
		perInterval = math.NaN()
	}
	add(row{name: "writes per satellite per report interval (presence Lease and status)", mgr: num(perInterval, "%.2f"), goal: "≤ 1", met: met(perInterval <= 1, perInterval)})

	pushRow := func(name, key string) {
		p99 := g(key + ".p99")
		ok := p99 <= 1000 && g(key+".missing") == 0
		cell := num(g(key+".p50"), "%.0f") + " / " + num(p99, "%.0f") + " ms"
		if m := g(key + ".missing"); m > 0 {
			cell += fmt.Sprintf(" (%.0f of %d never got it)", m, r.n)
			p99 = math.Inf(1)
		}
		add(row{name: name, mgr: cell, goal: "p99 ≤ 1 s", met: met(ok, p99)})
		if w, found := r.pushWrites[key]; found {
			// The steady state goes on writing statuses meanwhile; what the change caused is the
			// excess over the steady rate for as long.
			steady := float64(r.steadyWrites["satellites/status"]) / g("mgr.windowS") * g(key+".writeWindowS")
			add(row{name: "  manager writes from the create until 5 s after", mgr: w.String() + " (steady state: " + num(steady, "%.0f") + " Satellite status writes in as long)"})
		}
	}
	pushRow("push p50 / p99: one assignment selecting all", "push")
	add(row{name: fmt.Sprintf("create %d assignments: all clients have all (s)", r.bulk), mgr: num(g("bulkCreate"), "%.1f"), goal: "≤ 30 s", met: met(g("bulkCreate") <= 30, g("bulkCreate"))})
	pushRow(fmt.Sprintf("push p50 / p99: one more with %d existing", r.bulk), "push100")
	add(row{name: fmt.Sprintf("delete the %d: all clients' lists back (s)", r.bulk), mgr: num(g("bulkDelete"), "%.1f"), goal: "≤ 30 s", met: met(g("bulkDelete") <= 30, g("bulkDelete"))})

	mr, br := bestRate(r.mgrSteps), bestRate(r.baseSteps)
	add(row{name: "result ingest rate at ack p99 ≤ 100 ms (/s)", mgr: num(mr, "%.0f"), base: num(br, "%.0f"), ratio: ratio(mr, br), goal: "(highest passing step)"})
	if len(r.offline) > 0 || !math.IsNaN(g("offline.missing")) {
		add(row{name: "offline detection minus threshold p50 / max (ms)", mgr: num(ms(percentile(r.offline, 50)), "%.0f") + " / " + num(ms(percentile(r.offline, 100)), "%.0f") +
			fmt.Sprintf(" (%d sampled, %s missed)", len(r.offline), num(g("offline.missing"), "%.0f"))})
	}
	if r.replicas > 1 {
		add(row{name: "restart of the leader: its satellites all connected to the others (s)", mgr: num(g("restart.auth"), "%.1f") +
			fmt.Sprintf(" (%s moved)", num(g("restart.moved"), "%.0f")), goal: "≤ 30 s", met: met(g("restart.auth") <= 30, g("restart.auth"))})
	} else {
		add(row{name: "restart: all re-authenticated (s)", mgr: num(g("restart.auth"), "%.1f")})
		add(row{name: "restart: all Online in a new session (s)", mgr: num(g("restart.online"), "%.1f")})
	}
	add(row{name: "restart: SatelliteOffline Events / Offline transitions", mgr: num(g("restart.events"), "%.0f") + " / " + num(g("restart.transitions"), "%.0f")})
	if !math.IsNaN(g("outage.exited")) {
		interval := statusReportInterval(r.managerArgs)
		add(row{name: "API outage: manager exits / sessions ended / Offline+Online Events", mgr: num(g("outage.exited"), "%.0f") + " / " + num(g("outage.closed"), "%.0f") + " / " + num(g("outage.events"), "%.0f"),
			goal: "0 / 0 / 0", met: met(g("outage.exited") == 0 && g("outage.closed") == 0 && g("outage.events") == 0, g("outage.closed"))})
		add(row{name: "API outage: every replica Ready after the API's return (s)", mgr: num(g("outage.ready"), "%.1f")})
		add(row{name: "API outage: every presence Lease renewed after the API's return (s)", mgr: num(g("outage.fresh"), "%.1f"),
			goal: fmt.Sprintf("≤ %.0f s (2 report intervals)", (2 * interval).Seconds()), met: met(g("outage.fresh") <= (2*interval).Seconds(), g("outage.fresh"))})
	}
	add(row{name: fmt.Sprintf("flood: upgrades one address held open at most / refused (of %d dialling)", floodConns),
		mgr: num(g("flood.open"), "%.0f") + " / " + num(g("flood.refused"), "%.0f")})
	add(row{name: "flood: a satellite from another address authenticated after (s)", mgr: num(g("flood.probe"), "%.1f"),
		goal: "≤ 10 s", met: met(g("flood.probe") <= 10, g("flood.probe"))})
	return rows
}

// statusReportInterval is --status-report-interval among the manager's flags, 60 s by default.
func statusReportInterval(args []string) time.Duration {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--status-report-interval="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
	}
	return 60 * time.Second
}

func (r *report) print(w io.Writer) {
	_, _ = fmt.Fprintf(w, "N = %d, %d manager replicas\n", r.n, max(r.replicas, 1))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "figure\tmanager\tbaseline\tratio\tgoal\tmet")
	for _, x := range r.rows() {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.name, x.mgr, dash(x.base), dash(x.ratio), dash(x.goal), strings.Trim(dash(x.met), "*"))
	}
	_ = tw.Flush()
	for _, n := range r.notes {
		_, _ = fmt.Fprintln(w, "note:", n)
	}
	for _, e := range r.errs {
		_, _ = fmt.Fprintln(w, "FAILED:", e)
	}
	_, _ = fmt.Fprintln(w)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeMarkdown(path string, reports []*report) error {
	var b strings.Builder
	for _, r := range reports {
		fmt.Fprintf(&b, "### N = %d, %d manager replicas\n\n", r.n, max(r.replicas, 1))
		fmt.Fprintf(&b, "- machine: %s\n", r.facts)
		fmt.Fprintf(&b, "- manager flags: `%s`\n", strings.Join(r.managerArgs, " "))
		fmt.Fprintf(&b, "- the swarm advertises config_patch: %v\n", r.patches)
		keys := make([]string, 0, len(r.limits))
		for k := range r.limits {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var lim []string
		for _, k := range keys {
			lim = append(lim, k+" "+r.limits[k])
		}
		fmt.Fprintf(&b, "- open files, soft/hard: %s\n", strings.Join(lim, "; "))
		fmt.Fprintf(&b, "- setup: %d Satellites created in %s s, all token Secrets after %s s, all reconciled after %s s\n\n",
			r.n, num(r.get("create"), "%.1f"), num(r.get("tokens"), "%.1f"), num(r.get("reconciled"), "%.1f"))
		b.WriteString("| figure | manager | baseline | ratio | goal | met |\n|---|---|---|---|---|---|\n")
		for _, x := range r.rows() {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimSpace(x.name), x.mgr, dash(x.base), dash(x.ratio), dash(x.goal), dash(x.met))
		}
		b.WriteString("\n")
		for _, s := range []struct {
			who   string
			steps []stepResult
		}{{"manager", r.mgrSteps}, {"baseline", r.baseSteps}} {
			if len(s.steps) == 0 {
				continue
			}
			fmt.Fprintf(&b, "Result ramp, %s:\n\n| rate/s | written | achieved/s | acked | skipped | ack p50 ms | ack p99 ms | max ms | passed |\n|---|---|---|---|---|---|---|---|---|\n", s.who)
			for _, st := range s.steps {
				fmt.Fprintf(&b, "| %.0f | %d | %.0f | %d | %d | %.1f | %.1f | %.1f | %v |\n", st.Rate, st.Written, st.Achieved, st.Acked, st.Skipped, st.P50Ms, st.P99Ms, st.MaxMs, stepPassed(st))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Manager writes in the steady window (%s s): %s\n\n", num(r.get("mgr.windowS"), "%.0f"), r.steadyWrites)
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- note: %s\n", n)
		}
		for _, e := range r.errs {
			fmt.Fprintf(&b, "- FAILED: %s\n", e)
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
