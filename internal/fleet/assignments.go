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
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// assignment is one HealthCheckAssignment as the fleet relays it.
type assignment struct {
	AssignmentInfo
	// encoded is Wire as sent to our agent, encoded once for every frame that carries it.
	encoded json.RawMessage
	// revision is new, fleet-wide, whenever encoded or checkstack may have changed: it names
	// this form of the assignment in the frame cache.
	revision uint64
	// check is Wire's config, read once: a Checkstack satellite's results are judged by it.
	check *protocol.CheckConfig
	// checkstack is the assignment as sent to a Checkstack satellite, encoded once, and
	// checkstackRev the revision its configId carries; checkstack is nil when such a satellite
	// cannot carry the check faithfully, and unfit says why.
	checkstack    json.RawMessage
	checkstackRev string
	unfit         string
	// selected are the satellites the selection selects, relayed to unless Paused.
	selected satSet
	// views are the selected satellites' views of the check, from the first result on (or from
	// the persisted status, until they report).
	views    map[*satellite]CheckView
	lastWake time.Time
	// seeds are the persisted views not taken yet, for satellites the fleet had not selected
	// when it first saw the assignment (after a restart, Satellites and assignments arrive in
	// any order); they expire with the first status refresh.
	seeds *seeds
}

// seeds are views read from a persisted status, by satellite name.
type seeds struct {
	views map[string]CheckView
	// healthy says that a selected satellite the status does not list was healthy.
	healthy bool
	until   time.Time
}

// AssignmentInfo is what the HealthCheckAssignmentReconciler tells the fleet of an assignment.
type AssignmentInfo struct {
	Key types.NamespacedName
	UID types.UID
	// Generation is the metadata.generation the selection was compiled from: the fleet selects
	// again only when it changes, since satellites' changes reach it one by one.
	Generation int64
	Selection  Selection
	Wire       protocol.Assignment
	Thresholds v1alpha1.Thresholds
	// Paused assignments select satellites but are relayed to nobody.
	Paused bool
	// Persisted is the status last written. The fleet reads it once, when it first sees the
	// assignment, so that a new manager starts from the persisted views instead of none.
	Persisted *v1alpha1.HealthCheckAssignmentStatus
}

// UpsertAssignment records an assignment, and marks for a push exactly the sessions whose
// relayed list changed: those the assignment selects or selected. It fails only for a wire form
// that cannot be encoded, and then changes nothing.
func (f *Fleet) UpsertAssignment(info AssignmentInfo) error {
	start := f.clock.Now()
	encoded, err := protocol.EncodeAssignment(info.Wire)
	if err != nil {
		return err
	}
	form, err := checkstackForm(info.Wire)
	if err != nil {
		return err
	}
	var fx effects
	defer f.run(&fx)
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := f.namespaceLocked(info.Key.Namespace)
	a, known := f.assignments[info.UID]
	if !known {
		if old := ns.assignments[info.Key.Name]; old != nil {
			f.removeAssignmentLocked(ns, old, &fx) // deleted and re-created under the same name
		}
		a = &assignment{selected: satSet{}}
		f.assignments[info.UID] = a
		ns.assignments[info.Key.Name] = a
	}
	prev := a.AssignmentInfo
	persisted := info.Persisted
	info.Persisted = nil
	a.AssignmentInfo, a.encoded = info, encoded
	a.check, a.checkstack, a.checkstackRev, a.unfit = form.check, form.encoded, form.rev, form.unfit
	reselect := !known || prev.Generation != info.Generation
	wireChanged := known && !sameAssignment(prev.Wire, info.Wire)
	pausedChanged := known && prev.Paused != info.Paused
	if !known || wireChanged {
		f.lastRevision++
		a.revision = f.lastRevision
	}
	if !reselect && !wireChanged && !pausedChanged {
		return nil
	}

	next := a.selected
	changed := false
	if reselect {
		next = ns.selectSatellites(info.Selection)
		for sat := range a.selected {
			if _, keep := next[sat]; !keep {
				delete(a.views, sat)
				if sat.removeRelayed(a) {
					changed = pushLocked(sat, &fx) || changed
				}
			}
		}
	}
	for sat := range next {
		_, had := a.selected[sat]
		switch {
		case info.Paused:
			if sat.removeRelayed(a) {
				changed = pushLocked(sat, &fx) || changed
			}
		case !had || pausedChanged:
			if !had {
				a.seedLocked(sat, start)
			}
			sat.addRelayed(a)
			changed = pushLocked(sat, &fx) || changed
		case wireChanged:
			changed = pushLocked(sat, &fx) || changed
		}
	}
	a.selected = next
	if !known && persisted != nil {
		a.seed(persisted, start, start.Add(f.opts.StatusRefresh))
	}
	if changed {
		f.frames.reset()
		f.observePush(start, &fx)
	}
	return nil
}

// dialectForm is an assignment's form for Checkstack's satellites.
type dialectForm struct {
	check   *protocol.CheckConfig
	encoded json.RawMessage
	rev     string
	unfit   string
}

// checkstackForm translates the wire form for Checkstack's satellites once, when the
// assignment changes, so that sessions only pick the bytes of their dialect.
func checkstackForm(wire protocol.Assignment) (dialectForm, error) {
	var form dialectForm
	cfg := &protocol.CheckConfig{}
	if err := json.Unmarshal(wire.Config, cfg); err != nil {
		form.unfit = "spec.check: the check config cannot be read"
		return form, nil
	}
	form.check = cfg
	cs, err := protocol.ToCheckstack(wire, cfg)
	var u *protocol.UnfitError
	switch {
	case errors.As(err, &u):
		form.unfit = u.Error()
		return form, nil
	case err != nil:
		return form, err
	}
	if form.encoded, err = protocol.EncodeAssignment(cs); err != nil {
		return form, err
	}
	_, form.rev = protocol.SplitRevision(cs.ConfigID)
	return form, nil
}

// pushLocked marks sat's session, if any, for a push; it reports true either way, for the
// caller's "a list changed".
func pushLocked(sat *satellite, fx *effects) bool {
	if sat.conn != nil {
		fx.pushes = append(fx.pushes, sat.conn)
	}
	return true
}

// observePush records the time a change took to derive and hand its pushes to the sessions.
func (f *Fleet) observePush(start time.Time, fx *effects) {
	elapsed := f.clock.Since(start).Seconds()
	fx.metrics = append(fx.metrics, func() { f.metrics.configPush.Observe(elapsed) })
}

// RemoveAssignment forgets a deleted assignment, or one that cannot be relayed, and marks the
// sessions that ran it for a push.
func (f *Fleet) RemoveAssignment(key types.NamespacedName) {
	var fx effects
	defer f.run(&fx)
	start := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := f.namespaces[key.Namespace]
	if ns == nil {
		return
	}
	a := ns.assignments[key.Name]
	if a == nil {
		return
	}
	if f.removeAssignmentLocked(ns, a, &fx) {
		f.observePush(start, &fx)
	}
	f.dropNamespaceIfEmptyLocked(key.Namespace)
}

// removeAssignmentLocked forgets a, and reports whether any relayed list changed.
func (f *Fleet) removeAssignmentLocked(ns *namespace, a *assignment, fx *effects) bool {
	changed := false
	for sat := range a.selected {
		if sat.removeRelayed(a) {
			changed = pushLocked(sat, fx) || changed
		}
	}
	delete(f.assignments, a.UID)
	delete(ns.assignments, a.Key.Name)
	if changed {
		f.frames.reset()
	}
	key := a.Key
	fx.metrics = append(fx.metrics, func() { f.metrics.forgetAssignment(key) })
	return changed
}

// seed reads the views of a persisted status, and gives them to the satellites selected now;
// satellites selected later take theirs in seedLocked until the seeds expire. Satellites the
// status does not list were healthy when it was written, unless the list was truncated; an old
// status lists every satellite.
func (a *assignment) seed(st *v1alpha1.HealthCheckAssignmentStatus, now, until time.Time) {
	sd := &seeds{views: map[string]CheckView{}, until: until,
		healthy: !st.SatellitesTruncated && st.Summary != nil && st.Summary.Healthy > 0}
	for _, e := range st.Satellites {
		v := CheckView{Status: e.Status, Latency: time.Duration(e.LatencyMs) * time.Millisecond, Message: e.Message,
			ConsecutiveFailures: e.ConsecutiveFailures, ConsecutiveSuccesses: e.ConsecutiveSuccesses, Persisted: true, ReceivedAt: now}
		if e.LastRunAt != nil {
			v.LastRunAt = e.LastRunAt.Time
		}
		sd.views[e.Name] = v
	}
	a.seeds = sd
	for sat := range a.selected {
		a.seedLocked(sat, now)
	}
}

// seedLocked gives a newly selected satellite its persisted view, if it has one and the seeds
// have not expired at now.
func (a *assignment) seedLocked(sat *satellite, now time.Time) {
	if a.seeds == nil {
		return
	}
	if !now.Before(a.seeds.until) {
		a.seeds = nil
		return
	}
	if _, reported := a.views[sat]; reported {
		return
	}
	v, listed := a.seeds.views[sat.key.Name]
	switch {
	case listed && v.Status != "":
		a.setView(sat, v)
	case !listed && a.seeds.healthy:
		a.setView(sat, CheckView{Status: v1alpha1.ResultHealthy, Persisted: true, ReceivedAt: now})
	}
}

func (a *assignment) setView(sat *satellite, v CheckView) {
	if a.views == nil {
		a.views = map[*satellite]CheckView{}
	}
	a.views[sat] = v
}

// SatelliteView is one satellite's view of a check, for the assignment's status.
type SatelliteView struct {
	Name, Region string
	CheckView
	// Offline is true when the Satellite is Offline; Stale when its view is older than the stale
	// age (three intervals, at least 2 minutes). Either way it does not count towards the state.
	Offline, Stale bool
}

// RegionCounts counts the satellites of one region by their view.
type RegionCounts struct {
	Region string
	Counts
}

// Report is what an assignment's status shows of its satellites: counts for all of them, and
// the views of those that do not see the check healthy or do not report.
type Report struct {
	// Selected is how many satellites the assignment selects.
	Selected int32
	// Counts counts the reporting satellites by their view, and those that do not report;
	// Counts.State aggregates the reporting ones.
	Counts Counts
	// Regions counts by region, sorted by region.
	Regions []RegionCounts
	// NotHealthy are the views of the selected satellites that do not see the check healthy
	// (including those that have not reported) or do not report, sorted by name, at most the
	// limit asked for.
	NotHealthy []SatelliteView
	// Truncated is true when more satellites than NotHealthy lists would be listed.
	Truncated bool
	// NotRelayed names, sorted and at most MaxNotRelayedNames, the selected satellites whose
	// agent cannot carry the check faithfully (a Checkstack satellite and followRedirects:
	// false, say), so it is not relayed to them; NotRelayedCount counts all of them, and
	// NotRelayedReason says why.
	NotRelayed       []string
	NotRelayedCount  int32
	NotRelayedReason string
	// NextStale is how long until the next view of a reporting satellite turns stale by
	// itself; zero when none will. The reconciler looks again then.
	NextStale time.Duration
}

// MaxNotRelayedNames bounds Report.NotRelayed, which a condition's message lists.
const MaxNotRelayedNames = 10

// Report summarises the satellites' views of the assignment with this UID, listing at most
// maxListed of those that do not see it healthy; ok is false when the fleet does not relay it.
// A view is stale when this manager took its last result more than the stale age ago.
func (f *Fleet) Report(uid types.UID, maxListed int) (r Report, ok bool) {
	now := f.clock.Now()
	type staleSeries struct {
		labels []string
		stale  float64
	}
	var series []staleSeries
	defer func() {
		// After the unlock (deferred calls run last-in first-out), as every metric write.
		for _, s := range series {
			f.metrics.checkStale.WithLabelValues(s.labels...).Set(s.stale)
		}
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.assignments[uid]
	if !ok {
		return Report{}, false
	}
	age := staleAge(a.Wire.IntervalSeconds)
	regions := map[string]*Counts{}
	notHealthy := newSmallest(maxListed, func(x, y SatelliteView) int { return strings.Compare(x.Name, y.Name) })
	notRelayed := newSmallest(MaxNotRelayedNames, strings.Compare)
	for sat := range a.selected {
		view := a.views[sat]
		c := regions[sat.region]
		if c == nil {
			c = &Counts{}
			regions[sat.region] = c
		}
		sv := SatelliteView{Name: sat.key.Name, Region: sat.region, CheckView: view, Offline: sat.offline}
		if !a.Paused && a.checkstack == nil && sat.hasFacts && sat.agent.dialect() == protocol.DialectCheckstack {
			notRelayed.offer(sat.key.Name)
			if view.Status == "" {
				sv.Message = "not relayed to this Checkstack satellite: " + a.unfit
			}
		}
		if view.Status != "" && !view.ReceivedAt.IsZero() {
			staleAt := view.ReceivedAt.Add(age)
			sv.Stale = !now.Before(staleAt)
			if !sv.Stale && !sat.offline && (r.NextStale == 0 || staleAt.Sub(now) < r.NextStale) {
				r.NextStale = staleAt.Sub(now)
			}
			stale := 0.0
			if sv.Stale {
				stale = 1
			}
			// Every view is set, not only those that turned stale: an edit of the interval makes
			// a stale view fresh again without a result.
			series = append(series, staleSeries{labels: []string{a.Key.Namespace, a.Key.Name, a.Wire.SystemID, sat.key.Name, sat.region}, stale: stale})
		}
		switch {
		case sat.offline:
			c.Offline++
			r.Counts.Offline++
		case sv.Stale:
			c.Stale++
			r.Counts.Stale++
		default:
			c.add(view.Status)
			r.Counts.add(view.Status)
		}
		if view.Status != v1alpha1.ResultHealthy || sv.Offline || sv.Stale {
			notHealthy.offer(sv)
		}
	}
	r.Selected = int32(len(a.selected))
	for region, c := range regions {
		r.Regions = append(r.Regions, RegionCounts{Region: region, Counts: *c})
	}
	slices.SortFunc(r.Regions, func(x, y RegionCounts) int { return strings.Compare(x.Region, y.Region) })
	r.NotHealthy, r.Truncated = notHealthy.sorted()
	if notRelayed.offered > 0 {
		r.NotRelayedCount, r.NotRelayedReason = int32(notRelayed.offered), a.unfit
		r.NotRelayed, _ = notRelayed.sorted()
	}
	return r, true
}

func sameAssignment(x, y protocol.Assignment) bool {
	return x.ConfigID == y.ConfigID && x.SystemID == y.SystemID && x.StrategyID == y.StrategyID &&
		x.IntervalSeconds == y.IntervalSeconds && bytes.Equal(x.Config, y.Config)
}
