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
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// TestIndexedDerivationMatchesScan drives randomized fleets through random changes and checks,
// after every change, that what the indexes derived is what matching every satellite against
// every assignment of its namespace gives.
func TestIndexedDerivationMatchesScan(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			f, _ := newTestFleet()
			m := newModel()
			for step := range 400 {
				op := m.randomChange(rng, f)
				if diff := m.check(f); diff != "" {
					t.Fatalf("after step %d (%s), derivation differs from a scan:\n%s", step, op, diff)
				}
			}
		})
	}
}

// model is what the test asked the fleet to hold, to derive by scanning.
type model struct {
	satellites  map[types.UID]SatelliteInfo
	assignments map[types.UID]AssignmentInfo
	specs       map[types.UID]*v1alpha1.HealthCheckAssignmentSpec
	next        int
}

func newModel() *model {
	return &model{satellites: map[types.UID]SatelliteInfo{}, assignments: map[types.UID]AssignmentInfo{},
		specs: map[types.UID]*v1alpha1.HealthCheckAssignmentSpec{}}
}

var (
	namespaces = []string{"a", "b"}
	regions    = []string{"eu-west-1", "us-east-1", "ap-south-1"}
	tiers      = []string{"edge", "core", "lab"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func randomLabels(rng *rand.Rand) map[string]string {
	l := map[string]string{}
	if rng.IntN(3) > 0 {
		l["tier"] = pick(rng, tiers)
	}
	if rng.IntN(2) == 0 {
		l["zone"] = fmt.Sprint(rng.IntN(3))
	}
	return l
}

func randomSelector(rng *rand.Rand) *metav1.LabelSelector {
	switch rng.IntN(8) {
	case 0:
		return nil
	case 1:
		return &metav1.LabelSelector{} // everything
	case 2:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"tier": pick(rng, tiers)}}
	case 3:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{pick(rng, tiers), pick(rng, tiers)}}}}
	case 4:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{pick(rng, tiers)}}}}
	case 5:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpExists}}}
	case 6:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	default:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"tier": pick(rng, tiers)},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpExists}}}
	}
}

func (m *model) randomSpec(rng *rand.Rand) *v1alpha1.HealthCheckAssignmentSpec {
	spec := &v1alpha1.HealthCheckAssignmentSpec{SatelliteSelector: randomSelector(rng), Paused: rng.IntN(6) == 0}
	if rng.IntN(3) == 0 {
		spec.Satellites = []string{fmt.Sprintf("sat-%d", rng.IntN(m.next+1))}
	}
	if rng.IntN(3) == 0 {
		spec.Regions = []string{pick(rng, regions)}
	}
	return spec
}

func anyKey[V any](rng *rand.Rand, m map[types.UID]V) (types.UID, bool) {
	if len(m) == 0 {
		return "", false
	}
	keys := make([]types.UID, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return pick(rng, keys), true
}

// randomChange applies one random change to the fleet and the model, and names it.
func (m *model) randomChange(rng *rand.Rand, f *Fleet) string {
	switch rng.IntN(7) {
	case 0, 1: // a new Satellite
		m.next++
		info := SatelliteInfo{Key: types.NamespacedName{Namespace: pick(rng, namespaces), Name: fmt.Sprintf("sat-%d", m.next)},
			UID: types.UID(fmt.Sprintf("sat-uid-%d", m.next)), Region: pick(rng, regions), Labels: randomLabels(rng),
			TokenHash: HashToken([]byte(fmt.Sprint(m.next))), HasToken: true}
		m.satellites[info.UID] = info
		f.UpsertSatellite(info)
		return "create satellite " + info.Key.String()
	case 2: // relabel or move a Satellite
		uid, ok := anyKey(rng, m.satellites)
		if !ok {
			return "nothing"
		}
		info := m.satellites[uid]
		info.Labels, info.Region = randomLabels(rng), pick(rng, regions)
		m.satellites[uid] = info
		f.UpsertSatellite(info)
		return "relabel satellite " + info.Key.String()
	case 3: // delete a Satellite
		uid, ok := anyKey(rng, m.satellites)
		if !ok {
			return "nothing"
		}
		info := m.satellites[uid]
		delete(m.satellites, uid)
		f.RemoveSatellite(info.Key)
		return "delete satellite " + info.Key.String()
	case 4, 5: // a new assignment, or a new spec of an existing one
		uid, ok := anyKey(rng, m.assignments)
		var info AssignmentInfo
		if ok && rng.IntN(2) == 0 {
			info = m.assignments[uid]
			info.Generation++
		} else {
			m.next++
			uid = types.UID(fmt.Sprintf("hca-uid-%03d", m.next))
			info = AssignmentInfo{Key: types.NamespacedName{Namespace: pick(rng, namespaces), Name: fmt.Sprintf("hca-%d", m.next)},
				UID: uid, Generation: 1, Wire: protocol.Assignment{ConfigID: string(uid), SystemID: "sys", StrategyID: "http", IntervalSeconds: 30}}
		}
		spec := m.randomSpec(rng)
		sel, err := NewSelection(spec)
		if err != nil {
			panic(err)
		}
		info.Selection, info.Paused = sel, spec.Paused
		m.assignments[uid], m.specs[uid] = info, spec
		if err := f.UpsertAssignment(info); err != nil {
			panic(err)
		}
		return "upsert assignment " + info.Key.String()
	default: // delete an assignment
		uid, ok := anyKey(rng, m.assignments)
		if !ok {
			return "nothing"
		}
		info := m.assignments[uid]
		delete(m.assignments, uid)
		f.RemoveAssignment(info.Key)
		return "delete assignment " + info.Key.String()
	}
}

// check compares every satellite's relayed list, and every assignment's selection, with a scan.
func (m *model) check(f *Fleet) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	gotRelayed, wantRelayed := map[string][]string{}, map[string][]string{}
	gotSelected, wantSelected := map[string][]string{}, map[string][]string{}
	for uid, s := range m.satellites {
		sat := f.satellites[uid]
		if sat == nil {
			return fmt.Sprintf("satellite %s is missing", s.Key)
		}
		gotRelayed[s.Key.String()] = relayedIDs(sat)
		want := []string{}
		for _, a := range m.assignments {
			if a.Key.Namespace == s.Key.Namespace && a.Selection.Matches(s.Key.Name, s.Region, s.Labels) {
				wantSelected[a.Key.String()] = append(wantSelected[a.Key.String()], s.Key.Name)
				if !a.Paused {
					want = append(want, string(a.UID))
				}
			}
		}
		slices.Sort(want)
		wantRelayed[s.Key.String()] = want
	}
	for uid, a := range m.assignments {
		for sat := range f.assignments[uid].selected {
			gotSelected[a.Key.String()] = append(gotSelected[a.Key.String()], sat.key.Name)
		}
	}
	for _, m := range []map[string][]string{gotSelected, wantSelected} {
		for k := range m {
			slices.Sort(m[k])
		}
	}
	if len(f.satellites) != len(m.satellites) || len(f.assignments) != len(m.assignments) {
		return fmt.Sprintf("the fleet holds %d satellites and %d assignments, want %d and %d",
			len(f.satellites), len(f.assignments), len(m.satellites), len(m.assignments))
	}
	return cmp.Diff(wantRelayed, gotRelayed) + cmp.Diff(wantSelected, gotSelected)
}

func relayedIDs(sat *satellite) []string {
	ids := []string{}
	for _, a := range sat.relayed {
		ids = append(ids, a.Wire.ConfigID)
	}
	return ids
}
