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
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// CheckView is one satellite's view of one check: its last result and, after the failure and
// success thresholds, the status it stands for.
// Its JSON form, with short keys, is what a presence Lease carries (PublishedView).
type CheckView struct {
	// Status is the view after the thresholds; empty until a result decides it.
	Status               v1alpha1.ResultStatus `json:"s,omitempty"`
	Latency              time.Duration         `json:"l,omitempty"`
	Message              string                `json:"m,omitempty"`
	LastRunAt            time.Time             `json:"r"`
	ConsecutiveFailures  int32                 `json:"f,omitempty"`
	ConsecutiveSuccesses int32                 `json:"k,omitempty"`
	// Persisted is true for a view read from the persisted status, which stands until the
	// satellite reports to this manager.
	Persisted bool `json:"-"`
	// ReceivedAt is when this manager took the view's last result, by its own clock (a
	// satellite's clock may be off); for a persisted view, when this manager read it, so that a
	// new manager gives every satellite the full stale age to report again.
	ReceivedAt time.Time `json:"t"`
}

// minStaleAge is the least age at which a view is stale: a check run every 5 s must not turn
// stale over one lost result and a reconnect.
const minStaleAge = 2 * time.Minute

// staleAge is the age of a view at which it no longer stands for the satellite's view: three
// intervals of the check, at least minStaleAge.
func staleAge(intervalSeconds int) time.Duration {
	return max(3*time.Duration(intervalSeconds)*time.Second, minStaleAge)
}

// nextView folds a result into a view. A satellite turns unhealthy after failureThreshold
// failures in a row, and back after successThreshold successes in a row; a result that passes
// otherwise sets the view to its own status (healthy or degraded).
func nextView(prev CheckView, r *protocol.Result, th v1alpha1.Thresholds, now time.Time) CheckView {
	v := prev
	v.Persisted = false
	v.LastRunAt = r.ExecutedAt
	v.ReceivedAt = now
	v.Latency = 0
	if r.LatencyMs != nil {
		v.Latency = time.Duration(*r.LatencyMs * float64(time.Millisecond))
	} else if r.Result != nil {
		v.Latency = time.Duration(r.Result.LatencyMs * float64(time.Millisecond))
	}
	v.Message = ""
	if r.Result != nil {
		v.Message = r.Result.Message
	}
	failure, success := max(th.FailureThreshold, 1), max(th.SuccessThreshold, 1)
	if r.Status == v1alpha1.ResultUnhealthy {
		v.ConsecutiveFailures++
		v.ConsecutiveSuccesses = 0
		if v.ConsecutiveFailures >= failure {
			v.Status = v1alpha1.ResultUnhealthy
		}
		return v
	}
	v.ConsecutiveSuccesses++
	v.ConsecutiveFailures = 0
	if prev.Status != v1alpha1.ResultUnhealthy || v.ConsecutiveSuccesses >= success {
		v.Status = r.Status
	}
	return v
}

// Counts counts satellites by their view of a check; a satellite whose view no result has
// decided yet is Unknown. Satellites that do not report, because they are Offline or their view
// is stale, are counted as such and in none of the four views: the quorum counts only the
// satellites that report.
type Counts struct {
	Healthy, Degraded, Unhealthy, Unknown int32
	// Offline counts the satellites whose Satellite is Offline; Stale those that are Online but
	// whose view is older than its stale age.
	Offline, Stale int32
}

// Reporting is how many satellites the four views count.
func (c Counts) Reporting() int32 { return c.Healthy + c.Degraded + c.Unhealthy + c.Unknown }

func (c *Counts) add(s v1alpha1.ResultStatus) {
	switch s {
	case v1alpha1.ResultHealthy:
		c.Healthy++
	case v1alpha1.ResultDegraded:
		c.Degraded++
	case v1alpha1.ResultUnhealthy:
		c.Unhealthy++
	default:
		c.Unknown++
	}
}

// State aggregates the reporting satellites' views with the quorum: Unhealthy when at least
// quorum satellites see it unhealthy (a quorum larger than the reporting satellites counts as all
// of them, so a misconfigured quorum or an outage of satellites cannot hide an outage of the
// system), Degraded when some see it unhealthy or degraded, Healthy when all that reported see
// it healthy, Unknown before any report and while no satellite reports. Offline and stale
// satellites never make a check Unhealthy: their targets are not to blame.
func (c Counts) State(quorum int32) v1alpha1.CheckState {
	q := max(min(quorum, c.Reporting()), 1)
	switch {
	case c.Unhealthy >= q:
		return v1alpha1.CheckUnhealthy
	case c.Unhealthy > 0 || c.Degraded > 0:
		return v1alpha1.CheckDegraded
	case c.Healthy > 0:
		return v1alpha1.CheckHealthy
	default:
		return v1alpha1.CheckUnknown
	}
}
