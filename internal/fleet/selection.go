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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// Selection is which satellites of its namespace an assignment selects: any of the names, the
// label selector or the regions selects a satellite.
type Selection struct {
	names    sets.Set[string]
	selector labels.Selector // nil when the assignment has no satelliteSelector
	regions  sets.Set[string]
}

// NewSelection compiles the selection of an assignment spec once, so that matching it against
// many satellites is cheap.
func NewSelection(spec *v1alpha1.HealthCheckAssignmentSpec) (Selection, error) {
	s := Selection{names: sets.New(spec.Satellites...), regions: sets.New(spec.Regions...)}
	if spec.SatelliteSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(spec.SatelliteSelector)
		if err != nil {
			return Selection{}, err
		}
		s.selector = sel
	}
	return s, nil
}

// Matches reports whether the selection selects a satellite of the same namespace.
func (s Selection) Matches(name, region string, satLabels map[string]string) bool {
	return s.names.Has(name) || s.regions.Has(region) ||
		(s.selector != nil && s.selector.Matches(labels.Set(satLabels)))
}

// satSet is a set of satellites.
type satSet map[*satellite]struct{}

// namespace indexes the satellites and assignments of one namespace, so that an assignment
// finds the satellites it selects without matching every one, and a satellite finds the
// assignments that could select it without looking beyond its namespace.
type namespace struct {
	satellites  map[string]*satellite // by name
	byRegion    map[string]satSet
	byLabel     map[string]map[string]satSet // label key, then value
	assignments map[string]*assignment       // by name
}

func newNamespace() *namespace {
	return &namespace{
		satellites:  map[string]*satellite{},
		byRegion:    map[string]satSet{},
		byLabel:     map[string]map[string]satSet{},
		assignments: map[string]*assignment{},
	}
}

// index adds sat's region and labels to the indexes.
func (ns *namespace) index(sat *satellite) {
	addTo(ns.byRegion, sat.region, sat)
	for k, v := range sat.labels {
		values := ns.byLabel[k]
		if values == nil {
			values = map[string]satSet{}
			ns.byLabel[k] = values
		}
		addTo(values, v, sat)
	}
}

// unindex removes sat's region and labels from the indexes.
func (ns *namespace) unindex(sat *satellite) {
	removeFrom(ns.byRegion, sat.region, sat)
	for k, v := range sat.labels {
		if values := ns.byLabel[k]; values != nil {
			removeFrom(values, v, sat)
			if len(values) == 0 {
				delete(ns.byLabel, k)
			}
		}
	}
}

func addTo(m map[string]satSet, key string, sat *satellite) {
	set := m[key]
	if set == nil {
		set = satSet{}
		m[key] = set
	}
	set[sat] = struct{}{}
}

func removeFrom(m map[string]satSet, key string, sat *satellite) {
	if set := m[key]; set != nil {
		delete(set, sat)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// selectSatellites returns the satellites of the namespace that s selects, through the indexes.
func (ns *namespace) selectSatellites(s Selection) satSet {
	out := satSet{}
	for name := range s.names {
		if sat := ns.satellites[name]; sat != nil {
			out[sat] = struct{}{}
		}
	}
	for region := range s.regions {
		for sat := range ns.byRegion[region] {
			out[sat] = struct{}{}
		}
	}
	if s.selector == nil {
		return out
	}
	buckets, all := ns.candidates(s.selector)
	if all {
		for _, sat := range ns.satellites {
			if s.selector.Matches(labels.Set(sat.labels)) {
				out[sat] = struct{}{}
			}
		}
		return out
	}
	for _, bucket := range buckets {
		for sat := range bucket {
			if s.selector.Matches(labels.Set(sat.labels)) {
				out[sat] = struct{}{}
			}
		}
	}
	return out
}

// candidates narrows a label selector to the index buckets of its most selective requirement
// that names values a satellite must have (=, ==, in, exists). all is true when no requirement
// does (an empty selector, or only !=, notin, !key, gt, lt): then every satellite is a candidate.
func (ns *namespace) candidates(sel labels.Selector) (buckets []satSet, all bool) {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil, false // labels.Nothing()
	}
	best, bestSize := []satSet(nil), -1
	for _, r := range reqs {
		var bs []satSet
		size := 0
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			for v := range r.Values() {
				if b := ns.byLabel[r.Key()][v]; b != nil {
					bs = append(bs, b)
					size += len(b)
				}
			}
		case selection.Exists:
			for _, b := range ns.byLabel[r.Key()] {
				bs = append(bs, b)
				size += len(b)
			}
		default:
			continue
		}
		if bestSize < 0 || size < bestSize {
			best, bestSize = bs, size
		}
	}
	if bestSize < 0 {
		return nil, true
	}
	return best, false
}
