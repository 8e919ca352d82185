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

package hub

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// MatchesSatellite reports whether the selection selects sat, which must be in the same namespace.
func (s Selection) MatchesSatellite(sat *v1alpha1.Satellite) bool {
	return s.Matches(sat.Name, sat.Spec.Region, sat.Labels)
}
